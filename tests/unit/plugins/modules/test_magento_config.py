# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.commerceops.magento.plugins.modules import magento_config


def item(path, value=None, exists=True, declared=True, sensitive=False, locked=None, scope='default', code=''):
    return {'path': path, 'scope': scope, 'scope_code': code, 'scope_id': 0, 'declared': declared,
            'sensitive': sensitive, 'exists': exists, 'value': value, 'locked': locked}


@pytest.fixture
def stored(host):
    """Answer config.get from a dict of path -> CONFIG_ITEM; cache.status says config is invalidated."""
    items = {}
    host.on('config.get', lambda action: {'items': [
        items.get(i['path'], item(i['path'], exists=False, scope=i['scope'], code=i['scope_code'])) for i in action['items']]})
    host.on('config.delete', lambda action: {'items': [dict(i, deleted=True) for i in action['items']]})
    host.on('cache.status', {'types': [{'id': 'config', 'label': 'Configuration', 'enabled': True, 'invalidated': True}]})
    return items


def test_changed_value_is_saved_with_config_set_and_reports_invalidated_types(host, run_module, stored):
    stored['oauth/consumer/expiration_period'] = item('oauth/consumer/expiration_period', '300')
    failed, result = run_module(magento_config.main, {'path': 'oauth/consumer/expiration_period', 'value': 600,
                                                      '_ansible_diff': True})
    assert not failed and result['changed']
    assert host.commands == [['config:set', '--', 'oauth/consumer/expiration_period', '600']]
    assert result['invalidated_cache_types'] == ['config']
    assert result['diff'] == {'before': {'default:oauth/consumer/expiration_period': '300'},
                              'after': {'default:oauth/consumer/expiration_period': '600'}}


def test_stored_zero_is_seen_as_zero_so_a_rerun_writes_nothing(host, run_module, stored):
    stored['webapi/webapisecurity/allow_insecure'] = item('webapi/webapisecurity/allow_insecure', '0')
    failed, result = run_module(magento_config.main, {'path': 'webapi/webapisecurity/allow_insecure', 'value': False})
    assert not failed and not result['changed']
    assert host.commands == [] and host.actions == ['config.get', 'config.options']


def test_settings_batch_reads_once_and_writes_only_what_differs(host, run_module, stored):
    stored['general/locale/code'] = item('general/locale/code', 'en_GB', scope='stores', code='default')
    stored['oauth/cleanup/cleanup_probability'] = item('oauth/cleanup/cleanup_probability', '100')
    failed, result = run_module(magento_config.main, {'settings': [
        {'path': 'general/locale/code', 'scope': 'store', 'scope_code': 'default', 'value': 'en_GB'},
        {'path': 'web/seo/use_rewrites', 'scope': 'website', 'scope_code': 'base', 'value': True},
        {'path': 'oauth/cleanup/cleanup_probability', 'state': 'absent'},
    ]})
    assert not failed and result['changed']
    assert host.actions.count('config.get') == 1
    assert host.commands == [['config:set', '--scope=websites', '--scope-code=base', '--', 'web/seo/use_rewrites', '1']]
    deletion = [c for c in host.calls if c['action'] == 'config.delete'][0]
    assert deletion['items'] == [{'path': 'oauth/cleanup/cleanup_probability', 'scope': 'default', 'scope_code': ''}]
    assert [c['action'] for c in result['changes']] == ['set', 'delete']


def test_deletions_read_the_invalidated_types_in_their_own_bridge_call(host, run_module, stored):
    stored['oauth/cleanup/cleanup_probability'] = item('oauth/cleanup/cleanup_probability', '100')
    failed, result = run_module(magento_config.main, {'path': 'oauth/cleanup/cleanup_probability', 'state': 'absent'})
    assert not failed and result['changed'] and result['invalidated_cache_types'] == ['config']
    # Two PHP processes: the read, then the deletion with the cache status after it (not a third for the status).
    assert host.batches == [['config.get', 'config.options'], ['config.delete', 'cache.status']]


