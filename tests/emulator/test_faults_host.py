"""Host-side fault switches (faults.py): the bridge's PHP fatal error, non-JSON output and delays, the database down,
bin/magento failures and delays, through the fake php as the collection runs them."""

import concurrent.futures
import contextlib
import io
import json
import os
import subprocess
import time

import pytest

from magento_emulator import faults, store

ALLOW = 'webapi/webapisecurity/allow_insecure'
SET_USAGE = ('config:set [--scope SCOPE] [--scope-code SCOPE-CODE] [-e|--lock-env] [-c|--lock-config] [-l|--lock] '
             '[--] <path> <value>')


@pytest.fixture(autouse=True)
def no_columns(monkeypatch):
    monkeypatch.delenv('COLUMNS', raising=False)


@pytest.fixture(autouse=True, params=['php', 'python'])
def bridge_kind(request, monkeypatch):
    """Every bridge fault holds for the shipped PHP bridge (real PHP) and for its Python copy alike."""
    from magento_emulator import realphp
    if request.param == 'php' and realphp.find() is None:
        pytest.skip('no PHP 7.4+ with pdo_sqlite and sodium')
    if request.param == 'python':
        monkeypatch.setenv('MAGENTO_EMULATOR_PHP', 'none')
    return request.param


def php(root, *args, stdin=''):
    return subprocess.run([os.path.join(root, 'bin', 'php')] + list(args), input=stdin, check=False, capture_output=True,
                          text=True, timeout=60)


def create(name):
    return {'action': 'integration.create', 'name': name, 'email': '', 'endpoint': '', 'identity_link_url': '',
            'all_resources': True, 'resources': []}


def bridge(root, script, *actions):
    return php(root, script, stdin=json.dumps({'protocol': 1, 'magento_root': root, 'actions': list(actions)}))


def names(root):
    conn = store.connect(root)
    try:
        return sorted(row['name'] for row in conn.execute('SELECT name FROM integration'))
    finally:
        conn.close()


def stored(root, path):
    conn = store.connect(root)
    try:
        return [row['value'] for row in conn.execute('SELECT value FROM core_config_data WHERE path = ?', (path,))]
    finally:
        conn.close()


def left(root):
    """What is left of the faults file (None once every rule is spent)."""
    path = faults.faults_path(root)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def magento(root, *argv):
    from magento_emulator import cli_magento  # at run time: test_cli.py swaps the module in sys.modules
    out, err = io.StringIO(), io.StringIO()
    code = cli_magento.main(root, list(argv), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), code


# ---------------------------------------------------------------------------------------------- bridge_fatal

def test_bridge_fatal_prints_as_php_cli_and_exits_255(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_fatal': {'count': 1}})
    done = bridge(emulator_root, bridge_script, create('acme'))
    assert done.returncode == 255
    where = ('Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes) in %s/vendor/magento/'
             'framework/ObjectManager/Factory/AbstractFactory.php on line 121' % emulator_root)
    assert done.stdout == '\nFatal error: %s\n' % where
    assert done.stderr == 'PHP Fatal error:  %s\n' % where
    assert names(emulator_root) == [] and left(emulator_root) is None
    done = bridge(emulator_root, bridge_script, create('acme'))
    assert done.returncode == 0 and json.loads(done.stdout)['ok'] is True


def test_bridge_fatal_at_a_matching_action_keeps_what_ran_before(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_fatal': {'actions': 'integration.delete', 'message': 'Boom', 'file': '/x.php',
                                                  'line': 7, 'type': 'Parse error', 'stream': 'stderr'}})
    done = bridge(emulator_root, bridge_script, create('kept'))
    assert done.returncode == 0, 'a batch without the matching action runs normally'
    done = bridge(emulator_root, bridge_script, create('also kept'), {'action': 'integration.delete', 'integration_id': 1})
    assert (done.returncode, done.stdout, done.stderr) == (255, '', 'PHP Parse error:  Boom in /x.php on line 7\n')
    assert names(emulator_root) == ['also kept', 'kept']
    assert left(emulator_root) == {'bridge_fatal': {'actions': 'integration.delete', 'message': 'Boom', 'file': '/x.php',
                                                    'line': 7, 'type': 'Parse error', 'stream': 'stderr'}}, 'no count: forever'


