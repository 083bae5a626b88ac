# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat
import threading
import time

import pytest

from ansible_collections.commerceops.magento.plugins.module_utils import _authorization, _oauth
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.modules import magento_integration_auth
from ansible_collections.commerceops.magento.tests.unit.plugins.fakes import integration

CONSUMER = {'consumer_key': 'k' * 32, 'consumer_secret': 's' * 32}
ACCESS = dict(CONSUMER, access_token='a' * 32, access_token_secret='t' * 32)
WRITES = {'integration.activate', 'integration.prepare_exchange', 'integration.post_to_consumer', 'integration.revoke'}


REFUSED = (401, {'message': 'The consumer isn\'t authorized to access %resources.',
                 'parameters': {'resources': 'Magento_Backend::admin'}})


class FakeHTTP(object):
    """Magento's HTTP side: REST answers 200 only to a call signed with an access token the store issued (in a bridge
    answer or by the token exchange), 401 otherwise; ``rest`` overrides the answer of one (bearer, route)."""

    def __init__(self, host):
        self.host = host
        self.calls = []
        self.rest = {}
        self.minted = set()

    def __call__(self, base_url, validate_certs, timeout, scrub=None):
        self.base_url = base_url
        return self

    def preflight(self):
        self.calls.append('preflight')

    def request_token(self, key, secret):
        self.calls.append('request_token')
        return 'r' * 32, 'q' * 32

    def access_token(self, key, secret, token, token_secret, verifier):
        self.calls.append(('access_token', verifier))
        self.minted.add('A' * 32)
        return 'A' * 32, 'T' * 32

    def rest_get(self, route, credentials=None, bearer=None):
        self.calls.append(('bearer' if bearer else 'oauth', route))
        if (bool(bearer), route) in self.rest:
            return self.rest[(bool(bearer), route)]
        token = bearer or (credentials or {}).get('access_token')
        return (200, ['Magento_Store']) if token in self.minted | self.host.access_tokens() else REFUSED


@pytest.fixture
def http(monkeypatch, host):
    fake = FakeHTTP(host)
    monkeypatch.setattr(_oauth, 'OAuthClient', fake)
    monkeypatch.setattr(_oauth, 'HTTP_IMPORT_ERROR', None)
    monkeypatch.setattr(_authorization, 'POLL_INTERVAL', 0.01)
    return fake


def active(**fields):
    return integration(status=1, token={'type': 'access', 'rows': 1}, **fields)


def stored(host, raw, credentials):
    host.on('integration.get', lambda action: {'integration': raw, 'credentials': credentials if action.get('with_secrets') else None})
    host.on('system.info', {'base_url': 'https://shop.example/', 'magento_version': '2.4.7-p3'})


def writes(host):
    return [call for call in host.calls if call['action'] in WRITES]


def test_direct_flow_activates_and_proves_the_token(host, http, run_module):
    stored(host, integration(), CONSUMER)
    host.on('integration.activate', {'token_created': True, 'integration': active(), 'credentials': ACCESS})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP'})
    assert not failed and result['changed']
    assert result['flow'] == 'direct' and result['status'] == 'active' and result['verified'] is True
    assert [(c['action'], c['reauthorize']) for c in writes(host)] == [('integration.activate', False)]
    assert result['credentials'] == ACCESS
    assert ('oauth', '/V1/modules') in http.calls and http.base_url == 'https://shop.example/'


def test_an_active_integration_is_left_alone_without_rotate(host, http, run_module):
    stored(host, active(), ACCESS)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP'})
    assert not failed and not result['changed'] and writes(host) == []
    assert 'request_token' not in http.calls
    assert result['verified'] is True and result['credentials'] == ACCESS
    assert host.actions == ['integration.get', 'system.info']  # one PHP process


def test_rotate_reauthorizes_through_magento(host, http, run_module):
    stored(host, active(), ACCESS)
    new = dict(ACCESS, access_token='n' * 32, access_token_secret='m' * 32)
    host.on('integration.activate', {'token_created': True, 'integration': active(), 'credentials': new})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'rotate': True, '_ansible_diff': True})
    assert not failed and result['changed']
    assert [(c['action'], c['reauthorize']) for c in writes(host)] == [('integration.activate', True)]
    assert result['credentials']['consumer_key'] == ACCESS['consumer_key']
    assert result['credentials']['access_token'] == 'n' * 32
    assert 'n' * 32 not in json.dumps(result['diff'])