def test_locked_value_fails_before_any_write_naming_the_file(host, run_module, stored):
    stored['oauth/consumer/enable_integration_as_bearer'] = item(
        'oauth/consumer/enable_integration_as_bearer', None, exists=False,
        locked={'source': 'app/etc/env.php', 'scope': 'default', 'value': '0'})
    failed, result = run_module(magento_config.main, {'settings': [
        {'path': 'web/seo/use_rewrites', 'value': 1},
        {'path': 'oauth/consumer/enable_integration_as_bearer', 'value': 1}]})
    assert failed and 'locked in app/etc/env.php' in result['msg'] and 'lock=env' in result['msg']
    assert host.commands == []


def test_locked_value_already_as_wanted_is_no_change(host, run_module, stored):
    stored['web/seo/use_rewrites'] = item('web/seo/use_rewrites', None, exists=False,
                                          locked={'source': 'app/etc/config.php', 'scope': 'default', 'value': '1'})
    failed, result = run_module(magento_config.main, {'path': 'web/seo/use_rewrites', 'value': '1'})
    assert not failed and not result['changed']


def test_lock_env_writes_with_lock_env_and_is_idempotent(host, run_module, stored):
    failed, result = run_module(magento_config.main, {'path': 'web/seo/use_rewrites', 'value': '1', 'lock': 'env'})
    assert not failed and result['changed']
    assert host.commands == [['config:set', '--lock-env', '--', 'web/seo/use_rewrites', '1']]
    host.commands[:] = []
    stored['web/seo/use_rewrites'] = item('web/seo/use_rewrites', None, exists=False,
                                          locked={'source': 'app/etc/env.php', 'scope': 'default', 'value': '1'})
    failed, result = run_module(magento_config.main, {'path': 'web/seo/use_rewrites', 'value': '1', 'lock': 'env'})
    assert not failed and not result['changed'] and host.commands == []


def test_undeclared_path_fails_with_magentos_message(host, run_module, stored):
    stored['bogus/path/here'] = item('bogus/path/here', exists=False, declared=False)
    failed, result = run_module(magento_config.main, {'path': 'bogus/path/here', 'value': 1})
    assert failed and 'The "bogus/path/here" path doesn\'t exist. Verify and try again.' in result['msg']
    assert host.commands == []


def test_sensitive_value_never_appears_in_the_result(host, run_module, stored):
    stored['carriers/dhl/id'] = item('carriers/dhl/id', 'old-secret-id', sensitive=True)
    failed, result = run_module(magento_config.main, {'path': 'carriers/dhl/id', 'value': 'new-secret-id',
                                                      '_ansible_diff': True})
    assert not failed and result['changed']
    assert 'secret-id' not in str(result)


def test_check_mode_writes_nothing_and_predicts_the_invalidation(host, run_module, stored):
    failed, result = run_module(magento_config.main, {'path': 'webapi/webapisecurity/allow_insecure', 'value': 1,
                                                      '_ansible_check_mode': True})
    assert not failed and result['changed']
    assert host.commands == [] and 'config.delete' not in host.actions
    assert result['invalidated_cache_types'] == ['config', 'config_webservice']


@pytest.mark.parametrize('args, fragment', [
    ({'path': 'webapi', 'value': 1}, 'is not a config path'),
    ({'path': 'a/b/c', 'value': 1, 'scope': 'website'}, 'needs scope_code'),
    ({'path': 'a/b/c', 'value': 1, 'scope_code': 'base'}, 'can\'t include a scope code'),
    ({'path': 'a/b/c', 'value': 1, 'scope': 'store', 'scope_code': '9bad'}, 'only letters'),
    ({'path': 'a/b/c'}, 'value is required'),
    ({'path': 'a/b/c', 'state': 'absent', 'lock': 'env'}, 'lock is only used'),
    ({'path': 'a/b/c', 'value': [1, 2]}, 'must be text'),
])
def test_bad_input_fails_before_reading_or_writing(host, run_module, stored, args, fragment):
    failed, result = run_module(magento_config.main, args)
    assert failed and fragment in result['msg']
    assert host.commands == [] and host.calls == []


