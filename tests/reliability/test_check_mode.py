# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode, table-driven: against a store that needs the change, a check run writes nothing and predicts the real run.

Every row runs three times in one playbook: with check_mode and diff, for real, and with check_mode again. The
emulator's whole state (database rows, app/etc, cache folder) is digested around each run. The check run must leave
the digest byte-identical and report the same ``changed`` (and the same result fields) as the real run that follows;
the real run must change the digest (so the digest can see the write); the second check run must report no change
(except for the action states that always run) and write nothing either.

The role runs the same way, with ``ansible-playbook --check --diff`` on the command line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO, record

M = 'commerceops.magento.'
THIRD_PARTY = os.path.join(REPO, 'tests', 'integration', 'targets', 'setup_third_party', 'files', 'third_party.py')
ROLE_PREFIX = 'commerceops.magento.integration_onboarding : '
SECRET_KEYS = ('consumer_secret', 'access_token', 'access_token_secret')


def _integration(name, **fields):
    return {'name': 'setup ' + name, M + 'magento_integration': dict(fields, name=name)}


def _cache_entry(store, type_id):
    """A cached entry in the emulator's file cache, so that cleaning the type is a visible write."""
    folder = os.path.join(store.root, 'var', 'cache', type_id)
    return {'name': 'cache entry under ' + type_id, 'block': [
        {'ansible.builtin.file': {'path': folder, 'state': 'directory', 'mode': '0755'}},
        {'ansible.builtin.copy': {'content': '{"probe": 1}', 'dest': os.path.join(folder, 'probe.json'), 'mode': '0644'}}]}


