# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.commerceops.magento.plugins.modules import magento_webapi_security

PATH = 'webapi/webapisecurity/allow_insecure'


@pytest.fixture
def setting(host):
    current = {'path': PATH, 'scope': 'default', 'scope_code': '', 'scope_id': 0, 'declared': True,
               'sensitive': False, 'exists': False, 'value': None, 'locked': None}
    host.on('config.get', lambda action: {'items': [current]})
    return current


def test_unset_means_off_so_asking_off_changes_nothing(host, run_module, setting):
    failed, result = run_module(magento_webapi_security.main, {'allow_anonymous_guest_access': False})
    assert not failed and not result['changed']
    assert host.commands == [] and result['cleaned_cache_types'] == []


def test_switching_on_saves_cleans_config_webservice_and_warns(host, run_module, setting):
    failed, result = run_module(magento_webapi_security.main, {'allow_anonymous_guest_access': True})
    assert not failed and result['changed']
    assert host.commands == [['config:set', '--', PATH, '1'], ['cache:clean', 'config', 'config_webservice']]
    assert result['cleaned_cache_types'] == ['config', 'config_webservice']
    assert any('/V1/products' in warning for warning in result['warnings'])


def test_already_on_is_idempotent_and_cleans_nothing(host, run_module, setting):
    setting.update(exists=True, value='1')
    failed, result = run_module(magento_webapi_security.main, {'allow_anonymous_guest_access': True})
    assert not failed and not result['changed'] and host.commands == []
    assert 'warnings' not in result


def test_without_refresh_the_cache_is_left_alone(host, run_module, setting):
    setting.update(exists=True, value='1')
    failed, result = run_module(magento_webapi_security.main, {'allow_anonymous_guest_access': False,
                                                               'refresh_cache': False, '_ansible_diff': True})
    assert not failed and result['changed']
    assert host.commands == [['config:set', '--', PATH, '0']]
    assert result['diff'] == {'before': {'allow_anonymous_guest_access': True}, 'after': {'allow_anonymous_guest_access': False}}


def test_check_mode_writes_nothing(host, run_module, setting):
    failed, result = run_module(magento_webapi_security.main, {'allow_anonymous_guest_access': True,
                                                               '_ansible_check_mode': True})
    assert not failed and result['changed'] and host.commands == []


def invalidated(host, *types):
    host.on('cache.status', {'types': [{'id': cache_type, 'invalidated': cache_type in types}
                                       for cache_type in ('config', 'layout', 'config_webservice')]})


def test_a_setting_saved_by_an_interrupted_run_gets_its_caches_cleaned(host, run_module, setting):
    # Saved, but the run stopped before cache:clean: the value is not in effect until config_webservice is cleaned.
    setting.update(exists=True, value='1')
    invalidated(host, 'config', 'config_webservice', 'layout')
    failed, result = run_module(magento_webapi_security.main, {'allow_anonymous_guest_access': True, '_ansible_diff': True})
    assert not failed and result['changed']
    assert host.commands == [['cache:clean', 'config', 'config_webservice']]
    assert result['cleaned_cache_types'] == ['config', 'config_webservice']
    assert result['diff'] == {'before': {}, 'after': {}} and 'warnings' not in result


def test_only_config_invalidated_does_not_hold_the_setting_back(host, run_module, setting):
    setting.update(exists=True, value='1')
    invalidated(host, 'config')
    failed, result = run_module(magento_webapi_security.main, {'allow_anonymous_guest_access': True})
    assert not failed and not result['changed'] and host.commands == []