def test_stale_verifier_row_is_cleared_not_silently_ignored(host, http, run_module):
    stored(host, integration(token={'type': 'verifier', 'rows': 1}), CONSUMER)
    host.on('integration.activate', {'token_created': True, 'integration': active(), 'credentials': ACCESS})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'flow': 'direct'})
    assert not failed and result['changed']
    assert [(c['action'], c['reauthorize']) for c in writes(host)] == [('integration.activate', True)]
    assert any('unfinished activation' in w for w in result['warnings'])


def test_two_stray_rows_are_revoked_first_in_the_same_php_process(host, http, run_module, monkeypatch):
    stored(host, integration(token={'type': 'access', 'rows': 2}, status=1), ACCESS)
    host.on('integration.revoke', {'revoked': True, 'integration': integration()})
    host.on('integration.activate', {'token_created': True, 'integration': active(), 'credentials': ACCESS})
    batches = []
    original = host.bridge
    monkeypatch.setattr(host, 'bridge', lambda transport, actions: batches.append([a['action'] for a in actions]) or original(transport, actions))
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP'})
    assert not failed and result['changed']
    assert ['integration.revoke', 'integration.activate'] in batches


def test_exchange_flow_runs_the_oauth_handshake_over_http(host, http, run_module):
    raw = integration()
    stored(host, raw, CONSUMER)
    host.on('integration.prepare_exchange', {'oauth_verifier': 'v' * 32, 'integration': raw, 'credentials': CONSUMER})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'flow': 'exchange'})
    # The stored integration is still inactive in this fake, so the final read shows it; tokens come from HTTP.
    assert not failed and result['changed'] and result['flow'] == 'exchange'
    assert http.calls[:3] == ['preflight', 'request_token', ('access_token', 'v' * 32)]
    assert result['credentials']['access_token'] == 'A' * 32


def test_callback_flow_waits_and_reports_a_third_party_that_never_finishes(host, http, run_module):
    raw = integration(endpoint='https://erp.example/cb', identity_link_url='https://erp.example/login')
    stored(host, raw, CONSUMER)
    host.on('integration.post_to_consumer', {'integration': raw})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'wait_timeout': 0})
    assert failed
    assert 'did not complete the token exchange within 0 seconds' in result['msg']
    assert 'https://erp.example/cb' in result['msg'] and 'oauth/token/request' in result['msg']
    assert CONSUMER['consumer_secret'] not in result['msg']


def test_callback_flow_succeeds_when_the_third_party_completes(host, http, run_module):
    raw = integration(endpoint='https://erp.example/cb', identity_link_url='https://erp.example/login')
    reads = []

    def get(action):
        reads.append(action)
        done = len(reads) > 2
        return {'integration': active(endpoint=raw['endpoint'], identity_link_url=raw['identity_link_url']) if done else raw,
                'credentials': ACCESS if done else CONSUMER}
    host.on('integration.get', get)
    host.on('system.info', {'base_url': 'https://shop.example/'})
    host.on('integration.post_to_consumer', {'integration': raw})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'wait_timeout': 10})
    assert not failed and result['changed'] and result['flow'] == 'callback' and result['status'] == 'active'


def test_revoked_removes_tokens_and_is_idempotent(host, http, run_module):
    stored(host, active(), ACCESS)
    host.on('integration.revoke', {'revoked': True, 'integration': integration()})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'state': 'revoked'})
    assert not failed and result['changed'] and result['status'] == 'inactive'
    assert result['credentials']['access_token'] is None
    host.calls[:] = []
    stored(host, integration(), CONSUMER)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'state': 'revoked'})
    assert not failed and not result['changed'] and writes(host) == []


def test_check_mode_mints_posts_and_proves_nothing(host, http, run_module):
    stored(host, integration(), CONSUMER)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', '_ansible_check_mode': True})
    assert not failed and result['changed'] and result['status'] == 'active'
    assert writes(host) == [] and http.calls == [] and result['verified'] is None


def test_refused_token_fails_naming_the_route(host, http, run_module):
    stored(host, active(), ACCESS)
    http.rest[(False, '/V1/modules')] = (401, {'message': 'The consumer isn\'t authorized to access %resources.',
                                               'parameters': {'resources': 'Magento_Backend::admin'}})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP'})
    assert failed and '/V1/modules' in result['msg'] and 'Magento_Backend::admin' in result['msg']