def cases(store, third_party_url):
    """(id, module, args, setup tasks, changed by the second check run, result keys the check run must predict)."""
    creds = os.path.join(store.workdir, 'check-creds')
    return [
        ('integration-create', 'magento_integration',
         {'name': 'cm-new', 'email': 'ops@acme.example', 'resources': ['Magento_Catalog::products', 'Magento_Sales::sales']},
         [], False, ['integration:-id']),
        ('integration-update', 'magento_integration',
         {'name': 'cm-update', 'email': 'new@acme.example', 'callback_url': 'https://erp.acme.example/cb', 'resources': ['Magento_Sales::sales']},
         [_integration('cm-update', email='old@acme.example', resource_access='all')], False, ['integration']),
        ('integration-absent', 'magento_integration', {'name': 'cm-gone', 'state': 'absent'},
         [_integration('cm-gone', resource_access='all')], False, ['integration']),
        ('integration-info', 'magento_integration_info', {'acl_resources': True}, [], False, ['integrations', 'acl_resources']),
        ('auth-direct', 'magento_integration_auth',
         {'name': 'cm-direct', 'flow': 'direct', 'credentials_file': os.path.join(creds, 'direct.json')},
         [_integration('cm-direct', resource_access='all'),
          {'name': 'credentials dir', 'ansible.builtin.file': {'path': creds, 'state': 'directory', 'mode': '0700'}}],
         False, ['status', 'flow']),
        ('auth-exchange', 'magento_integration_auth', {'name': 'cm-exchange', 'flow': 'exchange'},
         [_integration('cm-exchange', resources=['Magento_Catalog::products'])], False, ['status', 'flow']),
        ('auth-callback', 'magento_integration_auth', {'name': 'cm-callback', 'flow': 'callback', 'wait_timeout': 20},
         [_integration('cm-callback', resource_access='all', callback_url=third_party_url + 'complete/cm',
                       identity_link_url=third_party_url + 'identity')], False, ['status', 'flow']),
        ('auth-auto-callback', 'magento_integration_auth', {'name': 'cm-auto', 'wait_timeout': 20},
         [_integration('cm-auto', resource_access='all', callback_url=third_party_url + 'complete/auto',
                       identity_link_url=third_party_url + 'identity')], False, ['status']),
        ('auth-rotate', 'magento_integration_auth', {'name': 'cm-direct', 'rotate': True}, [], True, ['status', 'flow']),
        ('auth-revoke', 'magento_integration_auth', {'name': 'cm-exchange', 'state': 'revoked'}, [], False, ['status']),
        ('config-set', 'magento_config', {'path': 'general/locale/code', 'value': 'fr_FR', 'scope': 'store', 'scope_code': 'default'},
         [], False, ['changes', 'invalidated_cache_types']),
        ('config-batch', 'magento_config',
         {'settings': [{'path': 'oauth/consumer/expiration_period', 'value': 600}, {'path': 'general/country/default', 'value': 'DE'},
                       {'path': 'web/cookie/cookie_lifetime', 'value': 7200, 'scope': 'website', 'scope_code': 'base'}]},
         [], False, ['changes', 'invalidated_cache_types']),
        ('config-absent', 'magento_config', {'path': 'general/store_information/name', 'state': 'absent'},
         [{'name': 'setup a stored value', M + 'magento_config': {'path': 'general/store_information/name', 'value': 'Acme'}}],
         False, ['changes', 'invalidated_cache_types']),
        ('config-encrypted', 'magento_config', {'path': 'payment/payflowpro/pwd', 'value': 'cm-payflow-password-1'},
         [], False, ['changes', 'invalidated_cache_types']),
        ('config-lock-env', 'magento_config', {'path': 'web/secure/enable_hsts', 'value': 1, 'lock': 'env'},
         [], False, ['changes', 'invalidated_cache_types']),
        ('cache-refreshed', 'magento_cache', {'state': 'refreshed'},
         [{'name': 'setup an invalidating save', M + 'magento_config': {'path': 'general/locale/weight_unit', 'value': 'kgs'}},
          _cache_entry(store, 'config')], False, ['cache_types']),
        ('cache-cleaned', 'magento_cache', {'types': ['config', 'layout'], 'state': 'cleaned'},
         [_cache_entry(store, 'config'), _cache_entry(store, 'layout')], True, ['cache_types']),
        ('cache-flushed', 'magento_cache', {'state': 'flushed'},
         [_cache_entry(store, 'config'), _cache_entry(store, 'full_page')], True, ['cache_types']),
        ('cache-disabled', 'magento_cache', {'types': ['full_page', 'block_html'], 'state': 'disabled'}, [], False, ['cache_types']),
        ('cache-enabled', 'magento_cache', {'types': ['full_page'], 'state': 'enabled'}, [], False, ['cache_types']),
        ('webapi-open', 'magento_webapi_security', {'allow_anonymous_guest_access': True},
         [_cache_entry(store, 'config_webservice')], False, ['allow_anonymous_guest_access', 'cleaned_cache_types']),
        ('webapi-close', 'magento_webapi_security', {'allow_anonymous_guest_access': False},
         [_cache_entry(store, 'config_webservice')], False, ['allow_anonymous_guest_access', 'cleaned_cache_types']),
    ]


