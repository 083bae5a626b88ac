# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Magento reads an integration's ACL rules back in no fixed order (SPEC §1.10): reruns must not see a change.

The integrations are created while the emulator reads rule rows back in rule order (ACL tree order, as a
near-empty table on a real store); then the emulator shuffles them on every read (``acl_order``), and the same
tasks run again: single and list mode of magento_integration, the role, check mode with diff, and
magento_integration_info. Every rerun must report no change, show an empty diff and leave the store digest
byte-identical; every read must return the resources in one documented order (sorted by id). Last, an update of
another field while the order keeps changing must pass the bridge's compare-and-write guard at the first try.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import record
from store_checks import digest

M = 'commerceops.magento.'
ADMIN = 'Magento_Backend::admin'
# Tree order, code-point order and MariaDB's utf8_general_ci order of these all differ.
RESOURCES = ['Magento_Sales::sales', 'Magento_PageBuilder::template_apply', 'Magento_Catalog::products',
             'Magento_PageBuilder::templates', 'Magento_Backend::store']
SORTED = sorted(set(RESOURCES) | {ADMIN})
# The role proves each token with a signed REST call, and Magento records every OAuth nonce it accepts.
PROOF_TABLES = ('oauth_nonce',)
LIST_ITEMS = [{'name': 'order-list-%d' % index, 'resources': RESOURCES} for index in (1, 2, 3)]
ROLE_ITEMS = [{'name': 'order-role-%d' % index, 'resources': RESOURCES} for index in (1, 2)]


def _set_order(store, order):
    path = os.path.join(store.root, 'var', 'emulator-faults.json')
    with open(path, 'w') as handle:
        json.dump({'acl_order': order}, handle)


def _tasks(store):
    """The contended tasks, each registered as ``t_<key>``."""
    role_vars = {'integration_onboarding_magento_root': store.root, 'integration_onboarding_php_executable': store.php,
                 'integration_onboarding_base_url': store.base_url, 'integration_onboarding_integrations': ROLE_ITEMS}
    return [
        ('single', {M + 'magento_integration': {'name': 'order-single', 'resources': RESOURCES}}),
        ('list', {M + 'magento_integration': {'integrations': LIST_ITEMS}}),
        ('role', {'ansible.builtin.include_role': {'name': 'commerceops.magento.integration_onboarding'}, 'vars': role_vars}),
    ]


def _play(store, results_file, check=False, keys=('single', 'list')):
    tasks = []
    for key, task in _tasks(store):
        if key not in keys:
            continue
        task = dict(task, register='t_' + key)
        if check:
            task.update(check_mode=True, diff=True)
        tasks.append(task)
    for read in (1, 2):
        tasks.append({M + 'magento_integration_info': {}, 'register': 't_info%d' % read})
    summary = dict((key, {'changed': '{{ t_%s is changed }}' % key, 'diff': '{{ t_%s.diff | default({}) }}' % key,
                          'integration': '{{ t_%s.integration | default(None) }}' % key,
                          'integrations': '{{ t_%s.integrations | default([]) }}' % key}) for key in keys if key != 'role')
    summary['info'] = ['{{ t_info1.integrations }}', '{{ t_info2.integrations }}']
    tasks.append({'ansible.builtin.copy': {'dest': results_file, 'content': '{{ summary | to_json }}', 'mode': '0600'},
                  'vars': {'summary': summary}, 'check_mode': False})
    return [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/commerceops.magento.magento': dict(store.connection, base_url=store.base_url)},
             'tasks': tasks}]


def _run(store, name, **kwargs):
    """(results, output); results None when the play failed (the tests say so with its output)."""
    results_file = os.path.join(store.workdir, name + '.json')
    rc, output = store.playbook(_play(store, results_file, **kwargs), name=name)
    if rc != 0:
        return None, output
    with open(results_file) as handle:
        return json.load(handle), output


def _ok(reruns, run):
    assert reruns[run] is not None, 'the %s run failed:\n%s' % (run, reruns[run + '_output'][-4000:])
    return reruns[run]


