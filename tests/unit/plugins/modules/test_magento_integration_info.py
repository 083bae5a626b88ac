# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.modules import magento_integration_info

from ansible_collections.commerceops.magento.tests.unit.plugins.fakes import ACL, integration


SECRETS = {'consumer_key': 'k' * 32, 'consumer_secret': 's' * 32, 'access_token': 'a' * 32, 'access_token_secret': 't' * 32}


def test_one_integration_by_name_without_secrets(host, run_module):
    # A store that hands out secrets to whoever asks, and even puts them beside the rows it lists.
    host.on('integration.list', lambda action: {'integrations': [integration(status=1, credentials=SECRETS)]}
            if action.get('names') == ['Acme ERP'] else None)
    host.on('integration.get', lambda action: {'integration': integration(status=1),
                                               'credentials': SECRETS if action.get('with_secrets') else None})
    failed, result = run_module(magento_integration_info.main, {'name': 'Acme ERP'})
    assert not failed and not result['changed']
    assert result['integrations'][0]['status'] == 'active'
    assert result['integrations'][0]['resource_access'] == 'custom'
    assert 'acl_resources' not in result
    assert not any(call.get('with_secrets') for call in host.calls)
    leaked = [key for key, secret in SECRETS.items() if secret in str(result) or key in str(result)]
    assert not leaked, leaked


def test_all_integrations_and_the_acl_tree_in_one_bridge_call(host, run_module):
    other = integration(integration_id=8, name='Other', all_resources=True, resources=['Magento_Backend::all'])
    host.on('integration.list', {'integrations': [integration(), other]})
    failed, result = run_module(magento_integration_info.main, {'acl_resources': True})
    assert not failed
    assert [i['name'] for i in result['integrations']] == ['Acme ERP', 'Other']
    assert result['integrations'][1]['resource_access'] == 'all'
    assert result['acl_resources'] == ACL
    assert host.actions == ['integration.list', 'acl.resources']


def test_token_state_type_age_and_revoked_flag_without_secrets(host, run_module):
    active = integration(status=1, token={'type': 'access', 'rows': 1, 'created_at': '2026-08-01T12:00:00Z',
                                          'revoked': False})
    revoked = integration(integration_id=8, name='Revoked', status=1,
                          token={'type': 'access', 'rows': 1, 'created_at': '2026-02-03T04:05:06Z', 'revoked': True})
    fresh = integration(integration_id=9, name='Fresh',
                        token={'type': None, 'rows': 0, 'created_at': None, 'revoked': False})
    host.on('integration.list', {'integrations': [active, revoked, fresh]})
    failed, result = run_module(magento_integration_info.main, {})
    assert not failed
    assert [i['token'] for i in result['integrations']] == [
        {'type': 'access', 'created_at': '2026-08-01T12:00:00Z', 'revoked': False},
        {'type': 'access', 'created_at': '2026-02-03T04:05:06Z', 'revoked': True},
        {'type': 'none', 'created_at': None, 'revoked': False},
    ]
