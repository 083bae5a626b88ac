# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.modules import magento_integration

from ansible_collections.commerceops.magento.tests.unit.plugins.fakes import integration

WRITES = {'integration.create', 'integration.update', 'integration.delete'}


def writes(host):
    return [action for action in host.actions if action in WRITES]


STORED_ORDER = ['Magento_Sales::sales', 'Magento_Backend::admin', 'Magento_Catalog::products']
SORTED = ['Magento_Backend::admin', 'Magento_Catalog::products', 'Magento_Sales::sales']


def test_creates_a_missing_integration_with_custom_resources_as_a_sorted_set(host, run_module):
    host.on('integration.get', {'integration': None})
    # Magento's answer, whatever was sent: it adds Magento_Backend::admin and reads the rules back in no fixed order.
    host.on('integration.create', {'integration': integration(resources=STORED_ORDER)})
    failed, result = run_module(magento_integration.main, {
        'name': 'Acme ERP', 'email': 'ops@acme.example',
        'resources': ['Magento_Sales::sales', 'Magento_Catalog::products', 'Magento_Sales::sales']})
    assert not failed and result['changed']
    create = host.calls[-1]
    assert create['action'] == 'integration.create'
    assert create['resources'] == ['Magento_Catalog::products', 'Magento_Sales::sales']
    assert create['all_resources'] is False
    assert create['endpoint'] == '' and create['identity_link_url'] == ''
    # The module reports what Magento stored (its id, the resources with the one it added), as a sorted set.
    assert result['integration']['id'] == 7 and result['integration']['resources'] == SORTED


@pytest.mark.parametrize('check_mode', [False, True])
def test_resources_read_back_in_another_order_are_no_change(host, run_module, check_mode):
    host.on('integration.get', {'integration': integration(resources=STORED_ORDER)})
    failed, result = run_module(magento_integration.main, {
        'name': 'Acme ERP', 'resources': ['Magento_Sales::sales', 'Magento_Catalog::products'],
        '_ansible_diff': True, '_ansible_check_mode': check_mode})
    assert not failed and not result['changed'], result
    assert result['diff'] == {'before': {}, 'after': {}}
    assert result['integration']['resources'] == SORTED
    assert writes(host) == []


def test_an_update_expects_the_resources_as_a_sorted_set(host, run_module):
    host.on('integration.get', {'integration': integration(resources=STORED_ORDER)})
    host.on('integration.update', {'integration': integration(email='new@acme.example', resources=STORED_ORDER)})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'email': 'new@acme.example', '_ansible_diff': True})
    assert not failed and result['changed']
    assert host.calls[-1]['expect']['resources'] == SORTED
    assert result['diff'] == {'before': {'email': 'ops@acme.example'}, 'after': {'email': 'new@acme.example'}}


def test_list_mode_resources_read_back_in_another_order_are_no_change(host, run_module):
    stored_integrations(host, integration(resources=STORED_ORDER),
                        integration(integration_id=8, name='Other', resources=list(reversed(STORED_ORDER))))
    failed, result = run_module(magento_integration.main, {'_ansible_diff': True, 'integrations': [
        {'name': 'Acme ERP', 'resources': ['Magento_Catalog::products', 'Magento_Sales::sales']},
        {'name': 'Other', 'resources': ['Magento_Sales::sales', 'Magento_Catalog::products']}]})
    assert not failed and not result['changed'] and result['changed_integrations'] == []
    assert result['diff'] == {'before': {}, 'after': {}}
    assert [i['resources'] for i in result['integrations']] == [SORTED, SORTED]
    assert writes(host) == []


def test_rerun_with_the_same_input_writes_nothing(host, run_module):
    host.on('integration.get', {'integration': integration()})
    failed, result = run_module(magento_integration.main, {
        'name': 'Acme ERP', 'email': 'ops@acme.example', 'resources': ['Magento_Catalog::products']})
    assert not failed and not result['changed']
    assert writes(host) == []
    assert host.actions == ['integration.get', 'acl.resources']


def test_update_sends_every_field_and_the_full_resource_set(host, run_module):
    host.on('integration.get', {'integration': integration()})
    host.on('integration.update', {'integration': integration(email='new@acme.example')})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'email': 'new@acme.example', '_ansible_diff': True})
    assert not failed and result['changed']
    update = host.calls[-1]
    assert update['action'] == 'integration.update' and update['integration_id'] == 7
    # Left-out fields are kept, and the resources go along so Magento does not wipe them.
    assert update['resources'] == ['Magento_Catalog::products'] and update['all_resources'] is False
    assert result['diff'] == {'before': {'email': 'ops@acme.example'}, 'after': {'email': 'new@acme.example'}}