def test_bridge_fatal_after_the_actions_loses_the_response(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_fatal': {'after': True, 'stream': 'stdout', 'count': 1}})
    done = bridge(emulator_root, bridge_script, create('written'))
    assert done.returncode == 255 and done.stdout.startswith('\nFatal error: ') and done.stderr == ''
    assert names(emulator_root) == ['written']


def test_bridge_fatal_caught_is_answered_by_the_bridges_handler(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_fatal': {'actions': 'integration.delete', 'caught': True, 'message': 'Boom',
                                                  'count': 1}})
    done = bridge(emulator_root, bridge_script, create('kept'), {'action': 'integration.delete', 'integration_id': 1},
                  {'action': 'system.info'})
    assert done.returncode == 1
    response = json.loads(done.stdout)
    assert len(response['results']) == 1 and response['error'] == {
        'index': 1, 'action': 'integration.delete', 'kind': 'internal', 'exception': None, 'message': 'Boom'}
    assert names(emulator_root) == ['kept'] and left(emulator_root) is None


# ---------------------------------------------------------------------------------------------- bridge_output

def test_bridge_output_replaces_the_json_and_runs_nothing(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_output': {'count': 1}})
    done = bridge(emulator_root, bridge_script, create('acme'))
    assert done.returncode == 1 and done.stdout == faults.AUTOLOAD_ERROR and done.stderr == ''
    assert 'Vendor autoload is not found' in done.stdout
    assert names(emulator_root) == []
    faults.write(emulator_root, {'bridge_output': {'stdout': 'not json', 'stderr': 'oops\n', 'exit': 0}})
    done = bridge(emulator_root, bridge_script, {'action': 'system.info'})
    assert (done.returncode, done.stdout, done.stderr) == (0, 'not json', 'oops\n')


def test_bridge_output_after_runs_the_actions_and_loses_the_response(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_output': {'after': True, 'stdout': '{"protocol":1,"ok":tr', 'exit': 0,
                                                   'actions': 'integration.create', 'count': 1}})
    done = bridge(emulator_root, bridge_script, create('acme'))
    assert (done.returncode, done.stdout) == (0, '{"protocol":1,"ok":tr')
    assert names(emulator_root) == ['acme']


def test_bridge_output_json_prefixes_the_real_response(emulator_root, bridge_script):
    warning = '\nWarning: Module "redis" is already loaded in Unknown on line 0\n'
    faults.write(emulator_root, {'bridge_output': {'json': True, 'stdout': warning}})
    done = bridge(emulator_root, bridge_script, create('acme'), create('ACME'))
    assert done.returncode == 1, 'the real exit code: the duplicate name fails'
    assert done.stdout.startswith(warning)
    response = json.loads(done.stdout[len(warning):])
    assert response['ok'] is False and response['error']['index'] == 1
    assert names(emulator_root) == ['acme']


# ---------------------------------------------------------------------------------------------- bridge_delay

def test_bridge_delay_before_or_after_the_matching_action(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_delay': [{'seconds': 0.6, 'actions': 'integration.create', 'count': 1},
                                                  {'seconds': 0.6, 'actions': 'system.info', 'after': True}]})
    started = time.time()
    done = bridge(emulator_root, bridge_script, create('slow'))
    assert done.returncode == 0 and time.time() - started >= 0.6
    assert left(emulator_root) == {'bridge_delay': [{'seconds': 0.6, 'actions': 'system.info', 'after': True}]}
    started = time.time()
    done = bridge(emulator_root, bridge_script, {'action': 'system.info'})
    assert done.returncode == 0 and time.time() - started >= 0.6 and json.loads(done.stdout)['ok'] is True


