# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults, table-driven: each row makes the store misbehave while one module task runs, then clears the fault.

A row injects one fault (the emulator's var/emulator-faults.json, a closed port, an untrusted TLS server, a
down or slow callback URL, a consumer that expires mid-exchange), runs the task with ansible-playbook and asserts:

- a failure whose message holds the row's fragments (or, for transient GET errors, a success after retries),
  handled by the collection (the result carries its ``error_kind``: ansible-core 2.21 prints no traceback by
  default, so an uncaught exception shows as a failure without it), no Python traceback anywhere in the
  output, no secret in it;
- what the failure left: ``unchanged`` = the store digest (tables, app/etc, var/cache, as magento_ci_state
  computes it) is the one from before the task; ``inactive`` = only what an interrupted activation leaves in
  Magento (the integration inactive with at most one non-access token row); ``whole`` = the write that happened
  is complete (one integration, one access token row);
- the bounded use of the fault where the row says so (how many requests it answered: token steps are never
  retried, GETs a bounded number of times);

then clears the fault, reruns the task twice and asserts convergence: the desired state, exactly one integration
of that name, no new orphan or duplicate token rows, tokens proven by a signed call, and no change on the second
rerun. Figures: one line per row on stdout, and "faults: N injected, ..." in the closing summary.
"""

from __future__ import annotations

import datetime
import importlib.util
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import REPO, record
import store_checks as checks

M = 'commerceops.magento.'
THIRD_PARTY = os.path.join(REPO, 'tests', 'integration', 'targets', 'setup_third_party', 'files', 'third_party.py')
LOCALE = 'general/locale/code'
EXPIRATION = 'oauth/consumer/expiration_period'
POST_TIMEOUT = 'oauth/consumer/post_timeout'
ALLOW = 'webapi/webapisecurity/allow_insecure'
STARTUP_WARNING = '\nWarning: Module "redis" is already loaded in Unknown on line 0\n'

# Each row: id, module, args (@name@ = fault-<id>; @closed_url@, @tls_url@, @connector@ are filled in at run time),
# fault (the faults file), expect (fail | recover | warn), fragments of the message, what the failure leaves
# (unchanged | inactive | whole | partial | any), what convergence means (integration | authorized | config | guest),
# and optional keys: setup (create | authorize), fault_args (only for the faulted run), prepare (config values set
# before, bin/magento config:set), clear_tasks (before the rerun), uses ((rule key, count, least, most) answered
# by the fault), connector (its route while the fault is on; cleared = /complete), settle (seconds to let the
# store finish, after the task failed, a request the client gave up on), changed (what the first rerun must report).
CASES = [
    dict(id='bridge-fatal-create', module='magento_integration', args={'resource_access': 'all'},
         fault={'bridge_fatal': {'actions': 'integration.create'}}, expect='fail',
         fragments=["Creating integration 'fault-bridge-fatal-create' failed", 'exited with code 255', 'PHP Fatal error',
                    'Allowed memory size'],
         leaves='unchanged', converge='integration', changed=True),
    dict(id='bridge-fatal-activate', module='magento_integration_auth', args={'flow': 'direct'}, setup='create',
         fault={'bridge_fatal': {'actions': 'integration.activate'}}, expect='fail',
         fragments=["Activating integration 'fault-bridge-fatal-activate' failed", 'exited with code 255', 'PHP Fatal error'],
         leaves='unchanged', converge='authorized', changed=True),
    dict(id='bridge-non-json', module='magento_integration', args={'email': 'new@acme.example'}, setup='create',
         fault={'bridge_output': {'actions': 'integration.update'}}, expect='fail',
         fragments=["Updating integration 'fault-bridge-non-json' failed", 'printed no JSON', 'Vendor autoload is not found'],
         leaves='unchanged', converge='integration', changed=True),
    dict(id='bridge-answer-lost', module='magento_integration', args={'resource_access': 'all'},
         fault={'bridge_output': {'actions': 'integration.create', 'after': True, 'stdout': '{"protocol":1,"ok":tr',
                                  'exit': 255}}, expect='fail',
         fragments=["Creating integration 'fault-bridge-answer-lost' failed", 'printed no JSON'],
         leaves='whole', converge='integration', changed=False),
    dict(id='bridge-json-not-object', module='magento_integration', args={'resource_access': 'all'},
         fault={'bridge_output': {'stdout': '[]\n', 'exit': 0}}, expect='fail', fragments=['bridge'],
         leaves='unchanged', converge='integration', changed=True),
    dict(id='bridge-startup-warning', module='magento_integration_auth', args={}, setup='authorize',
         # PHP start-up warnings before the answer: the answer is read, the noise becomes a task warning
         fault={'bridge_output': {'json': True, 'stdout': STARTUP_WARNING}}, expect='warn',
         fragments=['PHP printed this before the Magento bridge', 'Module "redis" is already loaded'],
         leaves='whole', converge='authorized', changed=False),
    dict(id='db-down-config', module='magento_config', args={'path': LOCALE, 'value': 'fr_FR'},
         fault={'db_down': True}, expect='fail',
         fragments=['Reading config values failed', 'SQLSTATE[HY000] [2002] Connection refused'],
         leaves='unchanged', converge='config', changed=True),
    dict(id='db-down-auth', module='magento_integration_auth', args={}, setup='create',
         fault={'db_down': True}, expect='fail',
         fragments=["Reading integration 'fault-db-down-auth' failed", 'SQLSTATE[HY000] [2002] Connection refused'],
         leaves='unchanged', converge='authorized', changed=True),
    dict(id='bin-magento-config-set', module='magento_config', args={'path': LOCALE, 'value': 'de_DE'},
         fault={'bin_magento': {'commands': 'config:set'}}, expect='fail',
         fragments=['Saving config default:%s failed' % LOCALE, 'SQLSTATE[40001]', 'Deadlock found'],
         leaves='unchanged', converge='config', changed=True),
    dict(id='bin-magento-cache-clean', module='magento_webapi_security', args={'allow_anonymous_guest_access': True},
         fault={'bin_magento': {'commands': 'cache:clean'}}, expect='fail', fragments=['cache:clean', 'SQLSTATE[40001]'],
         leaves='partial', converge='guest', prime_guest=True),
    dict(id='http-500-token-access', module='magento_integration_auth', args={'flow': 'exchange'}, setup='create',
         fault={'http': {'status': 500, 'paths': '/oauth/token/access', 'method': 'POST', 'count': 3}}, expect='fail',
         fragments=['Exchanging the request token for the access token failed', 'HTTP 500'],
         leaves='inactive', converge='authorized', uses=('http', 3, 1, 1), changed=True),
    dict(id='http-500-proof', module='magento_integration_auth', args={'flow': 'direct'}, setup='create',
         fault={'http': {'status': 500, 'paths': '/rest/V1/modules', 'count': 5}}, expect='fail',
         fragments=["The access token of integration 'fault-http-500-proof' was refused", 'HTTP 500'],
         leaves='whole', converge='authorized', uses=('http', 5, 1, 1), changed=False),
    dict(id='http-502-proof-transient', module='magento_integration_auth', args={'flow': 'direct'}, setup='create',
         fault={'http': {'status': 502, 'paths': '/rest/', 'count': 1}}, expect='recover', fragments=[],
         leaves='whole', converge='authorized', uses=('http', 1, 1, 1), changed=False),
    dict(id='http-503-proof-persistent', module='magento_integration_auth', args={'flow': 'direct'}, setup='create',
         fault={'http': {'status': 503, 'paths': '/rest/', 'count': 10}}, expect='fail',
         fragments=["The access token of integration 'fault-http-503-proof-persistent' was refused", 'HTTP 503'],
         leaves='whole', converge='authorized', uses=('http', 10, 2, 5), changed=False),
    dict(id='http-503-token-request', module='magento_integration_auth', args={'flow': 'exchange'}, setup='create',
         fault={'http': {'status': 503, 'paths': '/oauth/token/request', 'method': 'POST', 'count': 5}}, expect='fail',
         fragments=['Requesting the OAuth request token failed', 'HTTP 503'],
         leaves='inactive', converge='authorized', uses=('http', 5, 1, 1), changed=True),
    dict(id='http-503-preflight-transient', module='magento_integration_auth', args={'flow': 'exchange'}, setup='create',
         fault={'http': {'status': 503, 'paths': '/oauth/token/request', 'method': 'GET', 'count': 1}}, expect='recover',
         fragments=[], leaves='whole', converge='authorized', uses=('http', 1, 1, 1), changed=False),
    dict(id='timeout-preflight', module='magento_integration_auth', args={'flow': 'exchange', 'timeout': 2}, setup='create',
         fault={'http_delay': {'seconds': 4, 'paths': '/oauth/token/request', 'method': 'GET', 'count': 1}}, expect='fail',
         fragments=['Reaching the store at', 'did not answer within 2 seconds (option timeout)'],
         leaves='unchanged', converge='authorized', settle=2.5, changed=True),
    dict(id='timeout-token-access', module='magento_integration_auth', args={'flow': 'exchange', 'timeout': 2},
         setup='create', fault={'http_delay': {'seconds': 4, 'paths': '/oauth/token/access', 'method': 'POST', 'count': 1}},
         expect='fail', fragments=['Exchanging the request token for the access token failed', 'did not answer within 2 seconds'],
         leaves='any', converge='authorized', settle=2.5),
    dict(id='connection-refused', module='magento_integration_auth', args={'flow': 'exchange'}, setup='create',
         fault={}, fault_args={'base_url': '@closed_url@'}, expect='fail',
         fragments=['cannot reach @closed_url@', 'Check base_url'], leaves='unchanged', converge='authorized', changed=True),
    dict(id='redirect-token-request', module='magento_integration_auth', args={'flow': 'exchange'}, setup='create',
         fault={'http_redirect': {'location': 'http://127.0.0.1:9/elsewhere', 'paths': '/oauth/token/request',
                                  'method': 'POST'}}, expect='fail',
         fragments=['redirected to http://127.0.0.1:9/elsewhere', 'set base_url'],
         leaves='inactive', converge='authorized', changed=True),
    dict(id='tls-untrusted', module='magento_integration_auth', args={'flow': 'exchange'}, setup='create',
         fault={}, fault_args={'base_url': '@tls_url@'}, expect='fail', fragments=['TLS verification of', 'validate_certs'],
         leaves='unchanged', converge='authorized', changed=True),
    dict(id='callback-down', module='magento_integration_auth', args={'flow': 'callback', 'wait_timeout': 20},
         setup='create', callback=True, connector=None, fault={}, expect='fail',
         fragments=["Sending the OAuth credentials of integration 'fault-callback-down' to its callback URL failed",
                    'The attempt to post data to consumer failed'],
         leaves='inactive', converge='authorized', changed=True),
    dict(id='callback-slow', module='magento_integration_auth', args={'flow': 'callback', 'wait_timeout': 20},
         setup='create', callback=True, connector='/slow/3', prepare={POST_TIMEOUT: '1'}, fault={}, expect='fail',
         fragments=["Sending the OAuth credentials of integration 'fault-callback-slow' to its callback URL failed",
                    'The attempt to post data to consumer failed'],
         clear_tasks=[{M + 'magento_config': {'path': POST_TIMEOUT, 'state': 'absent'}}],
         leaves='inactive', converge='authorized', changed=True),
    dict(id='consumer-expires-mid-exchange', module='magento_integration_auth', args={'flow': 'exchange'}, setup='create',
         prepare={EXPIRATION: '1'},
         fault={'http_delay': {'seconds': 2.5, 'paths': '/oauth/token/request', 'method': 'POST', 'count': 1}},
         expect='fail', fragments=['Requesting the OAuth request token failed', 'HTTP 401', 'Consumer key has expired'],
         clear_tasks=[{M + 'magento_config': {'path': EXPIRATION, 'state': 'absent'}}],
         leaves='inactive', converge='authorized', changed=True),
]
TALLY = {'injected': 0, 'failed_cleanly': 0, 'recovered': 0, 'warned': 0, 'converged': 0, 'not_clean': [], 'not_converged': []}
SUMMARY = ('faults: {injected} injected, {failed_cleanly} failed cleanly, {recovered} recovered by retry, '
           '{warned} succeeded with a warning, '
           '{converged} converged after clearing; not clean: {not_clean}; not converged: {not_converged}')


def name_of(case):
    return 'fault-' + case['id']


def fill(value, env):
    """Replace the @key@ placeholders of value (nested dicts and lists of strings) from env."""
    if isinstance(value, str):
        for key, text in env.items():
            value = value.replace('@%s@' % key, str(text))
        return value
    if isinstance(value, dict):
        return dict((key, fill(item, env)) for key, item in value.items())
    if isinstance(value, list):
        return [fill(item, env) for item in value]
    return value


def free_port():
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(('127.0.0.1', 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class Connector(object):
    """The third party of a callback URL on a fixed port: down (nothing listens) or up with a chosen behaviour.

    It is tests/integration's third_party.py served in this process; ``route`` replaces the path of every POST
    (``/complete``: exchange the tokens at once; ``/slow/3``: answer Magento's POST after 3 s).
    """

    def __init__(self, workdir):
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d/' % self.port
        self.log = os.path.join(workdir, 'connector-log.json')
        self.server = None

    def up(self, route):
        if self.server is not None:
            self.server.route = route
            return
        spec = importlib.util.spec_from_file_location('third_party', THIRD_PARTY)
        third_party = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(third_party)

        class Handler(third_party.Handler):
            def do_POST(self):
                self.path = self.server.route
                super().do_POST()

        server = third_party.Server(('127.0.0.1', self.port), Handler)
        server.log = third_party.Log(self.log)
        server.route = route
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True).start()
        self.server = server

    def down(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class UntrustedTls(object):
    """A TLS endpoint on loopback with a self-signed certificate: every handshake fails verification."""

    def __init__(self, workdir):
        cert, key = self._self_signed(workdir)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.url = 'https://127.0.0.1:%d/' % self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _self_signed(workdir):
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
        from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'untrusted.test')])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
                .sign(key, hashes.SHA256()))
        cert_path, key_path = os.path.join(workdir, 'untrusted.crt'), os.path.join(workdir, 'untrusted.key')
        with open(cert_path, 'wb') as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, 'wb') as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        return cert_path, key_path

    def _serve(self):
        while not self.stopped.is_set():
            try:
                conn, dummy = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                conn.settimeout(5)
                self.context.wrap_socket(conn, server_side=True).close()
            except (ssl.SSLError, OSError):
                pass
            finally:
                conn.close()

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()


def write_faults(root, data):
    path = os.path.join(root, 'var', 'emulator-faults.json')
    if not data:
        if os.path.exists(path):
            os.unlink(path)
        return
    with open(path + '.tmp', 'w') as handle:
        json.dump(data, handle)
    os.replace(path + '.tmp', path)


def read_faults(root):
    path = os.path.join(root, 'var', 'emulator-faults.json')
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


def magento(store, *args):
    """bin/magento ARGS on the store, which must succeed."""
    done = subprocess.run([store.php, os.path.join(store.root, 'bin', 'magento')] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout


@pytest.fixture(scope='module')
def world(store):
    """The store with what the rows need: their integrations, a switchable connector, a closed port, a TLS server."""
    workdir = store.workdir
    connector = Connector(workdir)
    tls = UntrustedTls(workdir)
    env = {'closed_url': 'http://127.0.0.1:%d/' % free_port(), 'tls_url': tls.url, 'connector': connector.url}
    tasks = []
    for case in CASES:
        if 'setup' not in case:
            continue
        create = {'name': name_of(case), 'resource_access': 'all', 'email': 'ops@acme.example'}
        if case.get('callback'):
            create.update(callback_url=connector.url + 'complete', identity_link_url=connector.url + 'login')
        tasks.append({'name': 'create ' + name_of(case), M + 'magento_integration': create})
        if case['setup'] == 'authorize':
            tasks.append({'name': 'authorize ' + name_of(case), M + 'magento_integration_auth': {'name': name_of(case)}})
    plays = [{'hosts': 'localhost', 'gather_facts': False,
              'module_defaults': {'group/commerceops.magento.magento': store.connection}, 'tasks': tasks}]
    rc, output = store.playbook(plays, name='faults-setup')
    assert rc == 0, output[-3000:]
    yield {'store': store, 'connector': connector, 'env': env}
    connector.down()
    tls.close()


def keep(name, results):
    """A task saving registered results as JSON."""
    return {'name': 'keep ' + name, 'ansible.builtin.copy': {'content': '{{ kept | to_json }}', 'dest': results},
            'vars': {'kept': dict((key, '{{ %s | default({}) }}' % key) for key in name.split())}}


def case_plays(store, case, args, rerun_args, paths):
    """One play: the faulted task; its result saved; a wait until the test has checked the store and cleared the
    fault (it creates ``paths['go']``); the clearing tasks; the task twice more; their results saved."""
    tasks = [dict(the_task(case, args), name='faulted: ' + case['id'], register='outcome', ignore_errors=True),
             keep('outcome', paths['faulted']),
             {'name': 'wait while the test checks the store and clears the fault',
              'ansible.builtin.wait_for': {'path': paths['go'], 'timeout': 300}}]
    tasks += [dict(task, name='clear %d' % index) for index, task in enumerate(case.get('clear_tasks', []))]
    tasks += [dict(the_task(case, rerun_args), name='rerun', register='rerun', ignore_errors=True),
              dict(the_task(case, rerun_args), name='again', register='again', ignore_errors=True),
              keep('rerun again', paths['rerun'])]
    return [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/commerceops.magento.magento': store.connection}, 'tasks': tasks}]


def wait_for_file(path, proc, log, timeout=300):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None and time.time() < deadline, checks.read_text(log)[-4000:]
        time.sleep(0.05)
    time.sleep(0.05)  # the copy module moves the file in place: complete once it exists
    with open(path) as handle:
        return json.load(handle)


def the_task(case, args):
    module_args = dict(args)
    if case['module'] in ('magento_integration', 'magento_integration_auth'):
        module_args['name'] = name_of(case)
    return {M + case['module']: module_args}


def convergence_problems(case, store, rerun, again, orphans_before):
    """What is wrong after the fault was cleared and the task ran twice (empty = converged)."""
    problems = []
    root = store.root
    if rerun.get('failed'):
        problems.append('the rerun failed: %s' % rerun.get('msg'))
    if 'changed' in case and rerun.get('changed') != case['changed']:
        problems.append('the rerun reported changed=%s, expected %s' % (rerun.get('changed'), case['changed']))
    if again.get('failed') or again.get('changed'):
        problems.append('the second rerun: failed=%s changed=%s' % (again.get('failed'), again.get('changed')))
    seen = checks.facts(root)
    for key in ('orphan_tokens', 'orphan_consumers'):
        if seen[key] > orphans_before[key]:
            problems.append('%s: %d -> %d' % (key, orphans_before[key], seen[key]))
    converge = case['converge']
    if converge in ('integration', 'authorized'):
        found = checks.integration(root, name_of(case))
        if found['count'] != 1:
            problems.append('%d integrations named %s' % (found['count'], name_of(case)))
        elif converge == 'integration' and len(found['tokens']) > 1:
            problems.append('token rows %s' % found['tokens'])
        if converge == 'authorized' and found['count'] == 1:
            if found['status'] != 1 or found['tokens'] != ['access']:
                problems.append('status %s, token rows %s (want 1, [access])' % (found['status'], found['tokens']))
            verified = [result.get('verified') for result in (rerun, again)]
            if verified != [True, True]:
                problems.append('verified: %s' % verified)
            status = checks.signed_get(store.base_url, checks.credentials(root, name_of(case)))
            if status != 200:
                problems.append('a signed GET with the stored tokens answered %s' % status)
        if case['id'] == 'bridge-non-json' and (rerun.get('integration') or {}).get('email') != 'new@acme.example':
            problems.append('email not updated: %s' % rerun.get('integration'))
    elif converge == 'config':
        value = checks.config_value(root, case['args']['path'])
        if value != case['args']['value']:
            problems.append('%s is %r, want %r' % (case['args']['path'], value, case['args']['value']))
    elif converge == 'guest':
        if checks.config_value(root, ALLOW) != '1':
            problems.append('%s is %r' % (ALLOW, checks.config_value(root, ALLOW)))
        if 'config_webservice' in checks.invalidated(root):
            problems.append('config_webservice is still invalidated: %s' % checks.invalidated(root))
        status = checks.anonymous_get(store.base_url)
        if status != 200:
            problems.append('guest access is not in effect: anonymous GET %s answered %s' % (checks.GUEST_ROUTE, status))
    return problems


def left_by_failure(case, root, before, name):
    """What is wrong with the store the failed task left (empty = as the row expects)."""
    leaves = case['leaves']
    found = checks.integration(root, name)
    if leaves == 'unchanged' and checks.digest(root) != before:
        return ['the store changed: %s' % found]
    if leaves == 'inactive' and not (found['count'] == 1 and found['status'] == 0 and len(found['tokens']) <= 1
                                     and 'access' not in found['tokens']):
        return ['not what an interrupted activation leaves: %s' % found]
    if leaves == 'whole' and not (found['count'] == 1 and (found['tokens'] in ([], ['access']))
                                  and (found['status'] == 1) == (found['tokens'] == ['access'])):
        return ['a write was left half done: %s' % found]
    return []


def rule_count(remaining, key):
    rule = remaining.get(key) or {}
    return rule.get('count', 0) if isinstance(rule, dict) else 0


def check_failure(case, store, outcome, output, env, secrets, before):
    """What is wrong with the faulted run: its message, a traceback, a leaked secret, what it left."""
    root, name = store.root, name_of(case)
    msg = str(outcome.get('msg', ''))
    problems = []
    if case['expect'] == 'fail':
        if not outcome.get('failed'):
            problems.append('the task did not fail')
        problems += ['message lacks %r' % fragment for fragment in fill(case['fragments'], env) if fragment not in msg]
    elif outcome.get('failed'):
        problems.append('the task failed instead of %s: %s' % ('warning' if case['expect'] == 'warn' else 'retrying', msg))
    if case['expect'] == 'warn':
        warned = ' '.join(outcome.get('warnings') or [])
        problems += ['no warning with %r' % fragment for fragment in fill(case['fragments'], env) if fragment not in warned]
    if checks.TRACEBACK in output or checks.TRACEBACK in str(outcome.get('module_stderr', '')):
        problems.append('a Python traceback in the output')
    if outcome.get('failed') and 'error_kind' not in outcome:
        # ansible-core 2.21 shows no traceback by default; a failure without the collection's error_kind is an
        # exception the module did not handle (its traceback shows with ANSIBLE_DISPLAY_TRACEBACK=error)
        problems.append('an uncaught exception in the module, not a handled failure (no error_kind)')
    problems += ['secret %s in the output' % shown for shown in checks.leaked(output, secrets)]
    problems += left_by_failure(case, root, before, name)
    found = checks.integration(root, name)
    if 'stays inactive' in msg and found.get('status') != 0:
        problems.append('the message says the integration stays inactive, but it is %s with token rows %s'
                        % ({1: 'active'}.get(found.get('status'), found.get('status')), found.get('tokens')))
    return problems, msg


@pytest.mark.parametrize('case', CASES, ids=[c['id'] for c in CASES])
def test_fault(world, case):
    store, connector = world['store'], world['connector']
    root, name = store.root, name_of(case)
    env = dict(world['env'], name=name)
    for path, value in sorted(case.get('prepare', {}).items()):
        magento(store, 'config:set', path, value)
    if case.get('prime_guest'):
        checks.anonymous_get(store.base_url)  # the store has served a guest route: config_webservice is cached
    if case.get('callback'):
        if case['connector']:
            connector.up(case['connector'])
        else:
            connector.down()
    secrets = checks.secrets_of(root, [name]) if case.get('setup') == 'authorize' else set()
    orphans_before = checks.facts(root)
    fault = fill(case['fault'], env)
    args = fill(dict(case['args'], **case.get('fault_args', {})), env)
    before = checks.digest(root)
    paths = dict((key, os.path.join(store.workdir, '%s-%s.json' % (case['id'], key))) for key in ('faulted', 'go', 'rerun'))
    write_faults(root, fault)
    proc, log = checks.start_playbook(store, case_plays(store, case, args, fill(case['args'], env), paths), case['id'])
    try:
        try:
            outcome = wait_for_file(paths['faulted'], proc, log)['outcome']
        finally:
            remaining = read_faults(root)
            write_faults(root, None)
        output = checks.read_text(log)
        time.sleep(case.get('settle', 0))
        checked = check_failure(case, store, outcome, output, env, secrets, before)
        # clear the fault (the file is gone), then the task twice
        if case.get('callback'):
            connector.up('/complete')
        with open(paths['go'], 'w'):
            pass
        kept = wait_for_file(paths['rerun'], proc, log)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    rerun_output = checks.read_text(log)[len(output):]
    problems, msg = checked
    used = None
    if case.get('uses'):
        key, count, least, most = case['uses']
        used = count - rule_count(remaining, key)
        if not least <= used <= most:
            problems.append('the fault answered %d request(s), expected %d to %d' % (used, least, most))
    not_converged = convergence_problems(case, store, kept['rerun'], kept['again'], orphans_before)
    if checks.TRACEBACK in rerun_output:
        not_converged.append('a Python traceback in the rerun output')

    TALLY['injected'] += 1
    if problems:
        TALLY['not_clean'].append(case['id'])
    elif case['expect'] == 'fail':
        TALLY['failed_cleanly'] += 1
    elif case['expect'] == 'warn':
        TALLY['warned'] += 1
    else:
        TALLY['recovered'] += 1
    if not_converged:
        TALLY['not_converged'].append(case['id'])
    else:
        TALLY['converged'] += 1
    record('faults', line=SUMMARY, **TALLY)
    print('[fault] %s: injected %s%s -> %s%s; message: %s; cleared -> %s' % (
        case['id'], json.dumps(fault, sort_keys=True), ' with %s' % json.dumps(case['fault_args']) if case.get('fault_args') else '',
        'failed' if outcome.get('failed') else 'ok', '' if used is None else ' (fault used %d time(s))' % used, msg[:300],
        'converged' if not not_converged else not_converged))
    assert not problems, '%s: %s\nmessage: %s' % (case['id'], problems, msg)
    assert not not_converged, '%s did not converge: %s' % (case['id'], not_converged)
