"""Fixtures of the emulator tests: a fake Magento root with or without the HTTP server."""

import os
import sys

import pytest

EMULATOR_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'extensions', 'emulator'))
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)


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