def case_plays(store, table, results_file):
    tasks = []
    summary = {}
    for index, (case_id, module, args, setup, _recheck, _keys) in enumerate(table):
        secret = {'no_log': True} if module == 'magento_integration_auth' else {}
        tasks.extend(setup)
        tasks.append({'name': 'digest before ' + case_id, 'magento_ci_state': {'magento_root': store.root}, 'register': 'd0_%d' % index})
        tasks.append(dict(secret, name='check ' + case_id, register='check_%d' % index, ignore_errors=True, check_mode=True, diff=True,
                          **{M + module: args}))
        tasks.append({'name': 'digest after check ' + case_id, 'magento_ci_state': {'magento_root': store.root}, 'register': 'd1_%d' % index})
        if 'credentials_file' in args:
            tasks.append({'name': 'no credentials file after check ' + case_id, 'ansible.builtin.stat': {'path': args['credentials_file']},
                          'register': 'file_%d' % index})
        tasks.append(dict(secret, name='real ' + case_id, register='real_%d' % index, ignore_errors=True, diff=True, **{M + module: args}))
        tasks.append({'name': 'digest after real ' + case_id, 'magento_ci_state': {'magento_root': store.root}, 'register': 'd2_%d' % index})
        tasks.append(dict(secret, name='check again ' + case_id, register='recheck_%d' % index, ignore_errors=True, check_mode=True, diff=True,
                          **{M + module: args}))
        tasks.append({'name': 'digest after check again ' + case_id, 'magento_ci_state': {'magento_root': store.root},
                      'register': 'd3_%d' % index})
        summary[case_id] = {
            'check': '{{ check_%d }}' % index, 'real': '{{ real_%d }}' % index, 'recheck': '{{ recheck_%d }}' % index,
            'digests': '{{ [d0_%d.digest, d1_%d.digest, d2_%d.digest, d3_%d.digest] }}' % ((index,) * 4),
            'file_after_check': '{{ file_%d.stat.exists }}' % index if 'credentials_file' in args else False,
        }
    tasks.append({'name': 'write the results', 'ansible.builtin.copy': {'content': '{{ summary | to_json }}', 'dest': results_file},
                  'vars': {'summary': summary}, 'no_log': True})
    return [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/commerceops.magento.magento': store.connection}, 'tasks': tasks}]


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
def table(store, third_party_url):
    return cases(store, third_party_url)


@pytest.fixture(scope='module')
def outcomes(store, table):
    results_file = os.path.join(store.workdir, 'check-mode.json')
    rc, output = store.playbook(case_plays(store, table, results_file), name='check-mode')
    assert rc == 0 and os.path.exists(results_file), output[-4000:]
    with open(results_file) as handle:
        return json.load(handle)


def _failed(result):
    return result.get('failed') in (True, 'True')


def _predicted(check, real, keys):
    """The keys whose check-mode value differs from the real run's (``key:-field`` ignores one field of a dict)."""
    wrong = []
    for key in keys:
        name, ignored = (key.split(':-') + [None])[:2]
        expected, got = real.get(name), check.get(name)
        if ignored and isinstance(expected, dict) and isinstance(got, dict):
            expected = dict((k, v) for k, v in expected.items() if k != ignored)
            got = dict((k, v) for k, v in got.items() if k != ignored)
        if name in ('changes',) and isinstance(expected, list):
            # The real run reports what it read back; check mode what it would write: compare what identifies a change.
            expected = [dict((k, step.get(k)) for k in ('path', 'scope', 'scope_code', 'action')) for step in expected]
            got = [dict((k, step.get(k)) for k in ('path', 'scope', 'scope_code', 'action')) for step in got or []]
        if expected != got:
            wrong.append('%s: check mode said %r, the real run %r' % (name, got, expected))
    return wrong


def _figures(outcomes, table, role_runs):
    runs = zero = matched = 0
    for case_id, _module, _args, _setup, recheck_changes, _keys in table:
        outcome = outcomes[case_id]
        digests = outcome['digests']
        runs += 2
        zero += (digests[0] == digests[1]) + (digests[2] == digests[3])
        # The first check run against the real run after it; the second against what a run would now do.
        matched += (outcome['check'].get('changed') == outcome['real'].get('changed')) + (outcome['recheck'].get('changed') is recheck_changes)
    for role in role_runs:
        runs += 2
        zero += role['zero_writes']
        matched += role['matched']
    record('check mode', runs=runs, zero_writes=zero, matched_real_run=matched, rows=len(table) + len(role_runs))


@pytest.mark.parametrize('index', range(22), ids=lambda i: 'row%02d' % i)
def test_check_run_writes_nothing_and_predicts_the_real_run(outcomes, table, index):
    case_id, module, _args, _setup, recheck_changes, keys = table[index]
    outcome = outcomes[case_id]
    check, real, recheck = outcome['check'], outcome['real'], outcome['recheck']
    digests = outcome['digests']
    for label, result in (('check', check), ('real', real), ('second check', recheck)):
        assert not _failed(result), '%s: the %s run failed: %s' % (case_id, label, result.get('msg'))
    assert digests[0] == digests[1], '%s: the check run wrote to the store' % case_id
    assert not outcome['file_after_check'], '%s: the check run wrote the credentials file' % case_id
    expected_change = module != 'magento_integration_info'
    assert check['changed'] is expected_change, '%s: the store needs a change, check mode said changed=%s' % (case_id, check['changed'])
    assert real['changed'] is check['changed'], '%s: check mode said changed=%s, the real run %s' % (case_id, check['changed'], real['changed'])
    assert (digests[1] != digests[2]) is expected_change, '%s: the real run changed=%s but the digest says otherwise' % (case_id, real['changed'])
    assert not _predicted(check, real, keys), '%s: %s' % (case_id, '; '.join(_predicted(check, real, keys)))
    if expected_change:
        diff = check.get('diff') or {}
        assert diff.get('before') or diff.get('after'), '%s: check mode with --diff returned no diff: %r' % (case_id, diff)
        # A rotation changes only a secret: its diff names the key, masked on both sides.
        assert diff['before'] != diff['after'] or set(diff['after']) <= set(SECRET_KEYS), '%s: the diff shows no change: %r' % (case_id, diff)
    assert recheck['changed'] is recheck_changes, '%s: after the real run, check mode said changed=%s' % (case_id, recheck['changed'])
    assert digests[2] == digests[3], '%s: the second check run wrote to the store' % case_id


def test_table_covers_every_module_and_state(table):
    assert len(table) == 22
    covered = set((module, args.get('state') or args.get('flow') or '') for _c, module, args, _s, _r, _k in table)
    for module in ('magento_integration', 'magento_integration_info', 'magento_integration_auth', 'magento_config', 'magento_cache',
                   'magento_webapi_security'):
        assert any(m == module for m, _s in covered), module
    for state in ('refreshed', 'cleaned', 'flushed', 'enabled', 'disabled'):
        assert ('magento_cache', state) in covered, state
    for flow in ('direct', 'exchange', 'callback', 'revoked'):
        assert ('magento_integration_auth', flow) in covered, flow


# ---------------------------------------------------------------------------------------------------- the role

TASK_HEADER = re.compile(r'^(?:TASK|RUNNING HANDLER) \[(.*)\] \**$')
STATUS_LINE = re.compile(r'^(ok|changed|skipping|failed|fatal): \[localhost\]')
DIGEST_LINE = re.compile(r'DIGEST-(BEFORE|AFTER)=([0-9a-f]{64})')


def role_statuses(output):
    """[(task name, [status of each result line])] for the role's tasks and handlers, in order."""
    tasks = []
    for line in output.splitlines():
        header = TASK_HEADER.match(line)
        if header:
            tasks.append((header.group(1), []))
            continue
        status = STATUS_LINE.match(line)
        if status and tasks:
            tasks[-1][1].append('failed' if status.group(1) == 'fatal' else status.group(1))
    return [(name[len(ROLE_PREFIX):], statuses) for name, statuses in tasks if name.startswith(ROLE_PREFIX)]


def role_plays(store, credentials_dir):
    role_vars = {
        'integration_onboarding_magento_root': store.root, 'integration_onboarding_php_executable': store.php,
        'integration_onboarding_base_url': store.base_url, 'integration_onboarding_credentials_dir': credentials_dir,
        'integration_onboarding_allow_anonymous_guest_access': True, 'integration_onboarding_enable_integration_as_bearer': True,
        'integration_onboarding_config': [{'path': 'general/locale/code', 'value': 'de_DE'}],
        'integration_onboarding_integrations': [
            {'name': 'cm-role-erp', 'email': 'erp@acme.example', 'resources': ['Magento_Catalog::products', 'Magento_Sales::sales']},
            {'name': 'cm-role-pim', 'resource_access': 'all', 'flow': 'exchange'},
            {'name': 'cm-role-old', 'state': 'absent'},
        ],
    }
    digest = {'magento_ci_state': {'magento_root': store.root}, 'register': 'state'}
    return [
        {'name': 'before', 'hosts': 'localhost', 'gather_facts': False,
         'tasks': [digest, {'ansible.builtin.debug': {'msg': 'DIGEST-BEFORE={{ state.digest }}'}}]},
        {'name': 'the role', 'hosts': 'localhost', 'gather_facts': False,
         'roles': [{'role': 'commerceops.magento.integration_onboarding', 'vars': role_vars}]},
        {'name': 'after', 'hosts': 'localhost', 'gather_facts': False,
         'tasks': [digest, {'ansible.builtin.debug': {'msg': 'DIGEST-AFTER={{ state.digest }}'}}]},
    ]


def _run_role(store, plays, check):
    rc, output = store.playbook(plays, name='check-mode-role', args=['--check', '--diff'] if check else ['--diff'])
    digests = dict(DIGEST_LINE.findall(output))
    assert rc == 0 and len(digests) == 2, output[-4000:]
    return output, role_statuses(output), digests


@pytest.fixture(scope='module')
def role_runs(store):
    credentials_dir = os.path.join(store.workdir, 'role-creds')
    plays = role_plays(store, credentials_dir)
    # An integration for the role to remove, so that state=absent has something to do.
    rc, output = store.playbook([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'module_defaults': {'group/commerceops.magento.magento': store.connection}, 'block': [
            _integration('cm-role-old', resource_access='all'),
            {M + 'magento_webapi_security': {'allow_anonymous_guest_access': False}}]}]}], name='check-mode-role-setup')
    assert rc == 0, output[-3000:]
    check = _run_role(store, plays, check=True)
    dir_after_check = os.path.exists(credentials_dir)
    real = _run_role(store, plays, check=False)
    recheck = _run_role(store, plays, check=True)
    return {'check': check, 'real': real, 'recheck': recheck, 'dir_after_check': dir_after_check, 'credentials_dir': credentials_dir}


