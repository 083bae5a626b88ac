"""cache: types, enabled/invalidated flags, entries, clean/flush/enable/disable, status()."""

import json
import os

import pytest

from magento_emulator import cache, phparray

IDS = ['config', 'layout', 'block_html', 'collections', 'reflection', 'db_ddl', 'compiled_config', 'eav',
       'customer_notification', 'config_integration', 'config_integration_api', 'graphql_query_resolver_result',
       'full_page', 'config_webservice', 'translate']


def raw(root):
    path = os.path.join(root, 'var', 'cache', 'invalidated.json')
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def test_types_in_config_order_with_labels(emulator_root):
    assert list(cache.TYPE_IDS) == IDS
    status = cache.status(emulator_root)
    assert [t['id'] for t in status] == IDS
    assert status[0] == {'id': 'config', 'label': 'Configuration', 'enabled': True, 'invalidated': False}
    assert status[13]['label'] == 'Web Services Configuration'
    assert status[11]['label'] == 'GraphQL Query Resolver Results'


def test_requested_order_dedup_and_unknown():
    assert cache.requested(None) == IDS
    assert cache.requested(['full_page', 'config', 'config', ' ']) == ['config', 'full_page']
    with pytest.raises(cache.UnsupportedTypesError) as info:
        cache.requested(['config', 'bogus', 'other'])
    assert info.value.message == ("The following requested cache types are not supported: 'bogus', 'other'.\n"
                                  "Supported types: " + ', '.join(IDS))


def test_entries_load_save_clean(emulator_root):
    assert cache.load(emulator_root, 'config_webservice', 'routes') is None
    assert cache.save(emulator_root, 'config_webservice', 'routes', {'a': [1]}) is True
    assert os.path.isfile(os.path.join(emulator_root, 'var/cache/config_webservice/routes.json'))
    assert cache.load(emulator_root, 'config_webservice', 'routes') == {'a': [1]}
    assert cache.clean(emulator_root, ['config']) == ['config']
    assert cache.load(emulator_root, 'config_webservice', 'routes') == {'a': [1]}
    cache.clean(emulator_root, ['config_webservice'])
    assert cache.load(emulator_root, 'config_webservice', 'routes') is None


def test_disabled_type_neither_loads_nor_saves(emulator_root):
    cache.save(emulator_root, 'full_page', 'k', 1)
    assert cache.disable(emulator_root, ['full_page']) == ['full_page']
    assert cache.load(emulator_root, 'full_page', 'k') is None
    assert cache.save(emulator_root, 'full_page', 'k2', 2) is False
    assert not os.path.exists(os.path.join(emulator_root, 'var/cache/full_page/k2.json'))


def test_invalidated_flags_clean_and_hidden_when_disabled(emulator_root):
    cache.invalidate(emulator_root, ['config', 'config_webservice'])
    assert raw(emulator_root) == {'config': 1, 'config_webservice': 1}
    assert cache.invalidated(emulator_root) == ['config', 'config_webservice']
    cache.clean(emulator_root, ['config'])
    assert raw(emulator_root) == {'config_webservice': 1}
    cache.disable(emulator_root, ['config_webservice'])
    assert cache.invalidated(emulator_root) == []
    assert [t['invalidated'] for t in cache.status(emulator_root)] == [False] * 15
    assert raw(emulator_root) == {'config_webservice': 1}
    assert cache.enable(emulator_root, ['config_webservice']) == ['config_webservice']
    assert raw(emulator_root) == {}


def test_flush_removes_the_invalidated_entry_and_the_default_storage(emulator_root):
    cache.invalidate(emulator_root, 'config_webservice')
    cache.save(emulator_root, 'layout', 'x', 1)
    cache.save(emulator_root, 'full_page', 'y', 1)
    assert cache.flush(emulator_root, ['config']) == ['config']
    assert raw(emulator_root) is None
    assert cache.load(emulator_root, 'layout', 'x') is None
    assert cache.load(emulator_root, 'full_page', 'y') == 1
    cache.flush(emulator_root, ['full_page'])
    assert cache.load(emulator_root, 'full_page', 'y') is None


def test_enable_disable_write_env_php(emulator_root):
    env = os.path.join(emulator_root, 'app/etc/env.php')
    with open(env) as handle:
        before = handle.read()
    assert cache.disable(emulator_root, ['full_page', 'layout']) == ['layout', 'full_page']
    assert cache.disable(emulator_root, ['full_page']) == []
    data = phparray.load_file(env)
    assert data['cache_types']['full_page'] == 0 and data['cache_types']['layout'] == 0
    assert cache.enable(emulator_root, None) == ['layout', 'full_page']
    with open(env) as handle:
        assert handle.read() == before
