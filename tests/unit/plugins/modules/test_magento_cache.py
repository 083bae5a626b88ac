# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.commerceops.magento.plugins.modules import magento_cache

TYPES = ['config', 'layout', 'full_page', 'config_webservice']


@pytest.fixture
def caches(host):
    state = dict((t, {'id': t, 'label': t.title(), 'enabled': True, 'invalidated': False}) for t in TYPES)
    host.on('cache.status', lambda action: {'types': [state[t] for t in TYPES]})
    return state


def test_refreshed_cleans_only_invalidated_types(host, run_module, caches):
    caches['config']['invalidated'] = caches['config_webservice']['invalidated'] = True
    failed, result = run_module(magento_cache.main, {})
    assert not failed and result['changed']
    assert host.commands == [['cache:clean', 'config', 'config_webservice']]
    assert result['cache_types'] == ['config', 'config_webservice']


def test_refreshed_with_nothing_invalidated_runs_nothing(host, run_module, caches):
    failed, result = run_module(magento_cache.main, {'state': 'refreshed'})
    assert not failed and not result['changed'] and host.commands == []


def test_cleaned_always_runs_and_without_types_cleans_all(host, run_module, caches):
    failed, result = run_module(magento_cache.main, {'state': 'cleaned'})
    assert not failed and result['changed'] and host.commands == [['cache:clean']]
    assert result['cache_types'] == TYPES


def test_flushed_named_types_in_magentos_order(host, run_module, caches):
    failed, result = run_module(magento_cache.main, {'state': 'flushed', 'types': ['full_page', 'config', 'config']})
    assert not failed and host.commands == [['cache:flush', 'config', 'full_page']]


def test_disabled_acts_only_on_enabled_types_and_is_idempotent(host, run_module, caches):
    caches['layout']['enabled'] = False
    failed, result = run_module(magento_cache.main, {'state': 'disabled', 'types': ['layout', 'full_page']})
    assert not failed and result['changed'] and host.commands == [['cache:disable', 'full_page']]
    caches['full_page']['enabled'] = False
    host.commands[:] = []
    failed, result = run_module(magento_cache.main, {'state': 'disabled', 'types': ['layout', 'full_page']})
    assert not failed and not result['changed'] and host.commands == []


def test_unknown_type_fails_listing_the_valid_ones(host, run_module, caches):
    failed, result = run_module(magento_cache.main, {'state': 'cleaned', 'types': ['config', 'bogus']})
    assert failed and "'bogus'" in result['msg'] and 'config_webservice' in result['msg']
    assert host.commands == []


def test_check_mode_reports_but_does_not_clean(host, run_module, caches):
    caches['config']['invalidated'] = True
    failed, result = run_module(magento_cache.main, {'_ansible_check_mode': True})
    assert not failed and result['changed'] and host.commands == []