@pytest.mark.parametrize('path, value, listed', [
    ('web/seo/use_rewrites', 'banana', "1 (Yes), 0 (No)"),
    ('web/seo/use_rewrites', 2, "1 (Yes), 0 (No)"),
    ('web/url/redirect_to_base', '302', "0 (No), 1 (Yes (302 Found)), 301 (Yes (301 Moved Permanently))"),
    ('general/country/allow', 'DE,XX', "DE (DE), FR (FR), GB (GB), US (US)"),
])
def test_a_value_outside_the_fields_options_fails_before_any_write_listing_them(host, run_module, stored, path, value, listed):
    failed, result = run_module(magento_config.main, {'settings': [
        {'path': 'oauth/consumer/expiration_period', 'value': 600},
        {'path': path, 'value': value},
    ]})
    assert failed
    assert path in result['msg'] and listed in result['msg']
    assert host.commands == [] and 'config.delete' not in host.actions
    # The options are read in the same bridge call as the values.
    assert host.actions == ['config.get', 'config.options']


@pytest.mark.parametrize('path, value, saved', [
    ('web/seo/use_rewrites', True, '1'),
    ('web/seo/use_rewrites', '0', '0'),
    ('web/url/redirect_to_base', 301, '301'),
    ('general/country/allow', 'DE,GB', 'DE,GB'),
    ('oauth/consumer/expiration_period', 'banana', 'banana'),  # a text field: Magento's backend model judges it
])
def test_a_value_among_the_fields_options_is_saved(host, run_module, stored, path, value, saved):
    failed, result = run_module(magento_config.main, {'path': path, 'value': value})
    assert not failed and result['changed']
    assert host.commands == [['config:set', '--', path, saved]]


def test_a_locked_value_outside_the_options_is_refused_too(host, run_module, stored):
    failed, result = run_module(magento_config.main, {'path': 'web/seo/use_rewrites', 'value': 'yes', 'lock': 'env'})
    assert failed and "1 (Yes), 0 (No)" in result['msg'] and host.commands == []


def test_a_locked_value_is_not_deleted_and_nothing_is_written(host, run_module, stored):
    # The rule lives here, before any write; the bridge's config.delete keeps only a terse guard.
    stored['oauth/cleanup/cleanup_probability'] = item('oauth/cleanup/cleanup_probability', '100')
    stored['webapi/webapisecurity/allow_insecure'] = item(
        'webapi/webapisecurity/allow_insecure', '1', locked={'source': 'app/etc/config.php', 'scope': 'default', 'value': '1'})
    failed, result = run_module(magento_config.main, {'settings': [
        {'path': 'oauth/cleanup/cleanup_probability', 'state': 'absent'},
        {'path': 'webapi/webapisecurity/allow_insecure', 'state': 'absent'},
    ]})
    assert failed and 'locked in app/etc/config.php' in result['msg'] and 'remove it there' in result['msg']
    assert 'config.delete' not in host.actions and host.commands == []


@pytest.mark.parametrize('path, value, predicted', [
    ('webapi/soap/charset', 'ISO-8859-1', ['config']),
    ('webapi/webapisecurity/allow_insecure', '1', ['config', 'config_webservice']),
])
def test_check_mode_predicts_the_cache_types_magento_invalidates(host, run_module, stored, path, value, predicted):
    """Only the Web API security plugin's path invalidates config_webservice (its CacheInvalidator), not all of webapi/."""
    failed, result = run_module(magento_config.main, {'path': path, 'value': value, '_ansible_check_mode': True})
    assert not failed and result['changed']
    assert result['invalidated_cache_types'] == predicted
    assert host.commands == []
