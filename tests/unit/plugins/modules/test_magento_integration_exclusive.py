# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""magento_integration exclusive=true: the list is the whole set of (manual) integrations on the store."""

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.modules import magento_integration

from ansible_collections.commerceops.magento.tests.unit.plugins.fakes import integration

WRITES = {'integration.create', 'integration.update', 'integration.delete'}
ERP = integration()
LEGACY = integration(integration_id=8, name='Legacy Feed', email='old@feed.example')
VENDOR = integration(integration_id=9, name='Vendor Sync', setup_type=1)
STRAY = integration(integration_id=11, name='stray test', all_resources=True, resources=['Magento_Backend::all'])


def store(host, monkeypatch, *raws):
    """The store holds ``raws``; returns the bridge calls, each as its list of actions (one PHP process each)."""
    by_name = dict((raw['name'].lower(), raw) for raw in raws)
    host.on('integration.get', lambda action: {'integration': by_name.get(action['name'].lower())})
    host.on('integration.list', lambda action: {'integrations': sorted(
        (raw for raw in raws if action.get('names') is None or raw['name'] in action['names']),
        key=lambda raw: raw['integration_id'])})
    host.on('integration.delete', lambda action: {'deleted': [raw for raw in raws
                                                              if raw['integration_id'] == action['integration_id']][0]})
    seen = []
    original = host.bridge
    monkeypatch.setattr(host, 'bridge', lambda transport, actions: seen.append([a['action'] for a in actions])
                        or original(transport, actions))
    return seen


def deleted_ids(host):
    return [call['integration_id'] for call in host.calls if call['action'] == 'integration.delete']


def test_exclusive_removes_what_the_list_does_not_name_and_keeps_config_integrations(host, run_module, monkeypatch):
    seen = store(host, monkeypatch, ERP, LEGACY, VENDOR, STRAY)
    failed, result = run_module(magento_integration.main, {'exclusive': True, '_ansible_diff': True,
                                                           'integrations': [{'name': 'acme erp'}]})
    assert not failed and result['changed']
    # One read (the listed ones, the ACL tree and every integration on the store), one write.
    assert seen == [['integration.get', 'acl.resources', 'integration.list'],
                    ['integration.delete', 'integration.delete']]
    assert deleted_ids(host) == [8, 11]
    assert result['removed_integrations'] == ['Legacy Feed', 'stray test']
    assert result['changed_integrations'] == ['Legacy Feed', 'stray test']
    assert result['kept_integrations'] == ['Vendor Sync']
    assert any("'Vendor Sync'" in w and 'integration.xml' in w for w in result['warnings'])
    assert [i['name'] for i in result['integrations']] == ['Acme ERP']
    assert result['diff']['after'] == {'Legacy Feed': {'state': 'absent'}, 'stray test': {'state': 'absent'}}
    assert result['diff']['before']['Legacy Feed']['email'] == 'old@feed.example'


def test_exclusive_in_check_mode_reports_what_would_go_and_removes_nothing(host, run_module, monkeypatch):
    store(host, monkeypatch, ERP, LEGACY, VENDOR)
    failed, result = run_module(magento_integration.main, {'exclusive': True, '_ansible_check_mode': True,
                                                           '_ansible_diff': True, 'integrations': [{'name': 'Acme ERP'}]})
    assert not failed and result['changed'] and deleted_ids(host) == []
    assert not any(call['action'] in WRITES for call in host.calls)
    assert result['removed_integrations'] == ['Legacy Feed'] and result['kept_integrations'] == ['Vendor Sync']
    assert result['diff']['after'] == {'Legacy Feed': {'state': 'absent'}}


def test_exclusive_rerun_changes_nothing(host, run_module, monkeypatch):
    seen = store(host, monkeypatch, ERP, VENDOR)
    failed, result = run_module(magento_integration.main, {'exclusive': True, 'integrations': [{'name': 'Acme ERP'}]})
    assert not failed and not result['changed'] and len(seen) == 1
    assert result['removed_integrations'] == [] and result['kept_integrations'] == ['Vendor Sync']


def test_exclusive_counts_listed_absent_items_as_listed(host, run_module, monkeypatch):
    store(host, monkeypatch, ERP, LEGACY)
    failed, result = run_module(magento_integration.main, {'exclusive': True, 'integrations': [
        {'name': 'Acme ERP'}, {'name': 'Legacy Feed', 'state': 'absent'}]})
    assert not failed and result['changed'] and deleted_ids(host) == [8]
    assert result['removed_integrations'] == [] and result['changed_integrations'] == ['Legacy Feed']


def test_exclusive_with_an_empty_list_removes_every_manual_integration(host, run_module, monkeypatch):
    seen = store(host, monkeypatch, ERP, VENDOR)
    failed, result = run_module(magento_integration.main, {'exclusive': True, 'integrations': []})
    assert not failed and result['changed'] and deleted_ids(host) == [7]
    assert seen == [['integration.list'], ['integration.delete']]
    assert result['removed_integrations'] == ['Acme ERP'] and result['integrations'] == []


def test_without_exclusive_nothing_unlisted_is_read_or_removed(host, run_module, monkeypatch):
    seen = store(host, monkeypatch, ERP, LEGACY)
    failed, result = run_module(magento_integration.main, {'integrations': [{'name': 'Acme ERP'}]})
    assert not failed and not result['changed'] and deleted_ids(host) == []
    assert seen == [['integration.get', 'acl.resources']]
    assert result['removed_integrations'] == []


def test_exclusive_needs_the_integrations_list(host, run_module):
    failed, result = run_module(magento_integration.main, {'name': 'Acme ERP', 'exclusive': True})
    assert failed and result['msg'].startswith('exclusive=true works only with integrations') and host.calls == []