@contextlib.contextmanager
def bridge_at_delay(root, script, action, touched, wait):
    """The bridge started on ``action`` in the background, once it has reached its delay (``touched`` exists, or
    ``wait`` seconds passed); killed at the end if it still runs."""
    request = json.dumps({'protocol': 1, 'magento_root': root, 'actions': [action]})
    proc = subprocess.Popen([os.path.join(root, 'bin', 'php'), script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdin.write(request)
        proc.stdin.close()
        deadline = time.time() + wait
        while not os.path.exists(touched) and time.time() < deadline:
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_bridge_delay_after_has_written_before_the_answer(emulator_root, bridge_script, tmp_path):
    touched = str(tmp_path / 'reached')
    faults.write(emulator_root, {'bridge_delay': {'seconds': 5, 'actions': 'integration.create', 'after': True,
                                                  'touch': touched}})
    with bridge_at_delay(emulator_root, bridge_script, create('early'), touched, 10) as proc:
        assert names(emulator_root) == ['early'] and proc.poll() is None, 'written, still waiting to answer'


@pytest.mark.parametrize('within', [False, True])
def test_bridge_delay_ends_when_its_release_file_appears(emulator_root, bridge_script, tmp_path, within):
    touched, release = str(tmp_path / 'reached'), str(tmp_path / 'release')
    faults.write(emulator_root, {'bridge_delay': {'seconds': 60, 'actions': 'integration.create', 'within': within,
                                                  'touch': touched, 'release': release}})
    with bridge_at_delay(emulator_root, bridge_script, create('held'), touched, 20) as proc:
        time.sleep(0.3)
        assert proc.poll() is None, 'held at the delay'
        open(release, 'w').close()
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
        assert json.loads(proc.stdout.read())['ok'] is True and names(emulator_root) == ['held']


# ---------------------------------------------------------------------------------------------- db_down

def test_db_down_fails_the_bridge_bootstrap(emulator_root, bridge_script):
    faults.write(emulator_root, {'db_down': True})
    for dummy in range(2):
        done = bridge(emulator_root, bridge_script, create('acme'), {'action': 'system.info'})
        assert done.returncode == 1
        response = json.loads(done.stdout)
        assert response == {'protocol': 1, 'ok': False, 'magento_version': '2.4.7-p3', 'results': [],
                            'error': {'index': 0, 'action': 'integration.create', 'kind': 'bootstrap',
                                      'exception': 'Zend_Db_Adapter_Exception',
                                      'message': 'SQLSTATE[HY000] [2002] Connection refused'}}
    assert names(emulator_root) == [] and left(emulator_root) == {'db_down': True}
    faults.write(emulator_root, {'db_down': {'count': 1, 'message': 'SQLSTATE[HY000] [2002] No such file or directory'}})
    done = bridge(emulator_root, bridge_script, {'action': 'system.info'})
    assert json.loads(done.stdout)['error']['message'] == 'SQLSTATE[HY000] [2002] No such file or directory'
    done = bridge(emulator_root, bridge_script, {'action': 'system.info'})
    assert done.returncode == 0 and left(emulator_root) is None


def test_db_down_fails_bin_magento_config_commands_not_cache_ones(emulator_root):
    faults.write(emulator_root, {'db_down': True})
    message = 'SQLSTATE[HY000] [2002] Connection refused'
    block = ['', ' ' * (len(message) + 4), '  %s  ' % message, ' ' * (len(message) + 4), '']
    expected = '\n'.join([''] + ['In Abstract.php line 144:'] + block[1:] + ['In Abstract.php line 128:'] + block[1:]
                         + [SET_USAGE, '']) + '\n'
    assert magento(emulator_root, 'config:set', ALLOW, '1') == ('', expected, 1)
    assert stored(emulator_root, ALLOW) == []
    out, err, code = magento(emulator_root, 'config:show', ALLOW)
    assert code == 1 and message in err and out == ''
    out, err, code = magento(emulator_root, 'cache:status')
    assert code == 0 and out.startswith('Current status:') and err == ''


def test_db_down_through_the_fake_php(emulator_root):
    faults.write(emulator_root, {'db_down': {'count': 1}})
    done = php(emulator_root, os.path.join(emulator_root, 'bin', 'magento'), 'config:set', ALLOW, '1')
    assert done.returncode == 1 and 'In Abstract.php line 144:' in done.stderr and done.stdout == ''
    done = php(emulator_root, os.path.join(emulator_root, 'bin', 'magento'), 'config:set', ALLOW, '1')
    assert (done.returncode, done.stdout) == (0, 'Value was saved.\n')


# ---------------------------------------------------------------------------------------------- bin_magento

def test_bin_magento_fails_before_the_command_with_symfony_block(emulator_root):
    faults.write(emulator_root, {'bin_magento': {'commands': 'cache:clean', 'count': 1}})
    assert magento(emulator_root, 'config:set', ALLOW, '1')[2] == 0, 'another command is not matched'
    out, err, code = magento(emulator_root, 'cache:clean', 'config')
    assert (out, code) == ('', 1)
    assert 'SQLSTATE[40001]: Serialization failure' in err and err.endswith('cache:clean [--bootstrap BOOTSTRAP] [--] [<types>...]\n\n')
    with open(os.path.join(emulator_root, 'var/cache/invalidated.json')) as handle:
        assert 'config' in json.load(handle), 'nothing cleaned'
    assert magento(emulator_root, 'cache:clean', 'config') == ('Cleaned cache types:\nconfig\n', '', 0)


def test_bin_magento_matches_the_command_line_and_renders_options(emulator_root):
    faults.write(emulator_root, {'bin_magento': {'commands': ['allow_insecure'], 'message': 'Nope', 'exit': 2,
                                                 'origin': 'ConfigSetCommand.php:180'}})
    assert magento(emulator_root, 'config:set', 'general/locale/code', 'fr_FR')[2] == 0
    out, err, code = magento(emulator_root, 'config:set', '--', ALLOW, '1')
    assert (out, code) == ('', 2)
    assert err == '\n'.join(['', 'In ConfigSetCommand.php line 180:', ' ' * 8, '  Nope  ', ' ' * 8, '', SET_USAGE, '']) + '\n'
    assert stored(emulator_root, ALLOW) == []
    faults.write(emulator_root, {'bin_magento': {'stream': 'stdout', 'message': 'Refused.'}})
    assert magento(emulator_root, 'config:set', ALLOW, '1') == ('Refused.\n', '', 1)


def test_bin_magento_after_does_the_work_then_fails(emulator_root):
    faults.write(emulator_root, {'bin_magento': {'commands': 'config:set', 'after': True, 'count': 1}})
    out, err, code = magento(emulator_root, 'config:set', ALLOW, '1')
    assert code == 1 and out == 'Value was saved.\n' and 'SQLSTATE[40001]: Serialization failure' in err
    assert stored(emulator_root, ALLOW) == ['1']


def test_bin_magento_delay(emulator_root):
    faults.write(emulator_root, {'bin_magento_delay': {'seconds': 0.5, 'commands': 'cache:status', 'count': 1}})
    started = time.time()
    assert magento(emulator_root, 'cache:status')[2] == 0
    assert time.time() - started >= 0.5 and left(emulator_root) is None


# ---------------------------------------------------------------------------------------------- counting

def test_counted_uses_are_exact_across_parallel_processes(emulator_root, bridge_script):
    faults.write(emulator_root, {'bridge_output': {'stdout': 'garbage', 'count': 3}})
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda index: bridge(emulator_root, bridge_script, {'action': 'system.info'}).stdout,
                              range(8)))
    assert codes.count('garbage') == 3 and left(emulator_root) is None
