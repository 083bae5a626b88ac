"""The files Magento writes on bootstrap, with the owner of the PHP process (SPEC 15), and its own log (SPEC 4.7)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import bridge_source
from magento_emulator import bridge, cli, files, integrations, store

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'field'))
import hostusers  # noqa: E402


def generated(root):
    code = os.path.join(root, 'generated', 'code')
    return sorted(os.path.relpath(os.path.join(d, n), code) for d, dirs, names in os.walk(code) for n in names)


def test_a_bridge_run_on_an_emptied_generated_folder_writes_the_generated_classes(emulator_root):
    shutil.rmtree(os.path.join(emulator_root, 'generated'))
    response, code = bridge.execute(json.dumps({'protocol': 1, 'magento_root': emulator_root,
                                                'actions': [{'action': 'system.info'}]}))
    assert code == 0, response
    assert generated(emulator_root) == sorted(files.GENERATED_CLASSES)
    assert os.path.isfile(os.path.join(emulator_root, 'var', 'cache', 'config', files.BOOTSTRAP_CACHE_KEY + '.json'))
    assert not [n for d, dirs, names in os.walk(emulator_root) for n in names if '.php.' in n], 'a partial file was left'


def test_bin_magento_boots_magento_too(emulator_root):
    shutil.rmtree(os.path.join(emulator_root, 'generated'))
    done = subprocess.run([os.path.join(emulator_root, 'bin', 'magento'), 'cache:status'], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert generated(emulator_root) == sorted(files.GENERATED_CLASSES)


def test_each_new_access_token_is_logged_in_plain_text_as_magento_does(emulator_root):
    conn = store.connect(emulator_root)
    try:
        created = integrations.create(conn, emulator_root, 'logged', all_resources=True)
        integrations.activate(conn, emulator_root, created['integration_id'])
        first = integrations.credentials(conn, emulator_root, integrations.load(conn, created['integration_id']))
        integrations.activate(conn, emulator_root, created['integration_id'], reauthorize=True)
        second = integrations.credentials(conn, emulator_root, integrations.load(conn, created['integration_id']))
    finally:
        conn.close()
    for name in ('system.log', 'debug.log'):
        with open(os.path.join(emulator_root, 'var', 'log', name)) as handle:
            lines = handle.read().splitlines()
        assert len(lines) == 2
        for line, credentials in zip(lines, (first, second)):
            assert line.startswith('[') and '] main.INFO: Request token %s was exchanged to obtain access token for ' \
                'consumer ' % credentials['access_token'] in line and line.endswith(' [] []')
            assert credentials['access_token_secret'] not in line


@pytest.fixture
def owned_root():
    """A fake root owned by the store owner of the field tests, reachable by every user."""
    if hostusers.why_not():
        pytest.skip(hostusers.why_not())
    user = hostusers.ensure_user()
    base = hostusers.public_dir('cmb-emulator-owned-')
    root = cli.create_root(os.path.join(base, 'magento'), base_url='http://127.0.0.1:8080/')
    hostusers.chown_tree(base, user)
    yield root
    shutil.rmtree(base)


def php_as(user, root, args, stdin=''):
    return subprocess.run([hostusers.SYSTEM_PYTHON, os.path.join(root, 'bin', 'php')] + args, input=stdin,
                          capture_output=True, text=True, check=False, timeout=60, user=user.pw_uid, group=user.pw_gid,
                          extra_groups=[], cwd='/')


def test_a_user_who_cannot_write_var_cache_fails_with_zend_caches_message(owned_root):
    other = hostusers.ensure_user('nobody')
    script = os.path.join(os.path.dirname(owned_root), 'commerceops-magento-bridge.php')
    with open(script, 'w') as handle:
        handle.write(bridge_source())   # run by the real PHP over the stand-ins, or by the Python copy (PHP=none)
    os.chmod(script, 0o644)
    os.chmod(os.path.join(owned_root, 'app', 'etc', 'env.php'), 0o644)  # readable: the cache is the obstacle here
    done = php_as(other, owned_root, [script], json.dumps({'protocol': 1, 'magento_root': owned_root,
                                                           'actions': [{'action': 'system.info'}]}))
    error = json.loads(done.stdout)['error']
    assert done.returncode == 1
    assert (error['kind'], error['exception']) == ('bootstrap', 'Zend_Cache_Exception')
    assert error['message'] == 'cache_dir "%s/var/cache/" is not writable' % owned_root
    done = php_as(other, owned_root, [os.path.join(owned_root, 'bin', 'magento'), 'cache:status'])
    assert (done.returncode, done.stdout) == (1, 'cache_dir "%s/var/cache/" is not writable\n' % owned_root)


def test_files_written_on_bootstrap_belong_to_the_process_owner(owned_root):
    user = hostusers.ensure_user()
    done = subprocess.run([os.path.join(owned_root, 'bin', 'magento'), 'cache:status'], capture_output=True, text=True,
                          check=False, timeout=60)  # as root
    assert done.returncode == 0, done.stderr
    foreign = hostusers.foreign_files(owned_root, user)
    assert 'generated/code (root)' in foreign and 'generated/code/Magento/Framework/App/Http/Interceptor.php (root)' in foreign


def test_the_digests_of_the_tests_skip_exactly_what_a_bootstrap_writes_in_var_cache():
    # tests/reliability/store_checks.py and magento_ci_state do not count Magento's own bootstrap cache entry as a
    # task's write; they name it by path, which must stay this one
    assert cache_entry_path('/r') == '/r/var/cache/config/global_primary_adminhtml.json'


def cache_entry_path(root):
    from magento_emulator import cache
    return cache.entry_path(root, 'config', files.BOOTSTRAP_CACHE_KEY)
