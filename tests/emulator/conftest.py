"""Fixtures of the emulator tests: a fake Magento root with or without the HTTP server, the shipped bridge."""

import importlib.util
import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
EMULATOR_DIR = os.path.join(REPO, 'extensions', 'emulator')
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)


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


@pytest.fixture
def running_emulator(tmp_path):
    """A started emulator: dict with magento_root, base_url, php_executable; stopped afterwards."""
    try:
        from magento_emulator import http_server  # noqa: F401
    except ImportError:
        pytest.skip('magento_emulator.http_server is not there yet')
    from magento_emulator import cli
    root = str(tmp_path / 'magento')
    info = cli.start(root)
    try:
        yield info
    finally:
        cli.stop(root)