def test_a_route_without_acl_is_told_apart_from_a_bad_token(host, http, run_module):
    stored(host, active(), ACCESS)
    http.rest[(False, '/V1/store/storeViews')] = (401, {'message': 'The consumer isn\'t authorized to access %resources.',
                                                        'parameters': {'resources': 'Magento_Backend::store'}})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'verify_route': '/V1/store/storeViews',
                                                                'verify_bearer': True})
    assert not failed and result['verified'] is True
    assert result['verification']['route_authorized'] is False
    assert 'Magento_Backend::store' in result['verification']['message']
    assert result['verification']['bearer'] is not None


def test_missing_integration_fails_with_the_fix(host, http, run_module):
    stored(host, None, None)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Nope'})
    assert failed and 'create it first' in result['msg']


def test_missing_http_libraries_fail_with_install_hint(host, run_module, monkeypatch):
    monkeypatch.setattr(_oauth, 'HTTP_IMPORT_ERROR', 'ImportError: No module named requests_oauthlib')
    stored(host, active(), ACCESS)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP'})
    assert failed and 'requests-oauthlib' in result['msg']


def test_credentials_file_is_private_and_rewritten_only_on_change(host, http, run_module, tmp_path):
    path = str(tmp_path / 'erp.json')
    stored(host, active(), ACCESS)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'credentials_file': path})
    assert not failed and result['changed']
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        assert json.load(handle) == dict(ACCESS, name='Acme ERP')
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'credentials_file': path})
    assert not failed and not result['changed']
    assert os.listdir(str(tmp_path)) == ['erp.json']


def test_an_activation_done_meanwhile_by_another_run_is_accepted(host, http, run_module):
    reads = []

    def get(action):
        reads.append(action)
        return {'integration': integration() if len(reads) == 1 else active(),
                'credentials': CONSUMER if len(reads) == 1 else ACCESS}
    host.on('integration.get', get)
    host.on('system.info', {'base_url': 'https://shop.example/'})
    host.on('integration.activate', {'token_created': False, 'integration': active(), 'credentials': ACCESS})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'flow': 'direct'})
    assert not failed and result['status'] == 'active' and result['credentials'] == ACCESS


def test_an_activation_refused_as_a_conflict_reads_again_and_mints_no_second_token(host, http, run_module):
    other_run = {'activated': False}

    def get(action):
        done = other_run['activated']
        return {'integration': active() if done else integration(), 'credentials': ACCESS if done else CONSUMER}

    def activate(action):
        # Another run activated it between this run's read and its write: the bridge refuses the write.
        other_run['activated'] = True
        return MagentoError('Activating integration \'Acme ERP\' failed: Integration "Acme ERP" changed since it was '
                            'read (status, token): another process wrote it meanwhile.', kind='conflict')
    stored(host, None, None)
    host.on('integration.get', get)
    host.on('integration.activate', activate)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'flow': 'direct'})
    assert not failed, result
    assert result['status'] == 'active' and result['credentials'] == ACCESS and result['verified'] is True
    activations = [c for c in host.calls if c['action'] == 'integration.activate']
    assert len(activations) == 1 and activations[0]['expect'] == {'status': 0, 'token': {'type': None, 'rows': 0}}


def test_check_mode_accepts_an_integration_an_earlier_check_mode_task_would_create(host, http, run_module):
    stored(host, None, None)
    failed, result = run_module(magento_integration_auth.main, {'name': 'New', '_ansible_check_mode': True})
    assert not failed and result['changed'] and result['status'] == 'active'
    assert writes(host) == [] and any('check mode assumes' in w for w in result['warnings'])


@pytest.mark.parametrize('args, fragment', [
    ({'verify_route': 'V1/modules'}, 'must be a REST route starting with /'),
    ({'wait_timeout': -1}, 'wait_timeout must be 0 or more'),
    ({'credentials_file': '/nonexistent-dir/creds.json'}, 'does not exist; create it first'),
    ({'timeout': 0}, 'timeout must be a positive number'),
    ({'base_url': 'shop.example'}, 'base_url'),
])
def test_bad_options_fail_before_anything_is_read_or_written(host, http, run_module, args, fragment):
    stored(host, integration(), CONSUMER)
    failed, result = run_module(magento_integration_auth.main, dict(args, name='Acme ERP'))
    assert failed and fragment in result['msg']
    assert writes(host) == []


