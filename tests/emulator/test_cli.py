"""The fake root, the fake php and magento-emulator start/stop/status."""

import datetime
import json
import os
import stat
import subprocess
import sys
import urllib.request

import pytest

# A module of the emulator that fails to import fails these tests (and conftest.py the suite): never a skip.
from magento_emulator import cache, cli, cli_magento, crypto, fakephp, phparray, store

LAUNCHER = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'extensions', 'emulator',
                                        'magento-emulator'))


def test_root_layout(emulator_root):
    for rel in ('app/bootstrap.php', 'app/etc/env.php', 'app/etc/config.php', 'var/magento.sqlite', 'var/cache',
                'var/log'):
        assert os.path.exists(os.path.join(emulator_root, rel)), rel
    for rel in ('bin/php', 'bin/magento'):
        path = os.path.join(emulator_root, rel)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
        with open(path) as handle:
            assert handle.readline().strip() == '#!' + sys.executable


def test_env_php(emulator_root):
    with open(os.path.join(emulator_root, 'app/etc/env.php')) as handle:
        text = handle.read()
    assert text.startswith('<?php\nreturn [\n')
    assert "'frontName' => 'admin'" in text and "'MAGE_MODE' => 'default'" in text
    assert text.count("' => 1,\n") + text.count("' => 1\n") >= 15
    key = crypto.read_key_string(emulator_root)
    assert key.startswith('base64') and len(key) == 50
    data = phparray.load(text)
    assert data['crypt']['key'] == key
    assert list(data['cache_types']) == list(cache.TYPE_IDS)
    assert all(v == 1 for v in data['cache_types'].values())
    assert data['backend'] == {'frontName': 'admin'}


def test_create_root_again_keeps_state(emulator_root):
    key = crypto.read_key_string(emulator_root)
    conn = store.connect(emulator_root)
    conn.execute("INSERT INTO integration (name, email) VALUES ('kept', '')")
    cli.create_root(emulator_root)
    assert crypto.read_key_string(emulator_root) == key
    assert conn.execute("SELECT COUNT(*) FROM integration WHERE name = 'kept'").fetchone()[0] == 1


def php(root, *args, stdin=''):
    return subprocess.run([os.path.join(root, 'bin', 'php')] + list(args), input=stdin, check=False, capture_output=True,
                          text=True, timeout=60)


def test_php_version_lint_and_unknown(emulator_root, tmp_path):
    done = php(emulator_root, '-v')
    assert done.returncode == 0 and done.stdout.startswith('PHP 8.2')
    script = tmp_path / 'x.php'
    script.write_text('<?php echo 1;')
    done = php(emulator_root, '-l', str(script))
    assert done.returncode == 0 and done.stdout.strip() == 'No syntax errors detected in %s' % script
    done = php(emulator_root, str(script))
    assert done.returncode == 1 and done.stderr
    done = php(emulator_root, str(tmp_path / 'missing.php'))
    assert done.returncode == 1


def test_php_bin_magento_dispatch(emulator_root, monkeypatch):
    calls = []
    monkeypatch.setattr(cli_magento, 'main', lambda root, args: calls.append((root, args)) or 7)
    code = fakephp.main([os.path.join(emulator_root, 'bin', 'magento'), 'cache:status'])
    assert code == 7 and calls == [(emulator_root, ['cache:status'])]


def test_php_bin_magento_real(emulator_root):
    done = php(emulator_root, os.path.join(emulator_root, 'bin', 'magento'), 'cache:status')
    assert done.returncode == 0, done.stderr
    assert 'config: 1' in done.stdout