def test_check_mode_reports_the_change_and_writes_nothing(host, run_module):
    host.on('integration.get', {'integration': None})
    failed, result = run_module(magento_integration.main, {
        'name': 'Acme ERP', 'resource_access': 'all', '_ansible_check_mode': True, '_ansible_diff': True})
    assert not failed and result['changed']
    assert writes(host) == []
    assert result['diff']['before'] == {'state': 'absent'}
    assert result['diff']['after']['resources'] == ['Magento_Backend::all']


def test_unknown_resource_fails_before_any_write_and_suggests_the_closest(host, run_module):
    host.on('integration.get', {'integration': None})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'resources': ['Magento_Catalog::product']})
    assert failed
    assert "'Magento_Catalog::product'" in result['msg'] and "did you mean 'Magento_Catalog::products'" in result['msg']
    assert writes(host) == []


@pytest.mark.parametrize('args, fragment', [
    ({'name': ''}, 'name must not be empty'),
    ({'name': ' padded '}, 'leading or trailing spaces'),
    ({'name': 'x' * 256}, 'at most 255'),
    ({'name': 'A', 'resource_access': 'all', 'email': 'not-an-email'}, "email 'not-an-email'"),
    ({'name': 'A', 'resource_access': 'all', 'callback_url': 'ftp://x.example/cb'}, 'callback_url'),
    ({'name': 'A', 'resource_access': 'all', 'identity_link_url': 'no-scheme.example'}, 'identity_link_url'),
    ({'name': 'A', 'resource_access': 'all', 'resources': ['Magento_Catalog::products']}, 'only used with resource_access=custom'),
    ({'name': 'A', 'resources': ['Magento_Backend::all']}, 'set resource_access=all'),
    ({'name': 'A', 'resource_access': 'custom'}, 'resources is required'),
    ({'name': 'A'}, 'needs its API resource access'),
])
def test_bad_input_fails_naming_the_field(host, run_module, args, fragment):
    host.on('integration.get', {'integration': None})
    failed, result = run_module(magento_integration.main, args)
    assert failed and fragment in result['msg']
    assert writes(host) == []


def test_plain_http_callback_is_allowed_with_magentos_warning(host, run_module):
    host.on('integration.get', {'integration': None})
    host.on('integration.create', {'integration': integration(endpoint='http://erp.example/cb', all_resources=True,
                                                              resources=['Magento_Backend::all'])})
    failed, result = run_module(magento_integration.main, {
        'name': 'Acme ERP', 'resource_access': 'all', 'callback_url': 'http://erp.example/cb'})
    assert not failed and result['changed']
    assert any('Integrations not using HTTPS are insecure' in w for w in result['warnings'])


def test_absent_removes_and_second_absent_is_a_no_op(host, run_module):
    host.on('integration.get', {'integration': integration()})
    host.on('integration.delete', {'deleted': integration()})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'state': 'absent'})
    assert not failed and result['changed'] and result['integration'] is None
    assert host.actions == ['integration.get', 'integration.delete']

    host.calls[:] = []
    host.on('integration.get', {'integration': None})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'state': 'absent'})
    assert not failed and not result['changed'] and writes(host) == []


def test_config_file_integration_cannot_be_edited(host, run_module):
    host.on('integration.get', {'integration': integration(setup_type=1)})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'email': 'other@acme.example'})
    assert failed and "can't be edited" in result['msg']
    assert writes(host) == []


def test_config_file_integration_cannot_be_removed(host, run_module):
    host.on('integration.get', {'integration': integration(setup_type=1)})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'state': 'absent'})
    assert failed and 'Uninstall the extension' in result['msg']
    assert writes(host) == []


def test_magento_refusal_surfaces_its_message_without_traceback(host, run_module):
    host.on('integration.get', {'integration': None})
    host.on('integration.create', MagentoError(
        "Creating integration 'Acme ERP' failed: The integration with name \"Acme ERP\" exists."))
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'resource_access': 'all'})
    assert failed and 'The integration with name "Acme ERP" exists.' in result['msg']
    assert 'Traceback' not in result['msg']


def test_switching_to_all_drops_the_custom_list(host, run_module):
    host.on('integration.get', {'integration': integration()})
    host.on('integration.update', lambda action: {'integration': integration(
        all_resources=True, resources=['Magento_Backend::all'])})
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'resource_access': 'all'})
    assert not failed and result['changed']
    assert host.calls[-1]['all_resources'] is True and host.calls[-1]['resources'] == []


CREATED_MEANWHILE = MagentoError("Creating integration 'Acme ERP' failed: Integration \"Acme ERP\" exists now (Magento: "
                                 "Unique constraint violation found): another process created it meanwhile.", kind='conflict')