def test_an_unreachable_store_fails_before_magento_mints_anything(host, http, run_module, monkeypatch):
    from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError

    def unreachable():
        raise MagentoError('Reaching the store at https://shop.example/ failed: cannot reach it', kind='connection')
    monkeypatch.setattr(http, 'preflight', unreachable)
    stored(host, integration(), CONSUMER)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP'})
    assert failed and 'Reaching the store' in result['msg']
    assert writes(host) == []


# -- list mode (option integrations) ------------------------------------------------------------------------------

def record_batches(host, monkeypatch):
    seen = []
    original = host.bridge
    monkeypatch.setattr(host, 'bridge', lambda transport, actions: seen.append([a['action'] for a in actions])
                        or original(transport, actions))
    return seen


def stored_many(host, *pairs):
    by_name = dict((raw['name'].lower(), (raw, credentials)) for raw, credentials in pairs)

    def get(action):
        raw, credentials = by_name.get(action['name'].lower(), (None, None))
        return {'integration': raw, 'credentials': credentials if action.get('with_secrets') else None}
    host.on('integration.get', get)
    host.on('system.info', {'base_url': 'https://shop.example/', 'magento_version': '2.4.7-p3'})


def test_list_mode_one_read_one_write_then_http_proofs(host, http, run_module, monkeypatch):
    other_access = dict(ACCESS, access_token='o' * 32)
    stored_many(host, (integration(), CONSUMER), (integration(integration_id=8, name='Other'), CONSUMER),
                (active(integration_id=10, name='Done'), ACCESS))
    host.on('integration.activate', lambda action: {
        'token_created': True, 'credentials': ACCESS if action['integration_id'] == 7 else other_access,
        'integration': active(integration_id=action['integration_id'])})
    seen = record_batches(host, monkeypatch)
    failed, result = run_module(magento_integration_auth.main, {'_ansible_diff': True, 'integrations': [
        {'name': 'Acme ERP'}, {'name': 'Other', 'flow': 'direct'}, {'name': 'Done'}]})
    assert not failed and result['changed']
    assert seen == [['integration.get'] * 3 + ['system.info'], ['integration.activate', 'integration.activate']]
    assert [r['name'] for r in result['results']] == ['Acme ERP', 'Other', 'Done']
    assert [r['changed'] for r in result['results']] == [True, True, False]
    assert [r['credentials'] for r in result['results']] == [ACCESS, other_access, ACCESS]
    assert all(r['verified'] is True and r['status'] == 'active' for r in result['results'])
    assert http.calls.count(('oauth', '/V1/modules')) == 3 and http.calls.count('preflight') == 1
    assert sorted(result['diff']['after']) == ['Acme ERP', 'Other']
    assert 'a' * 32 not in json.dumps(result['diff'])
    assert 'credentials_file' not in result


def test_list_mode_rerun_is_one_read_and_no_write(host, http, run_module, monkeypatch):
    stored_many(host, (active(), ACCESS), (active(integration_id=8, name='Other'), ACCESS))
    seen = record_batches(host, monkeypatch)
    failed, result = run_module(magento_integration_auth.main, {'integrations': [{'name': 'Acme ERP'}, {'name': 'Other'}]})
    assert not failed and not result['changed']
    assert seen == [['integration.get', 'integration.get', 'system.info']]