def _changed_tasks(statuses):
    return [(name, statuses) for name, statuses in statuses if 'changed' in statuses]


def test_role_check_run_writes_nothing(outcomes, table, role_runs):
    check_output, check_statuses, check_digests = role_runs['check']
    _real_output, real_statuses, real_digests = role_runs['real']
    _recheck_output, recheck_statuses, recheck_digests = role_runs['recheck']
    zero_writes = (check_digests['BEFORE'] == check_digests['AFTER']) + (recheck_digests['BEFORE'] == recheck_digests['AFTER'])
    matched = (check_statuses == real_statuses) + (not _changed_tasks(recheck_statuses))
    _figures(outcomes, table, [{'zero_writes': zero_writes, 'matched': matched}])
    assert len(check_statuses) >= 10 and 'Magento integration onboarding (check mode)' in check_output, check_output[-3000:]
    assert check_digests['BEFORE'] == check_digests['AFTER'], 'the role in --check wrote to the store'
    assert not role_runs['dir_after_check'], 'the role in --check created its credentials directory'
    assert real_digests['BEFORE'] != real_digests['AFTER'], 'the real run of the role wrote nothing: the store did not need changes'
    assert recheck_digests['BEFORE'] == recheck_digests['AFTER'], 'the second --check run wrote to the store'


def test_role_check_run_reports_each_task_as_the_real_run_does(role_runs):
    check_statuses = role_runs['check'][1]
    real_statuses = role_runs['real'][1]
    assert len(real_statuses) >= 10 and any('changed' in statuses for _name, statuses in real_statuses), real_statuses
    assert check_statuses == real_statuses, 'per task, --check said\n%s\nthe real run\n%s' % (
        '\n'.join(map(repr, check_statuses)), '\n'.join(map(repr, real_statuses)))


def test_role_check_run_after_the_real_run_reports_no_change(role_runs):
    recheck_statuses = role_runs['recheck'][1]
    assert len(recheck_statuses) >= 10
    assert not _changed_tasks(recheck_statuses), 'after the real run, --check still reports changes: %r' % _changed_tasks(recheck_statuses)
