"""What only the real PHP shows of the shipped bridge: PHP itself stopping inside Magento's bootstrap."""

import json
import os
import subprocess

import pytest

from magento_emulator import realphp, store

PHP = realphp.find()
pytestmark = pytest.mark.skipif(PHP is None, reason='no PHP 7.4+ with pdo_sqlite and sodium (scripts/bootstrap.sh installs them)')

# What Magento's app/bootstrap.php does without vendor/ (composer install never ran): print a page and exit(1).
NO_VENDOR = """<?php
echo "<div>Autoload error</div><p>Vendor autoload is not found. Please run 'composer install' under application root directory.</p>";
exit(1);
"""


def ask(root, script, *actions):
    done = subprocess.run([os.path.join(root, 'bin', 'php'), script], check=False, capture_output=True, text=True,
                          timeout=60, input=json.dumps({'protocol': 1, 'magento_root': root, 'actions': list(actions)}))
    return done.returncode, json.loads(done.stdout)


def test_an_exit_inside_magentos_bootstrap_is_answered_as_a_bootstrap_error(emulator_root, bridge_script):
    with open(os.path.join(emulator_root, 'app', 'bootstrap.php'), 'w') as handle:
        handle.write(NO_VENDOR)
    code, response = ask(emulator_root, bridge_script, {'action': 'system.info'})
    assert code == 1
    assert response == {'protocol': 1, 'ok': False, 'magento_version': None, 'results': [],
                        'error': {'index': 0, 'action': 'system.info', 'kind': 'bootstrap', 'exception': None,
                                  'message': "<div>Autoload error</div><p>Vendor autoload is not found. Please run "
                                             "'composer install' under application root directory.</p>"}}


def test_an_exception_that_magento_does_not_localise_is_internal(emulator_root, bridge_script):
    code, response = ask(emulator_root, bridge_script, {'action': 'integration.create', 'name': 'x', 'email': '',
                                                        'endpoint': '', 'identity_link_url': '', 'all_resources': True,
                                                        'resources': []})
    assert code == 0, response
    conn = store.connect(emulator_root)
    conn.execute('DROP TABLE oauth_token')   # a broken schema: the database layer's own exception
    conn.close()
    code, response = ask(emulator_root, bridge_script, {'action': 'system.info'},
                         {'action': 'integration.get', 'name': 'x'})
    assert code == 1 and len(response['results']) == 1
    error = response['error']
    assert (error['index'], error['kind'], error['exception']) == (1, 'internal', 'PDOException')
    assert 'no such table: oauth_token' in error['message']