def test_list_mode_exchange_and_revoke_share_the_write_batch(host, http, run_module, monkeypatch):
    stored_many(host, (integration(token={'type': 'verifier', 'rows': 1}), CONSUMER))
    host.on('integration.prepare_exchange', {'oauth_verifier': 'v' * 32, 'integration': integration(), 'credentials': CONSUMER})
    seen = record_batches(host, monkeypatch)
    failed, result = run_module(magento_integration_auth.main, {'integrations': [{'name': 'Acme ERP', 'flow': 'exchange'}]})
    assert not failed and result['changed']
    assert seen == [['integration.get', 'system.info'], ['integration.prepare_exchange'], ['integration.get']]
    assert [c['reauthorize'] for c in writes(host)] == [True]
    assert result['results'][0]['credentials']['access_token'] == 'A' * 32

    host.calls[:] = []
    seen[:] = []
    stored_many(host, (active(), ACCESS), (active(integration_id=8, name='Other'), ACCESS))
    host.on('integration.revoke', lambda action: {'revoked': True, 'integration': integration(integration_id=action['integration_id'])})
    failed, result = run_module(magento_integration_auth.main, {'state': 'revoked', 'integrations': [
        {'name': 'Acme ERP'}, {'name': 'Other'}]})
    assert not failed and result['changed']
    assert seen == [['integration.get', 'integration.get', 'system.info'], ['integration.revoke', 'integration.revoke']]
    assert all(r['status'] == 'inactive' and r['credentials']['access_token'] is None for r in result['results'])


def test_list_mode_check_mode_writes_and_proves_nothing(host, http, run_module, monkeypatch):
    stored_many(host, (integration(), CONSUMER))
    seen = record_batches(host, monkeypatch)
    failed, result = run_module(magento_integration_auth.main, {'_ansible_check_mode': True, 'integrations': [
        {'name': 'Acme ERP'}, {'name': 'Not yet'}]})
    assert not failed and result['changed']
    assert len(seen) == 1 and writes(host) == [] and http.calls == []
    assert [r['status'] for r in result['results']] == ['active', 'active']


def test_list_mode_missing_integration_fails_before_any_write(host, http, run_module):
    stored_many(host, (integration(), CONSUMER))
    host.on('integration.activate', {'token_created': True, 'integration': active(), 'credentials': ACCESS})
    failed, result = run_module(magento_integration_auth.main, {'integrations': [{'name': 'Acme ERP'}, {'name': 'Nope'}]})
    assert failed and "integrations[1] 'Nope'" in result['msg'] and 'create it first' in result['msg']
    assert writes(host) == []


@pytest.mark.parametrize('args, fragment', [
    ({'integrations': [{'name': 'A'}, {'name': 'a'}]}, 'name the same integration'),
    ({'integrations': [{'name': 'A', 'wait_timeout': -1}]}, 'wait_timeout must be 0 or more'),
    ({'integrations': [{'name': 'A'}], 'name': 'A'}, 'mutually exclusive'),
    ({'integrations': [{'name': 'A'}], 'credentials_file': '/tmp/x.json'}, 'mutually exclusive'),
])
def test_list_mode_bad_input_fails_before_anything_is_read(host, http, run_module, args, fragment):
    stored_many(host, (integration(), CONSUMER))
    failed, result = run_module(magento_integration_auth.main, args)
    assert failed and fragment in result['msg']
    assert host.calls == []


def test_list_mode_keeps_the_per_step_error_messages(host, http, run_module):
    stored_many(host, (active(), ACCESS))
    http.rest[(False, '/V1/modules')] = (401, {'message': 'The consumer isn\'t authorized to access %resources.',
                                               'parameters': {'resources': 'Magento_Backend::admin'}})
    failed, result = run_module(magento_integration_auth.main, {'integrations': [{'name': 'Acme ERP'}]})
    assert failed and "integration 'Acme ERP' was refused by GET" in result['msg']


class SlowHTTP(FakeHTTP):
    """Each proof takes a while; records how many run at once."""

    def __init__(self, host, refuse=()):
        super(SlowHTTP, self).__init__(host)
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.refuse = refuse

    def rest_get(self, route, credentials=None, bearer=None):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
            self.calls.append(('oauth', route, credentials['access_token']))
        if credentials['access_token'] in self.refuse or credentials['access_token'] not in self.host.access_tokens():
            return REFUSED
        return 200, ['Magento_Store']


def many_active(host, count):
    pairs = [(active(integration_id=100 + i, name='Shop %02d' % i), dict(ACCESS, access_token='%032d' % i))
             for i in range(count)]
    stored_many(host, *pairs)
    return [raw['name'] for raw, _credentials in pairs]


