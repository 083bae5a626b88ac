# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets stay where they are asked to be: the credentials files, mode 0600, in a 0700 directory.

One ``ansible-playbook -vvv --diff`` run onboards integrations with the role (direct, exchange and callback flows,
credentials directory) and then drives every module, the auth tasks ``no_log`` as the docs ask, including an auth
task whose bridge answer comes back behind a PHP warning (an error path that holds the integration's secrets).
ANSIBLE_LOCAL_TEMP, ANSIBLE_REMOTE_TEMP and TMPDIR point into the test's folder; a watcher records the mode of every
bridge script it sees there while the run goes on.

Then every consumer secret, access token and token secret (from the credentials files and from the store itself)
and the encrypted config value are searched for in: the run's output, every other file in the credentials folders,
everything left in the temp folders, every file under /tmp changed during the run, the emulator's logs and the
third party's log. The credentials files and Magento's own database are the only places allowed to hold them.

tests/integration/targets/secrets_in_output covers each module at -vvv; this adds the role, the files' modes, the
bridge scripts, /tmp, the store's own view of the secrets and an error path.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from conftest import REPO, record

sys.path.insert(0, os.path.join(REPO, 'extensions', 'emulator'))

M = 'commerceops.magento.'
THIRD_PARTY = os.path.join(REPO, 'tests', 'integration', 'targets', 'setup_third_party', 'files', 'third_party.py')
SECRET_KEYS = ('consumer_secret', 'access_token', 'access_token_secret')
BRIDGE_SCRIPT = 'commerceops-magento-bridge.php'
CONFIG_SECRET = 'payflow-Secret-7f3c9a41e2'
PHP_WARNING = "PHP Warning:  Module 'sodium' already loaded in Unknown on line 0\n"
MAX_SCAN_BYTES = 20 * 1024 * 1024
GARBLED_TASK = 'a garbled bridge answer that holds the secrets'


def role_play(store, third_party_url, credentials_dir):
    role_vars = {
        'integration_onboarding_magento_root': store.root, 'integration_onboarding_php_executable': store.php,
        'integration_onboarding_base_url': store.base_url, 'integration_onboarding_credentials_dir': credentials_dir,
        'integration_onboarding_enable_integration_as_bearer': True, 'integration_onboarding_verify_bearer': True,
        'integration_onboarding_allow_anonymous_guest_access': True,
        'integration_onboarding_config': [{'path': 'general/store_information/name', 'value': 'Acme'}],
        'integration_onboarding_integrations': [
            {'name': 'sec-role-direct', 'email': 'ops@acme.example', 'resource_access': 'all'},
            {'name': 'sec-role-exchange', 'resources': ['Magento_Catalog::products'], 'flow': 'exchange'},
            {'name': 'sec-role-callback', 'resource_access': 'all', 'callback_url': third_party_url + 'complete/role',
             'identity_link_url': third_party_url + 'identity'},
        ],
    }
    return {'name': 'the role', 'hosts': 'localhost', 'gather_facts': False,
            'roles': [{'role': 'commerceops.magento.integration_onboarding', 'vars': role_vars}]}


def modules_play(store, third_party_url, folder):
    def auth(title, **args):
        return {'name': title, M + 'magento_integration_auth': args, 'no_log': True}

    faults = os.path.join(store.root, 'var', 'emulator-faults.json')
    tasks = [
        {'name': 'integrations', M + 'magento_integration': {'name': '{{ item.name }}', 'resource_access': 'all',
                                                             'callback_url': '{{ item.callback_url | default(omit) }}',
                                                             'identity_link_url': '{{ item.identity_link_url | default(omit) }}'},
         'loop': [{'name': 'sec-direct'}, {'name': 'sec-exchange'},
                  {'name': 'sec-callback', 'callback_url': third_party_url + 'complete/mod', 'identity_link_url': third_party_url + 'identity'}],
         'loop_control': {'label': '{{ item.name }}'}},
        {'name': 'update one', M + 'magento_integration': {'name': 'sec-direct', 'email': 'new@acme.example'}},
        auth('direct in check mode', name='sec-direct', flow='direct', credentials_file=os.path.join(folder, 'direct.json')),
        auth('direct', name='sec-direct', flow='direct', verify_bearer=True, credentials_file=os.path.join(folder, 'direct.json')),
        auth('direct again', name='sec-direct', credentials_file=os.path.join(folder, 'direct.json')),
        auth('rotate', name='sec-direct', rotate=True, credentials_file=os.path.join(folder, 'rotated.json')),
        auth('exchange', name='sec-exchange', flow='exchange', credentials_file=os.path.join(folder, 'exchange.json')),
        auth('callback', name='sec-callback', flow='callback', wait_timeout=20, credentials_file=os.path.join(folder, 'callback.json')),
        {'name': 'the next bridge answer comes behind a PHP warning',
         'ansible.builtin.copy': {'dest': faults, 'mode': '0644', 'content': json.dumps(
             {'bridge_output': {'actions': 'integration.get', 'stdout': PHP_WARNING, 'json': True, 'count': 1}})}},
        dict(auth(GARBLED_TASK, name='sec-direct'), ignore_errors=True),
        {'name': 'the garbled answer was given', 'ansible.builtin.stat': {'path': faults}, 'register': 'faults_left'},
        {'name': 'its rule is spent', 'ansible.builtin.assert': {'that': ['not faults_left.stat.exists']}},
        {'name': 'read', M + 'magento_integration_info': {'acl_resources': True}},
        {'name': 'config with an encrypted value', M + 'magento_config': {'settings': [
            {'path': 'payment/payflowpro/pwd', 'value': CONFIG_SECRET}, {'path': 'oauth/consumer/expiration_period', 'value': 600}]}},
        {'name': 'guest access off', M + 'magento_webapi_security': {'allow_anonymous_guest_access': False, 'refresh_cache': False}},
        {'name': 'refresh', M + 'magento_cache': {'state': 'refreshed'}},
        {'name': 'clean', M + 'magento_cache': {'types': ['config'], 'state': 'cleaned'}},
        auth('revoke', name='sec-exchange', state='revoked'),
        {'name': 'remove one', M + 'magento_integration': {'name': 'sec-callback', 'state': 'absent'}},
    ]
    return {'name': 'every module', 'hosts': 'localhost', 'gather_facts': False,
            'module_defaults': {'group/commerceops.magento.magento': dict(store.connection, base_url=store.base_url)}, 'tasks': tasks}


class BridgeWatcher(threading.Thread):
    """Records the mode of every bridge script that shows up under a folder while the run goes on."""

    def __init__(self, folder):
        super(BridgeWatcher, self).__init__()
        self.daemon = True
        self.folder = folder
        self.seen = {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for directory, _dirs, files in os.walk(self.folder):
                if BRIDGE_SCRIPT in files:
                    path = os.path.join(directory, BRIDGE_SCRIPT)
                    try:
                        self.seen.setdefault(directory, stat.S_IMODE(os.stat(path).st_mode))
                    except OSError:
                        pass
            time.sleep(0.005)


def store_secrets(root):
    """{secret: label} of every integration's credentials, as the emulated Magento holds them now."""
    from magento_emulator import integrations as emulated, store as emulated_store
    conn = emulated_store.connect(root)
    try:
        found = {}
        for row in conn.execute('SELECT * FROM integration').fetchall():
            credentials = emulated.credentials(conn, root, row)
            for key in SECRET_KEYS:
                if credentials.get(key):
                    found[credentials[key]] = '%s of %s (store)' % (key, row['name'])
        return found
    finally:
        conn.close()


@pytest.fixture(scope='module')
def third_party_url(store):
    folder = os.path.join(store.workdir, 'third-party')
    os.mkdir(folder)
    pidfile = os.path.join(folder, 'pid')
    started = subprocess.run([sys.executable, THIRD_PARTY, 'start', '--log', os.path.join(folder, 'attempts.json'), '--pidfile', pidfile,
                              '--lifetime', '600'], stdout=subprocess.PIPE, universal_newlines=True, check=True)
    yield json.loads(started.stdout)['base_url']
    subprocess.run([sys.executable, THIRD_PARTY, 'stop', '--pidfile', pidfile], stdout=subprocess.PIPE, check=False)


@pytest.fixture(scope='module')
def run(store, third_party_url):
    temp = dict((name, os.path.join(store.workdir, 'temp', name)) for name in ('local', 'remote', 'tmp'))
    for folder in temp.values():
        os.makedirs(folder)
    role_dir = os.path.join(store.workdir, 'role-credentials')
    module_dir = os.path.join(store.workdir, 'module-credentials')
    os.mkdir(module_dir, 0o700)
    watcher = BridgeWatcher(os.path.join(store.workdir, 'temp'))
    watcher.start()
    started = time.time() - 1
    try:
        rc, output = store.playbook([role_play(store, third_party_url, role_dir), modules_play(store, third_party_url, module_dir)],
                                    name='secrets', args=['-vvv', '--diff'], ANSIBLE_LOCAL_TEMP=temp['local'],
                                    ANSIBLE_REMOTE_TEMP=temp['remote'], TMPDIR=temp['tmp'])
    finally:
        watcher.done.set()
        watcher.join()
    assert rc == 0, output[-5000:]
    allowed = [os.path.join(role_dir, name) for name in os.listdir(role_dir)] + [os.path.join(module_dir, name) for name in os.listdir(module_dir)]
    return {'output': output, 'started': started, 'temp': temp, 'role_dir': role_dir, 'module_dir': module_dir,
            'allowed': sorted(allowed), 'bridge_scripts': watcher.seen}


@pytest.fixture(scope='module')
def secrets(store, run):
    """{secret: where it comes from}: every credentials file, the store's integrations, the encrypted config value."""
    found = {CONFIG_SECRET: 'payment/payflowpro/pwd value'}
    for path in run['allowed']:
        with open(path) as handle:
            credentials = json.load(handle)
        for key in SECRET_KEYS:
            if credentials.get(key):
                found.setdefault(credentials[key], '%s of %s' % (key, os.path.basename(path)))
    found.update((secret, label) for secret, label in store_secrets(store.root).items() if secret not in found)
    return found


def _split_output(output):
    """(the output without the garbled-answer task, that task's part of the output)."""
    start = output.index('TASK [%s]' % GARBLED_TASK)
    end = output.index('TASK [', start + 1)
    return output[:start] + output[end:], output[start:end]


def _places(store, run):
    """[(label, text)] of every stream and file searched."""
    rest, garbled = _split_output(run['output'])
    places = [('ansible-playbook -vvv --diff output', rest), ('the output of the task whose bridge answer came behind a PHP warning', garbled)]
    paths = set()
    # The neighbours of the credentials files.
    for folder in (run['role_dir'], run['module_dir']):
        paths.update(os.path.join(folder, name) for name in os.listdir(folder))
    # Everything left in the temp folders, the emulator's logs and the third party's log (all under the work dir), and
    # every file under /tmp changed during the run.
    for base in (store.workdir, '/tmp'):
        for directory, _dirs, files in os.walk(base):
            for name in files:
                path = os.path.join(directory, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_SCAN_BYTES and (base != '/tmp' or info.st_mtime >= run['started']):
                    paths.add(path)
    database = os.path.join(store.root, 'var', 'magento.sqlite')
    for path in sorted(paths):
        # Allowed: the credentials files; Magento's own database (where it keeps them); the playbook holding the
        # config value as its input.
        if path in run['allowed'] or path.startswith(database) or path == os.path.join(store.workdir, 'secrets.yml'):
            continue
        try:
            with open(path, 'rb') as handle:
                places.append((path, handle.read().decode('utf-8', 'replace')))
        except OSError:
            continue
    return places


def _hits(places, secrets):
    return ['%s: %d x %s' % (label, text.count(secret), what) for label, text in places for secret, what in secrets.items() if secret in text]


def test_no_secret_in_the_error_about_a_garbled_bridge_answer(run, secrets):
    """PHP start-up warnings on stdout before the bridge's JSON: whether the task copes or fails, it shows no secret."""
    garbled = _split_output(run['output'])[1]
    assert 'FAILED!' in garbled or 'ok: [localhost]' in garbled, _masked(garbled, secrets)[-1500:]
    hits = _hits([('the failed task', garbled)], secrets)
    assert not hits, 'the error shows secrets:\n  %s\n%s' % ('\n  '.join(hits), _masked(garbled, secrets)[-1500:])


def _masked(text, secrets):
    for secret in secrets:
        text = text.replace(secret, '<SECRET>')
    return text


def _magento_logs(store):
    """Magento's own log files: where Magento itself writes every new access token (SPEC 4.7), not the collection."""
    return [os.path.join(store.root, 'var', 'log', name) for name in ('system.log', 'debug.log')]


def test_no_secret_outside_the_credentials_files(store, run, secrets):
    places = [(label, text) for label, text in _places(store, run) if label not in _magento_logs(store)]
    hits = _hits(places, secrets)
    logs = [label for label, _text in places if label.startswith(os.path.join(store.root, 'var', 'log'))]
    temp_files = [label for label, _text in places if label.startswith(os.path.join(store.workdir, 'temp'))]
    record('secrets', secrets_searched=len(secrets), files_and_streams=len(places), hits=len(hits), emulator_logs=len(logs),
           temp_files_left=len(temp_files), output_bytes=len(run['output']))
    assert len(secrets) >= 20, secrets
    assert len(run['output']) > 50000 and 'ESTABLISH LOCAL CONNECTION' in run['output'], 'not a -vvv run'
    assert logs, 'the emulator wrote no log: nothing searched there'
    hits = [hit for hit in hits if not hit.startswith('the output of the task whose bridge answer')]  # its own test
    assert not hits, 'secrets found outside the credentials files:\n  ' + '\n  '.join(hits)


def test_magento_own_log_leak_reported_apart(store, run, secrets):
    """Magento itself logs each new access token in plain text (activation, rotation, exchange): a leak of Magento's,
    reported on its own (docs/security.md says what to do about it). Nothing else of the collection's lands there."""
    logs = [(path, open(path).read()) for path in _magento_logs(store) if os.path.exists(path)]
    assert len(logs) == 2, 'Magento wrote no system.log/debug.log: nothing to report'
    hits = _hits(logs, secrets)
    tokens = [hit for hit in hits if ' x access_token of ' in hit]
    record('secrets', magento_own_log_token_lines=len(tokens))
    assert tokens, 'Magento logs every new access token; the logs hold none'
    assert tokens == hits, 'Magento\'s logs hold secrets Magento does not log itself: %s' % [h for h in hits if h not in tokens]
    for path, text in logs:
        for line in text.splitlines():
            assert ' main.INFO: Request token ' in line and ' was exchanged to obtain access token for consumer ' in line, line


def test_credentials_files_are_private(run):
    assert stat.S_IMODE(os.stat(run['role_dir']).st_mode) == 0o700
    assert sorted(os.listdir(run['role_dir'])) == ['sec-role-callback.json', 'sec-role-direct.json', 'sec-role-exchange.json']
    assert sorted(os.listdir(run['module_dir'])) == ['callback.json', 'direct.json', 'exchange.json', 'rotated.json'], \
        'files left beside the credentials files: %s' % os.listdir(run['module_dir'])
    modes = dict((path, oct(stat.S_IMODE(os.stat(path).st_mode))) for path in run['allowed'])
    assert set(modes.values()) == set(['0o600']), modes


def test_credentials_files_hold_what_the_store_holds(store, run):
    """The role's files and rotated.json hold their integration's current credentials (direct.json was rotated since,
    exchange.json revoked, callback.json's integration removed)."""
    stored = store_secrets(store.root)
    stale = []
    current = [path for path in run['allowed'] if path.startswith(run['role_dir']) or path.endswith('rotated.json')]
    assert len(current) == 4, run['allowed']
    for path in current:
        with open(path) as handle:
            credentials = json.load(handle)
        stale.extend('%s %s' % (os.path.basename(path), key) for key in SECRET_KEYS if credentials.get(key) not in stored)
    assert not stale, 'credentials files whose secrets Magento no longer holds: %s' % stale


def test_bridge_scripts_are_private_and_removed(run):
    seen = run['bridge_scripts']
    assert seen, 'the watcher saw no bridge script: nothing checked'
    assert set(seen.values()) == set([0o600]), dict((path, oct(mode)) for path, mode in seen.items())
    left = [os.path.join(directory, name) for folder in run['temp'].values() for directory, _dirs, files in os.walk(folder) for name in files]
    record('secrets', bridge_scripts_seen=len(seen))
    assert not [path for path in left if BRIDGE_SCRIPT in path], left
    assert not [path for path in left if 'ansible-tmp-' in path or 'ansible-moduletmp-' in path or '_payload_' in path], left