@pytest.fixture(scope='module')
def reruns(store):
    _set_order(store, 'rows')
    first, output = _run(store, 'order-first', keys=('single', 'list', 'role'))
    assert first is not None, output[-4000:]
    _set_order(store, 'shuffle')
    before = digest(store.root, PROOF_TABLES)
    outcome = {'first': first}
    outcome['check'], outcome['check_output'] = _run(store, 'order-check', check=True)
    outcome['rerun'], outcome['rerun_output'] = _run(store, 'order-rerun', keys=('single', 'list', 'role'))
    outcome['digests'] = (before, digest(store.root, PROOF_TABLES))
    return outcome


def test_first_run_returns_resources_sorted_by_id(reruns):
    first = reruns['first']
    assert first['single']['changed'] in (True, 'True')
    assert first['single']['integration']['resources'] == SORTED
    assert [item['resources'] for item in first['list']['integrations']] == [SORTED] * len(LIST_ITEMS)


@pytest.mark.parametrize('run', ['check', 'rerun'])
def test_a_rerun_with_the_rules_read_in_another_order_changes_nothing(reruns, run):
    result = _ok(reruns, run)
    changed = [key for key in ('single', 'list') if result[key]['changed'] not in (False, 'False')]
    diffs = dict((key, result[key]['diff']) for key in ('single', 'list')
                 if result[key]['diff'] and (result[key]['diff'].get('before') or result[key]['diff'].get('after')))
    record('acl_order', reruns_changed=len(changed))
    assert not changed, '%s run reported changed for %s; diff %s' % (run, changed, diffs)
    assert not diffs, 'the %s run shows an order-only diff: %s' % (run, diffs)
    assert result['single']['integration']['resources'] == SORTED
    assert [item['resources'] for item in result['list']['integrations']] == [SORTED] * len(LIST_ITEMS)


def test_the_role_rerun_reports_no_change(reruns):
    _ok(reruns, 'rerun')
    recap = [line for line in reruns['rerun_output'].splitlines() if line.startswith('localhost')]
    assert recap and 'failed=0' in recap[-1], reruns['rerun_output'][-3000:]
    # The results file is the play's only change.
    assert ' changed=1 ' in recap[-1], reruns['rerun_output'][-6000:]


def test_the_rerun_writes_nothing(reruns):
    before, after = reruns['digests']
    assert before == after, 'the reruns with the rule rows read in another order wrote to the store'


def test_info_returns_one_stable_order(reruns):
    for run in ('check', 'rerun'):
        first, second = _ok(reruns, run)['info']
        assert first == second
        ours = [item for item in first if item['name'].startswith('order-')]
        assert len(ours) == 1 + len(LIST_ITEMS) + len(ROLE_ITEMS)
        assert all(item['resources'] == SORTED for item in ours), ours


def test_an_update_passes_the_guard_while_the_order_changes(store, reruns):
    """The bridge's compare-and-write guard compares resources as a set: a re-read in another order is no conflict."""
    _set_order(store, 'shuffle')
    results_file = os.path.join(store.workdir, 'order-update.json')
    tasks = [{M + 'magento_integration': {'name': 'order-single', 'email': 'round-%d@acme.example' % index},
              'register': 'u%d' % index} for index in range(5)]
    tasks.append({'ansible.builtin.copy': {'dest': results_file, 'mode': '0600',
                                           'content': '{{ [u0, u1, u2, u3, u4] | map(attribute="changed") | list | to_json }}'}})
    plays = [{'hosts': 'localhost', 'gather_facts': False,
              'module_defaults': {'group/commerceops.magento.magento': store.connection}, 'tasks': tasks}]
    rc, output = store.playbook(plays, name='order-update', ANSIBLE_CALLBACK_RESULT_FORMAT='json')
    assert rc == 0, output[-4000:]
    with open(results_file) as handle:
        assert json.load(handle) == [True] * 5
    # A conflict would have been retried (read again): the guard's refusal shows as a second read of the integration.
    assert 'changed since it was read' not in output