def test_list_mode_proves_the_tokens_eight_at_a_time_and_reports_each_in_order(host, run_module, monkeypatch):
    slow = SlowHTTP(host)
    monkeypatch.setattr(_oauth, 'OAuthClient', slow)
    monkeypatch.setattr(_oauth, 'HTTP_IMPORT_ERROR', None)
    names = many_active(host, 20)
    failed, result = run_module(magento_integration_auth.main, {'integrations': [{'name': n} for n in names]})
    assert not failed and not result['changed']
    assert slow.most == _authorization.PROOF_WORKERS == 8
    assert [r['name'] for r in result['results']] == names
    assert all(r['verified'] is True and r['verification']['status'] == 200 for r in result['results'])
    # every integration proven with its own token, once
    assert sorted(call[2] for call in slow.calls) == ['%032d' % i for i in range(20)]


def test_list_mode_concurrent_proofs_report_the_first_refused_integration_in_list_order(host, run_module, monkeypatch):
    slow = SlowHTTP(host, refuse=('%032d' % 3, '%032d' % 11))
    monkeypatch.setattr(_oauth, 'OAuthClient', slow)
    monkeypatch.setattr(_oauth, 'HTTP_IMPORT_ERROR', None)
    names = many_active(host, 12)
    failed, result = run_module(magento_integration_auth.main, {'integrations': [{'name': n} for n in names]})
    assert failed and "integration 'Shop 03' was refused by GET" in result['msg']
    assert len(slow.calls) == 12  # the other proofs still ran


# ---------------------------------------------------------------- max_token_age: rotation on a schedule

def made(days_ago):
    """An ISO 8601 UTC creation time ``days_ago`` days before now (as the bridge reports token.created_at)."""
    import datetime
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def aged(days_ago, **fields):
    return integration(status=1, token={'type': 'access', 'rows': 1, 'created_at': made(days_ago), 'revoked': False},
                       **fields)


def test_max_token_age_rotates_an_older_access_token_and_says_why(host, http, run_module):
    stored(host, aged(100), ACCESS)
    new = dict(ACCESS, access_token='n' * 32, access_token_secret='m' * 32)
    host.on('integration.activate', {'token_created': True, 'integration': aged(0), 'credentials': new})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'max_token_age': '90d',
                                                                '_ansible_diff': True})
    assert not failed and result['changed']
    assert [(c['action'], c['reauthorize']) for c in writes(host)] == [('integration.activate', True)]
    assert result['credentials']['access_token'] == 'n' * 32 and result['verified'] is True
    assert result['rotation'].startswith('the access token is 100d old (made 20')
    assert result['rotation'].endswith('older than max_token_age 90d')
    assert result['diff']['after']['rotation'] == result['rotation']
    assert result['diff']['before']['token_created_at'] != result['diff']['after']['token_created_at']
    assert 'n' * 32 not in json.dumps(result['diff']) and 'a' * 32 not in json.dumps(result['diff'])


def test_max_token_age_leaves_a_younger_token_alone(host, http, run_module):
    stored(host, aged(89), ACCESS)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'max_token_age': '90d'})
    assert not failed and not result['changed'] and writes(host) == []
    assert result['rotation'] is None and result['credentials'] == ACCESS


def test_max_token_age_in_check_mode_reports_the_rotation_and_writes_nothing(host, http, run_module):
    stored(host, aged(3), ACCESS)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'max_token_age': '2d',
                                                                '_ansible_check_mode': True, '_ansible_diff': True})
    assert not failed and result['changed'] and writes(host) == []
    assert 'older than max_token_age 2d' in result['rotation'] and result['verified'] is None
    assert result['diff']['after']['token_created_at'] == '(new)' and result['diff']['after']['rotation']


@pytest.mark.parametrize('age', ['90', '90x', 'd', '0d', '-1d', '1.5d', '90 days', ''])
def test_a_malformed_max_token_age_fails_before_anything_is_read(host, http, run_module, age):
    stored(host, aged(100), ACCESS)
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'max_token_age': age})
    assert failed and host.calls == []
    assert result['msg'].startswith('max_token_age %r is not a token age' % age)


@pytest.mark.parametrize('age, rotated', [('12h', True), ('1d12h', True), ('3d', False), ('4320m', False),
                                          ('2d23h', True)])
def test_max_token_age_units(host, http, run_module, age, rotated):
    stored(host, aged(2.99), ACCESS)  # 71.76 hours
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'max_token_age': age,
                                                                '_ansible_check_mode': True})
    assert not failed and result['changed'] is rotated