def test_a_create_lost_to_a_concurrent_run_converges_on_the_winner(host, run_module):
    reads = []
    host.on('integration.get', lambda action: reads.append(1) or {'integration': None if len(reads) == 1 else integration()})
    host.on('integration.create', CREATED_MEANWHILE)
    failed, result = run_module(magento_integration.main, {
        'name': 'Acme ERP', 'email': 'ops@acme.example', 'resources': ['Magento_Catalog::products']})
    assert not failed, result
    assert writes(host) == ['integration.create'] and len(reads) == 2
    assert result['integration']['id'] == 7
    # The winner set what this run asked for: converged, nothing overwritten.
    assert not result.get('warnings')


def test_a_create_lost_to_a_run_with_other_resources_overwrites_them_and_warns(host, run_module):
    reads, updates = [], []
    winner = integration(resources=['Magento_Backend::admin', 'Magento_Sales::sales'])
    host.on('integration.get', lambda action: reads.append(1) or {'integration': None if len(reads) == 1 else winner})
    host.on('integration.create', CREATED_MEANWHILE)
    host.on('integration.update', lambda action: updates.append(action) or {'integration': integration(
        resources=['Magento_Catalog::products', 'Magento_Backend::admin'])})
    failed, result = run_module(magento_integration.main, {
        'name': 'Acme ERP', 'email': 'ops@acme.example', 'resources': ['Magento_Catalog::products']})
    assert not failed and result['changed']
    assert updates[0]['resources'] == ['Magento_Catalog::products'] and updates[0]['expect']['resources'] == winner['resources']
    assert len(result['warnings']) == 1
    warning = result['warnings'][0]
    assert "Integration 'Acme ERP' was written by another run at the same time (it created it)" in warning
    assert "resources ['Magento_Backend::admin', 'Magento_Sales::sales'] -> ['Magento_Backend::admin', " \
           "'Magento_Catalog::products']" in warning
    assert 'email' not in warning and 'The last writer wins' in warning


def test_a_duplicate_name_error_that_is_not_a_conflict_is_not_retried(host, run_module):
    """No text matching: only the bridge's kind conflict means a lost race."""
    reads = []
    host.on('integration.get', lambda action: reads.append(1) or {'integration': None})
    host.on('integration.create', MagentoError(
        "Creating integration 'Acme ERP' failed: The integration with name \"Acme ERP\" exists."))
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'resource_access': 'all'})
    assert failed and result['error_kind'] == 'magento' and len(reads) == 1


def test_a_second_conflict_fails_saying_a_rerun_is_safe(host, run_module):
    host.on('integration.get', {'integration': None})
    host.on('integration.create', CREATED_MEANWHILE)
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'resource_access': 'all'})
    assert failed and result['error_kind'] == 'conflict'
    assert writes(host) == ['integration.create'] * 2
    assert result['msg'].endswith('Another run is changing the same integration at the same time; rerun the task when '
                                  'it is done (a rerun is safe).')


def test_an_update_lost_to_a_concurrent_run_is_refused_then_applied_on_top_of_it(host, run_module):
    reads, updates = [], []
    winner = integration(email='other@acme.example', resources=['Magento_Backend::admin', 'Magento_Sales::sales'])
    host.on('integration.get', lambda action: reads.append(1) or {'integration': integration() if len(reads) == 1 else winner})

    def update(action):
        updates.append(action)
        if len(updates) == 1:
            return MagentoError("Updating integration 'Acme ERP' failed: Integration \"Acme ERP\" changed since it was "
                                "read (email, resources): another process wrote it meanwhile.", kind='conflict')
        # Magento adds Magento_Backend::admin to the stored list.
        return {'integration': integration(email=action['email'], resources=action['resources'] + ['Magento_Backend::admin'])}

    host.on('integration.update', update)
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'email': 'new@acme.example'})
    assert not failed and result['changed']
    # The other run's e-mail is replaced, and this run says so; its resources are kept, so no word about them.
    assert len(result['warnings']) == 1 and "email 'other@acme.example' -> 'new@acme.example'" in result['warnings'][0]
    assert 'resources' not in result['warnings'][0].split(':', 1)[1]
    # The first write carried what was read; the second one what the winner wrote, keeping its resources.
    assert updates[0]['expect']['email'] == 'ops@acme.example' and updates[0]['expect']['resources'] == integration()['resources']
    assert updates[1]['expect']['email'] == 'other@acme.example'
    assert 'Magento_Sales::sales' in updates[1]['resources'] and 'Magento_Catalog::products' not in updates[1]['resources']


# -- list mode (option integrations) ------------------------------------------------------------------------------

def batches(host, monkeypatch):
    """Record each bridge call (one PHP process) as the list of its actions."""
    seen = []
    original = host.bridge
    monkeypatch.setattr(host, 'bridge', lambda transport, actions: seen.append([a['action'] for a in actions])
                        or original(transport, actions))
    return seen


def stored_integrations(host, *raws):
    by_name = dict((raw['name'].lower(), raw) for raw in raws)
    host.on('integration.get', lambda action: {'integration': by_name.get(action['name'].lower())})


