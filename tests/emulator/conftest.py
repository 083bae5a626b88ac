"""Fixtures of the emulator tests: a fake Magento root with or without the HTTP server, the shipped bridge."""

import http.server
import importlib.util
import os
import sys
import threading

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
EMULATOR_DIR = os.path.join(REPO, 'extensions', 'emulator')
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)

# Every module of the emulator, imported up front: one that fails to import fails the whole suite, never skips tests.
from magento_emulator import (  # noqa: E402,F401 pylint: disable=wrong-import-position,unused-import
    acl, bridge, cache, cli, cli_magento, config, crypto, fakephp, faults, http_server, integrations, oauth, phparray, store,
)


def bridge_source():
    """BRIDGE_SOURCE of plugins/module_utils/_bridge_php.py: the PHP bridge the collection ships."""
    spec = importlib.util.spec_from_file_location(
        '_bridge_php', os.path.join(REPO, 'plugins', 'module_utils', '_bridge_php.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BRIDGE_SOURCE


@pytest.fixture
def bridge_script(tmp_path):
    """The shipped bridge, written as the collection's transport writes it (run it with a root's bin/php)."""
    path = tmp_path / 'commerceops-magento-bridge.php'
    path.write_text(bridge_source(), encoding='utf-8')
    return str(path)


@pytest.fixture
def emulator_root(tmp_path):
    """A fake Magento root (env.php, bin/php, bin/magento, database), no HTTP server."""
    from magento_emulator import cli
    return cli.create_root(str(tmp_path / 'magento'), base_url='http://127.0.0.1:8080/')


class ConsumerEndpoint(http.server.BaseHTTPRequestHandler):
    """A third party's endpoint: records every POST as (path, header pairs, body) and answers ``status``."""

    captured = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.captured.append((self.path, list(self.headers.items()), body.decode()))
        self.send_response(self.status)
        self.send_header('Location', '/moved?y=2')
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def consumer_endpoint():
    """A running ConsumerEndpoint (its class attributes say what it got and what it answers)."""
    ConsumerEndpoint.captured = []
    ConsumerEndpoint.status = 200
    server = http.server.HTTPServer(('127.0.0.1', 0), ConsumerEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def running_emulator(tmp_path):
    """A started emulator: dict with magento_root, base_url, php_executable; stopped afterwards."""
    from magento_emulator import cli
    root = str(tmp_path / 'magento')
    info = cli.start(root)
    try:
        yield info
    finally:
        cli.stop(root)