def test_max_token_age_does_not_rotate_an_inactive_integration_it_activates(host, http, run_module):
    stored(host, integration(), CONSUMER)
    host.on('integration.activate', {'token_created': True, 'integration': aged(0), 'credentials': ACCESS})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP', 'max_token_age': '1m'})
    assert not failed and result['changed'] and result['rotation'] is None
    assert [(c['action'], c['reauthorize']) for c in writes(host)] == [('integration.activate', False)]


def test_a_revoked_access_token_is_replaced(host, http, run_module):
    revoked = integration(status=1, token={'type': 'access', 'rows': 1, 'created_at': made(1), 'revoked': True})
    stored(host, revoked, ACCESS)
    host.on('integration.activate', {'token_created': True, 'integration': aged(0), 'credentials': ACCESS})
    failed, result = run_module(magento_integration_auth.main, {'name': 'Acme ERP'})
    assert not failed and result['changed']
    assert [(c['action'], c['reauthorize']) for c in writes(host)] == [('integration.activate', True)]
    assert result['rotation'] == 'Magento marks the access token revoked and refuses it'
    assert not any('unfinished activation' in warning for warning in result.get('warnings', []))


def test_list_mode_max_token_age_top_level_and_per_item(host, http, run_module, monkeypatch):
    stored_many(host, (aged(100), ACCESS), (aged(100, integration_id=8, name='Other'), ACCESS),
                (aged(10, integration_id=10, name='Young'), ACCESS))
    host.on('integration.activate', lambda action: {
        'token_created': True, 'credentials': ACCESS, 'integration': aged(0, integration_id=action['integration_id'])})
    seen = record_batches(host, monkeypatch)
    failed, result = run_module(magento_integration_auth.main, {'max_token_age': '90d', '_ansible_diff': True,
                                                                'integrations': [
                                                                    {'name': 'Acme ERP'},
                                                                    {'name': 'Other', 'max_token_age': '365d'},
                                                                    {'name': 'Young', 'max_token_age': '7d'}]})
    assert not failed and result['changed']
    assert seen == [['integration.get'] * 3 + ['system.info'], ['integration.activate', 'integration.activate']]
    assert [c['integration_id'] for c in writes(host)] == [7, 10]
    assert [r['changed'] for r in result['results']] == [True, False, True]
    assert [bool(r['rotation']) for r in result['results']] == [True, False, True]
    assert 'max_token_age 7d' in result['results'][2]['rotation']
    assert sorted(result['diff']['after']) == ['Acme ERP', 'Young']


def test_list_mode_a_malformed_item_max_token_age_names_the_item(host, http, run_module):
    stored_many(host, (aged(100), ACCESS))
    failed, result = run_module(magento_integration_auth.main, {'integrations': [
        {'name': 'Acme ERP', 'max_token_age': '3 weeks'}]})
    assert failed and host.calls == []
    assert result['msg'].startswith("integrations[0] 'Acme ERP': max_token_age '3 weeks' is not a token age")


def test_list_mode_reports_the_writes_committed_before_a_conflict(host, http, run_module):
    """The batch activated 'Acme ERP', then another run's activation of 'Other' refused the rest: the second attempt
    finds both active and changes nothing, but this run did activate one, so the task reports changed."""
    state = {7: False, 8: False}

    def get(action):
        iid = 7 if action['name'].lower() == 'acme erp' else 8
        raw = (active if state[iid] else integration)(integration_id=iid, name='Acme ERP' if iid == 7 else 'Other')
        return {'integration': raw, 'credentials': ACCESS if state[iid] else CONSUMER}

    def activate(action):
        iid = action['integration_id']
        if iid == 8:
            state[8] = True   # the other run got there first
            return MagentoError('Activating integration \'Other\' failed: Integration "Other" changed since it was read '
                                '(status, token): another process wrote it meanwhile.', kind='conflict')
        state[iid] = True
        return {'token_created': True, 'credentials': ACCESS, 'integration': active(integration_id=iid, name='Acme ERP')}
    stored(host, None, None)
    host.on('integration.get', get)
    host.on('integration.activate', activate)
    failed, result = run_module(magento_integration_auth.main, {'integrations': [{'name': 'Acme ERP'}, {'name': 'Other'}]})
    assert not failed, result
    assert [c['integration_id'] for c in writes(host)] == [7, 8]
    assert all(r['status'] == 'active' for r in result['results'])
    assert result['changed'] is True
