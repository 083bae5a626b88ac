"""Fixtures of the emulator tests: a fake Magento root with or without the HTTP server."""

import os
import sys

import pytest

EMULATOR_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'extensions', 'emulator'))
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)

# Every module of the emulator, imported up front: one that fails to import fails the whole suite, never skips tests.
from magento_emulator import (  # noqa: E402,F401 pylint: disable=wrong-import-position,unused-import
    acl, bridge, cache, cli, cli_magento, config, crypto, fakephp, faults, http_server, integrations, oauth, phparray, store,
)


@pytest.fixture
def emulator_root(tmp_path):
    """A fake Magento root (env.php, bin/php, bin/magento, database), no HTTP server."""
    from magento_emulator import cli
    return cli.create_root(str(tmp_path / 'magento'), base_url='http://127.0.0.1:8080/')


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