def test_list_mode_reads_once_and_writes_once(host, run_module, monkeypatch):
    stored_integrations(host, integration(), integration(integration_id=8, name='Old'))
    host.on('integration.create', {'integration': integration(
        integration_id=9, name='Reporting', all_resources=True, resources=['Magento_Backend::all'])})
    # Magento's answer to the update: another run activated it meanwhile, which only the answer can tell.
    host.on('integration.update', {'integration': integration(email='new@acme.example', status=1)})
    host.on('integration.delete', {'deleted': True})
    seen = batches(host, monkeypatch)
    failed, result = run_module(magento_integration.main, {'_ansible_diff': True, 'integrations': [
        {'name': 'Acme ERP', 'email': 'new@acme.example'},
        {'name': 'Reporting', 'resource_access': 'all'},
        {'name': 'Old', 'state': 'absent'},
        {'name': 'Gone', 'state': 'absent'},
    ]})
    assert not failed and result['changed']
    assert seen == [['integration.get'] * 4 + ['acl.resources'],
                    ['integration.update', 'integration.create', 'integration.delete']]
    assert [i and i['name'] for i in result['integrations']] == ['Acme ERP', 'Reporting', None, None]
    assert result['integrations'][0]['email'] == 'new@acme.example'
    assert result['integrations'][0]['status'] == 'active', 'the module reports what Magento answered, not its own input'
    # Only what changes, keyed by name.
    assert sorted(result['diff']['before']) == ['Acme ERP', 'Old', 'Reporting']
    assert result['diff']['before']['Acme ERP'] == {'email': 'ops@acme.example'}
    assert result['diff']['after']['Old'] == {'state': 'absent'}


def test_list_mode_rerun_reads_once_and_writes_nothing(host, run_module, monkeypatch):
    stored_integrations(host, integration(), integration(integration_id=8, name='Reporting', all_resources=True,
                                                         resources=['Magento_Backend::all']))
    seen = batches(host, monkeypatch)
    failed, result = run_module(magento_integration.main, {'integrations': [
        {'name': 'Acme ERP', 'email': 'ops@acme.example', 'resources': ['Magento_Catalog::products']},
        {'name': 'reporting', 'resource_access': 'all'},
    ]})
    assert not failed and not result['changed']
    assert seen == [['integration.get', 'integration.get', 'acl.resources']]
    assert [i['id'] for i in result['integrations']] == [7, 8]


def test_list_mode_checks_every_item_before_writing_and_names_the_bad_one(host, run_module):
    stored_integrations(host)
    failed, result = run_module(magento_integration.main, {'integrations': [
        {'name': 'Good', 'resource_access': 'all'},
        {'name': 'Bad', 'resources': ['Magento_Catalog::product']},
    ]})
    assert failed and "integrations[1] 'Bad'" in result['msg'] and 'did you mean' in result['msg']
    assert writes(host) == []


def test_list_mode_check_mode_reads_and_writes_nothing(host, run_module, monkeypatch):
    stored_integrations(host, integration())
    seen = batches(host, monkeypatch)
    failed, result = run_module(magento_integration.main, {'_ansible_check_mode': True, 'integrations': [
        {'name': 'Acme ERP', 'state': 'absent'}, {'name': 'New', 'resource_access': 'all'}]})
    assert not failed and result['changed']
    assert len(seen) == 1 and writes(host) == []
    assert result['integrations'][0] is None and result['integrations'][1]['name'] == 'New'


def test_list_mode_refuses_duplicate_names_before_reading(host, run_module):
    stored_integrations(host)
    failed, result = run_module(magento_integration.main, {'integrations': [
        {'name': 'Acme ERP', 'resource_access': 'all'}, {'name': 'ACME erp', 'resource_access': 'all'}]})
    assert failed and 'name the same integration' in result['msg'] and "'ACME erp'" in result['msg']
    assert host.calls == []


@pytest.mark.parametrize('args, fragment', [
    ({'name': 'A', 'integrations': [{'name': 'B'}]}, 'mutually exclusive'),
    ({'integrations': [{'name': 'B'}], 'email': 'ops@acme.example'}, 'mutually exclusive'),
    ({}, 'one of the following is required'),
    ({'integrations': [{'name': ' B'}]}, "integrations[0] ' B': name"),
])
def test_list_mode_option_errors(host, run_module, args, fragment):
    stored_integrations(host)
    failed, result = run_module(magento_integration.main, args)
    assert failed and fragment in result['msg']
    assert host.calls == []


def test_list_mode_empty_list_starts_no_php(host, run_module):
    failed, result = run_module(magento_integration.main, {'integrations': []})
    assert not failed and not result['changed'] and result['integrations'] == [] and host.calls == []