def test_status_of_a_stopped_root(emulator_root):
    done = subprocess.run([sys.executable, LAUNCHER, 'status', '--root', emulator_root, '--json'],
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert json.loads(done.stdout)['running'] is False


def test_start_stop_restart(running_emulator):
    root = running_emulator['magento_root']
    base_url = running_emulator['base_url']
    assert base_url.startswith('http://127.0.0.1:') and base_url.endswith('/')
    assert running_emulator['php_executable'] == os.path.join(root, 'bin', 'php')
    conn = store.connect(root)
    assert store.get_config(conn, 'web/unsecure/base_url') == base_url
    state = cli.read_state(root)
    assert state['base_url'] == base_url and cli.running(root)
    try:
        urllib.request.urlopen(base_url + 'rest/V1/store/storeViews', timeout=10)
    except urllib.error.HTTPError as exc:  # 401 for a guest is an answer too
        assert exc.code in (400, 401, 404)
    conn.execute("INSERT INTO integration (name, email) VALUES ('survives', '')")
    assert cli.stop(root) is True
    assert 'pid' not in cli.read_state(root) and not cli.running(root)
    again = cli.start(root)
    assert conn.execute("SELECT COUNT(*) FROM integration WHERE name = 'survives'").fetchone()[0] == 1
    assert store.get_config(conn, 'web/unsecure/base_url') == again['base_url']


def test_launcher_start_json_and_stop(tmp_path):
    root = str(tmp_path / 'r')
    done = subprocess.run([sys.executable, LAUNCHER, 'start', '--root', root, '--json'], check=False, capture_output=True,
                          text=True, timeout=60)
    try:
        assert done.returncode == 0, done.stderr
        info = json.loads(done.stdout)
        assert set(info) == {'magento_root', 'base_url', 'php_executable'}
        status = subprocess.run([sys.executable, LAUNCHER, 'status', '--root', root], check=False, capture_output=True,
                                text=True, timeout=60)
        assert status.returncode == 0 and 'running=True' in status.stdout
    finally:
        stop = subprocess.run([sys.executable, LAUNCHER, 'stop', '--root', root], check=False, capture_output=True, text=True,
                              timeout=60)
    assert stop.returncode == 0
    assert not cli.running(root)


def test_launcher_plain_output_lines(tmp_path):
    root = str(tmp_path / 'r')
    done = subprocess.run([sys.executable, LAUNCHER, 'start', '--root', root], check=False, capture_output=True, text=True,
                          timeout=60)
    try:
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert [line.split('=', 1)[0] for line in lines] == ['magento_root', 'base_url', 'php_executable']
    finally:
        subprocess.run([sys.executable, LAUNCHER, 'stop', '--root', root], check=False, capture_output=True, timeout=60)


STUB_SERVER = r'''
import http.server, json, os, sys
root, host, port, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
server = http.server.HTTPServer((host, port), http.server.BaseHTTPRequestHandler)
tmp = ready + '.tmp'
with open(tmp, 'w') as handle:
    json.dump({'host': host, 'port': server.server_address[1]}, handle)
os.replace(tmp, ready)
server.serve_forever()
'''


@pytest.mark.parametrize('ready_format', ['json', 'plain'])
def test_start_stop_with_a_stub_server(tmp_path, monkeypatch, ready_format):
    script = tmp_path / 'stub.py'
    text = STUB_SERVER if ready_format == 'json' else STUB_SERVER.replace(
        "json.dump({'host': host, 'port': server.server_address[1]}, handle)",
        "handle.write(str(server.server_address[1]) + '\\n')")
    script.write_text(text)
    monkeypatch.setattr(cli, '_server_command',
                        lambda root, host, port, ready: [sys.executable, str(script), root, host, str(port), ready])
    root = str(tmp_path / 'root')
    info = cli.start(root)
    try:
        state = cli.read_state(root)
        assert info['base_url'] == 'http://127.0.0.1:%d/' % state['port'] == state['base_url']
        assert store.get_config(store.connect(root), 'web/secure/base_url') == info['base_url']
        assert cli.start(root) == info  # already running: same server
    finally:
        assert cli.stop(root) is True
    assert 'pid' not in cli.read_state(root)
    assert cli.stop(root) is False


def _cli_json(capsys, *argv):
    code = cli.main(list(argv) + ['--json'])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_token_age_backdates_the_integration_token(emulator_root, capsys):
    from magento_emulator import bridge
    response, dummy = bridge.execute({'protocol': 1, 'magento_root': emulator_root, 'actions': [
        {'action': 'integration.create', 'name': 'Acme ERP', 'email': '', 'endpoint': '', 'identity_link_url': '',
         'all_resources': True, 'resources': []},
        {'action': 'integration.activate', 'integration_id': 1}]})
    assert response['ok']
    before = datetime.datetime.now(datetime.timezone.utc)
    code, out, err = _cli_json(capsys, 'token-age', '--root', emulator_root, '--name', 'acme erp', '--age', '100d')
    assert code == 0 and out['name'] == 'Acme ERP' and out['tokens'] == 1
    made = datetime.datetime.strptime(out['created_at'], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    assert abs((before - made) - datetime.timedelta(days=100)) < datetime.timedelta(seconds=5)
    response, dummy = bridge.execute({'protocol': 1, 'magento_root': emulator_root,
                                      'actions': [{'action': 'integration.get', 'integration_id': 1}]})
    assert response['results'][0]['integration']['token']['created_at'] == out['created_at']
    # An exact time, too; refusals name what is wrong and change nothing.
    code, out, err = _cli_json(capsys, 'token-age', '--root', emulator_root, '--name', 'Acme ERP',
                               '--created-at', '2026-01-02T03:04:05Z')
    assert code == 0 and out['created_at'] == '2026-01-02T03:04:05Z'
    for argv, message in ((['--name', 'Nope', '--age', '1d'], "no integration named 'Nope'"),
                          (['--name', 'Acme ERP', '--age', '1y'], "--age '1y'")):
        code, out, err = _cli_json(capsys, 'token-age', '--root', emulator_root, *argv)
        assert code == 1 and message in err
    conn = store.connect(emulator_root)
    assert conn.execute('SELECT created_at FROM oauth_token').fetchone()[0] == '2026-01-02 03:04:05'


def test_config_integration_is_declared_like_setup_upgrade_does_and_removed_for_cleanup(emulator_root, capsys):
    from magento_emulator import bridge
    conn = store.connect(emulator_root)
    tables = ('integration', 'oauth_consumer', 'oauth_token', 'authorization_role', 'authorization_rule')

    def counts():
        return [conn.execute('SELECT COUNT(*) FROM %s' % table).fetchone()[0] for table in tables]
    empty = counts()
    code, out, err = _cli_json(capsys, 'config-integration', '--root', emulator_root, '--name', 'Vendor Sync',
                               '--email', 'sync@vendor.example', '--resource', 'Magento_Catalog::products')
    assert code == 0 and out == {'name': 'Vendor Sync', 'declared': True}
    response, dummy = bridge.execute({'protocol': 1, 'magento_root': emulator_root, 'actions': [
        {'action': 'integration.get', 'name': 'Vendor Sync'}, {'action': 'integration.delete', 'integration_id': 1}]})
    got = response['results'][0]['integration']
    assert got['setup_type'] == 1 and got['status'] == 0 and got['consumer_id'] is not None
    assert got['resources'] == ['Magento_Backend::admin', 'Magento_Catalog::products']
    # The bridge refuses to delete it (its guard; the module refuses first); the emulator's cleanup command removes it
    # with its consumer.
    assert response['error']['message'] == 'Integration 1 comes from a config file (setup_type 1): not deleted.'
    code, out, err = _cli_json(capsys, 'config-integration', '--root', emulator_root, '--name', 'vendor sync', '--remove')
    assert code == 0 and out == {'name': 'Vendor Sync', 'declared': False}
    assert counts() == empty
