"""config: scopes, declared paths, get_items/delete_items, read_value, locks, invalidation."""

import json
import os

import pytest

from magento_emulator import cache, config, crypto, phparray, store

ALLOW = 'webapi/webapisecurity/allow_insecure'
BEARER = 'oauth/consumer/enable_integration_as_bearer'


def rows(root, path):
    conn = store.connect(root)
    try:
        return [tuple(r) for r in conn.execute('SELECT scope, scope_id, value FROM core_config_data WHERE path = ? '
                                               'ORDER BY config_id', (path,))]
    finally:
        conn.close()


def invalidated(root):
    path = os.path.join(root, 'var', 'cache', 'invalidated.json')
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def item(path, scope='default', code=''):
    return {'path': path, 'scope': scope, 'scope_code': code}


@pytest.mark.parametrize('scope, code, message', [
    ('default', 'base', config.MSG_DEFAULT_WITH_CODE),
    ('', 'base', 'A scope is missing. Enter a scope and try again.'),
    ('bogus', '', 'A scope code is missing. Enter a code and try again.'),
    ('websites', '', 'A scope code is missing. Enter a code and try again.'),
    ('stores', '9bad', config.MSG_CODE_FORMAT),
    ('websites', '1', config.MSG_CODE_FORMAT),
    ('bogus', 'base', 'The "bogus" value doesn\'t exist. Enter another value and try again.'),
    ('websites', 'nosuch', 'The "nosuch" value doesn\'t exist. Enter another value and try again.'),
    ('store', 'DEFAULT', 'The "DEFAULT" value doesn\'t exist. Enter another value and try again.'),
])
def test_scope_errors_in_config_set_order(emulator_root, scope, code, message):
    conn = store.connect(emulator_root)
    try:
        with pytest.raises(config.ScopeError) as info:
            config.resolve_scope(conn, scope, code)
    finally:
        conn.close()
    assert info.value.message == message and info.value.kind == 'input'


@pytest.mark.parametrize('scope, code', [
    ('default', 'base'), ('', 'base'), ('bogus', ''), ('websites', ''), ('stores', '9bad'), ('bogus', 'base'),
    ('group', 'main_website_store'),
])
def test_the_bridge_only_guards_scope_and_code_the_client_checked(emulator_root, scope, code):
    with pytest.raises(config.InputError) as info:
        config.get_items(emulator_root, [item(ALLOW, scope, code)])
    assert info.value.message == 'Invalid scope "%s" with scope code "%s".' % (scope, code) and info.value.kind == 'input'


def test_an_unknown_scope_code_is_magentos_answer_through_the_bridge(emulator_root):
    with pytest.raises(config.ScopeError) as info:
        config.get_items(emulator_root, [item(ALLOW, 'websites', 'nosuch')])
    assert info.value.message == 'The "nosuch" value doesn\'t exist. Enter another value and try again.'


def test_get_items_shape_and_scopes(emulator_root):
    config.set_value(emulator_root, ALLOW, '1', 'website', 'base')
    got = config.get_items(emulator_root, [item(ALLOW), item(ALLOW, 'website', 'base'), item(ALLOW, 'stores', 'default'),
                                           item('bogus/path/here')])
    assert got[0] == {'path': ALLOW, 'scope': 'default', 'scope_code': '', 'scope_id': 0, 'declared': True,
                      'sensitive': False, 'exists': False, 'value': None, 'locked': None}
    assert got[1]['scope'] == 'websites' and got[1]['scope_id'] == 1 and got[1]['exists'] and got[1]['value'] == '1'
    assert got[2]['scope'] == 'stores' and got[2]['scope_id'] == 1 and not got[2]['exists']
    assert got[3]['declared'] is False and got[3]['exists'] is False
    assert rows(emulator_root, ALLOW) == [('websites', 1, '1')]


def test_encrypted_field_stored_encrypted_and_decrypted_by_get(emulator_root):
    assert config.set_value(emulator_root, 'carriers/dhl/id', 'my-secret-id') == 'Value was saved.'
    (scope, scope_id, stored), = rows(emulator_root, 'carriers/dhl/id')
    assert stored.startswith('0:3:') and len(stored) == 60
    assert crypto.decrypt(emulator_root, stored) == 'my-secret-id'
    got, = config.get_items(emulator_root, [item('carriers/dhl/id')])
    assert got['sensitive'] is True and got['value'] == 'my-secret-id'
    assert config.read_value(emulator_root, 'carriers/dhl/id') == 'my-secret-id'
    assert config.show(emulator_root, 'carriers/dhl/id') == ['******']


def test_empty_value_stored_as_null(emulator_root):
    config.set_value(emulator_root, 'carriers/dhl/account', '')
    assert rows(emulator_root, 'carriers/dhl/account') == [('default', 0, None)]
    got, = config.get_items(emulator_root, [item('carriers/dhl/account')])
    assert got['exists'] is True and got['value'] is None
    assert config.show(emulator_root, 'carriers/dhl/account') == ['']


def test_invalidation_only_on_change(emulator_root):
    config.set_value(emulator_root, ALLOW, '0')          # equals the config.xml default: no change
    assert invalidated(emulator_root) is None
    config.set_value(emulator_root, ALLOW, '1')
    assert invalidated(emulator_root) == {'config': 1, 'config_webservice': 1}
    cache.clean(emulator_root)
    config.set_value(emulator_root, ALLOW, '1')          # same value again
    assert invalidated(emulator_root) == {}
    config.set_value(emulator_root, 'oauth/cleanup/cleanup_probability', '7', 'websites', 'base')
    assert invalidated(emulator_root) == {'config': 1}


def test_set_cleans_config_entries_but_keeps_the_flag(emulator_root):
    cache.save(emulator_root, 'config', 'scopes', {'x': 1})
    cache.save(emulator_root, 'config_webservice', 'routes', {'y': 1})
    config.set_value(emulator_root, ALLOW, '1')
    assert cache.load(emulator_root, 'config', 'scopes') is None
    assert cache.load(emulator_root, 'config_webservice', 'routes') == {'y': 1}
    assert cache.invalidated(emulator_root) == ['config', 'config_webservice']


def test_lock_env_and_config(emulator_root):
    config.set_value(emulator_root, BEARER, '1')
    assert config.set_value(emulator_root, BEARER, '1', lock='env') == 'Value was saved in app/etc/env.php and locked.'
    env = phparray.load_file(os.path.join(emulator_root, 'app/etc/env.php'))
    assert env['system'] == {'default': {'oauth': {'consumer': {'enable_integration_as_bearer': '1'}}}}
    assert list(env)[-1] == 'system'
    with pytest.raises(config.MagentoError) as info:
        config.set_value(emulator_root, BEARER, '0')
    assert info.value.message == config.MSG_LOCKED
    # website scope under a default lock: "saved", nothing written
    assert config.set_value(emulator_root, BEARER, '0', 'websites', 'base') == 'Value was saved.'
    assert rows(emulator_root, BEARER) == [('default', 0, '1')]
    got, = config.get_items(emulator_root, [item(BEARER, 'websites', 'base')])
    assert got['locked'] == {'source': 'app/etc/env.php', 'scope': 'default', 'value': '1'}
    assert config.set_value(emulator_root, BEARER, '0', lock='config') == \
        'Value was saved in app/etc/config.php and locked.'
    cfg = phparray.load_file(os.path.join(emulator_root, 'app/etc/config.php'))
    assert cfg['system']['default']['oauth']['consumer']['enable_integration_as_bearer'] == '0'
    assert 'modules' in cfg
    # env.php wins over config.php
    assert config.read_value(emulator_root, BEARER) == '1'
    assert config.show(emulator_root, BEARER) == ['1']
    conn = store.connect(emulator_root)
    assert conn.execute("SELECT COUNT(*) FROM flag WHERE flag_code = 'config_hash'").fetchone()[0] == 1
    conn.close()


def test_lock_at_website_scope(emulator_root):
    config.set_value(emulator_root, 'general/locale/code', 'de_DE', 'website', 'base', lock='env')
    env = phparray.load_file(os.path.join(emulator_root, 'app/etc/env.php'))
    assert env['system'] == {'websites': {'base': {'general': {'locale': {'code': 'de_DE'}}}}}
    got = config.get_items(emulator_root, [item('general/locale/code'), item('general/locale/code', 'websites', 'base'),
                                           item('general/locale/code', 'stores', 'default')])
    assert got[0]['locked'] is None
    assert got[1]['locked'] == {'source': 'app/etc/env.php', 'scope': 'websites', 'value': 'de_DE'}
    assert got[2]['locked'] is None
    assert config.read_value(emulator_root, 'general/locale/code') == 'en_US'
    assert config.read_value(emulator_root, 'general/locale/code', 'stores', 1) == 'de_DE'
    with pytest.raises(config.MagentoError):
        config.set_value(emulator_root, 'general/locale/code', 'fr_FR', 'websites', 'base')
    assert config.set_value(emulator_root, 'general/locale/code', 'fr_FR') == 'Value was saved.'


def test_read_value_inheritance_and_defaults(emulator_root):
    assert config.read_value(emulator_root, 'oauth/consumer/expiration_period') == '300'
    assert config.read_value(emulator_root, BEARER) is None
    assert config.read_value(emulator_root, 'web/unsecure/base_url') == 'http://127.0.0.1:8080/'
    config.set_value(emulator_root, 'web/seo/use_rewrites', '1')
    config.set_value(emulator_root, 'web/seo/use_rewrites', '0', 'stores', 'default')
    assert config.read_value(emulator_root, 'web/seo/use_rewrites', 'websites', 1) == '1'
    assert config.read_value(emulator_root, 'web/seo/use_rewrites', 'stores', 1) == '0'


def test_delete_items(emulator_root):
    config.set_value(emulator_root, ALLOW, '1', 'websites', 'base')
    cache.save(emulator_root, 'config', 'k', 1)
    out = config.delete_items(emulator_root, [item(ALLOW, 'website', 'base'), item(ALLOW)])
    assert out == [{'path': ALLOW, 'scope': 'websites', 'scope_code': 'base', 'deleted': True},
                   {'path': ALLOW, 'scope': 'default', 'scope_code': '', 'deleted': False}]
    assert rows(emulator_root, ALLOW) == []
    assert cache.load(emulator_root, 'config', 'k') is None


def test_delete_refuses_locked_paths_before_deleting_anything(emulator_root):
    config.set_value(emulator_root, ALLOW, '1', 'websites', 'base')
    config.set_value(emulator_root, BEARER, '1', lock='config')
    with pytest.raises(config.InputError) as info:
        config.delete_items(emulator_root, [item(ALLOW, 'websites', 'base'), item(BEARER, 'stores', 'default')])
    # The PHP bridge's guard: the client refuses it first, naming the file.
    assert info.value.message == 'Config path "%s" is locked at stores scope: not deleted.' % BEARER
    assert rows(emulator_root, ALLOW) == [('websites', 1, '1')]


@pytest.mark.parametrize('bad, message', [
    ({'scope': 'default'}, 'The parameter "path" is missing.'),
    ({'path': 5}, 'The parameter "path" must be a string.'),
    ({'path': ' '}, 'The parameter "path" must not be empty.'),
    ({'path': ALLOW, 'scope': 1}, 'The parameters "scope" and "scope_code" must be strings.'),
])
def test_item_input_errors(emulator_root, bad, message):
    with pytest.raises(config.InputError) as info:
        config.get_items(emulator_root, [bad])
    assert info.value.message == message and info.value.kind == 'input'


def test_declared_paths_data():
    for path in (ALLOW, 'webapi/soap/charset', 'webapi/jwtauth/jwt_alg', 'webapi/validation/maximum_page_size',
                 'oauth/cleanup/cleanup_probability', BEARER, 'oauth/access_token_lifetime/admin',
                 'oauth/authentication_lock/timeout', 'web/unsecure/base_url', 'web/secure/base_url',
                 'web/seo/use_rewrites', 'general/locale/code', 'general/store_information/name',
                 'carriers/dhl/id', 'carriers/dhl/account'):
        assert config.is_declared(path), path
    for path in ('webapi/webapisecurity', 'webapi', 'system/adminnotification/feed_url', 'bogus/path/here'):
        assert not config.is_declared(path), path
    assert config.is_encrypted('carriers/dhl/id') and not config.is_encrypted(ALLOW)
    assert config.field(ALLOW)['scopes'] == ['default']


def test_lock_values_as_strings(emulator_root):
    env_path = os.path.join(emulator_root, 'app/etc/env.php')
    env = phparray.load_file(env_path)
    env['system'] = {'default': {'web': {'seo': {'use_rewrites': True}}, 'oauth': {'cleanup': {'cleanup_probability': 7}}},
                     'website': {'base': {'general': {'locale': {'code': 'de_DE'}}}}}
    phparray.dump_file(env_path, env)
    got = config.get_items(emulator_root, [item('web/seo/use_rewrites', 'stores', 'default'),
                                           item('oauth/cleanup/cleanup_probability'),
                                           item('general/locale/code', 'websites', 'base')])
    assert [g['locked'] for g in got] == [
        {'source': 'app/etc/env.php', 'scope': 'default', 'value': '1'},
        {'source': 'app/etc/env.php', 'scope': 'default', 'value': '7'},
        {'source': 'app/etc/env.php', 'scope': 'websites', 'value': 'de_DE'}]
    assert config.read_value(emulator_root, 'oauth/cleanup/cleanup_probability') == '7'


def test_options_of_fields_with_a_source_model(emulator_root):
    got = config.options_items([{'path': 'web/seo/use_rewrites'}, {'path': 'web/url/redirect_to_base'},
                                {'path': 'general/store_information/name'}, {'path': 'bogus/path/here'}])
    assert got[0] == {'path': 'web/seo/use_rewrites', 'declared': True, 'type': 'select',
                      'source_model': 'Magento\\Config\\Model\\Config\\Source\\Yesno',
                      'options': [{'value': '1', 'label': 'Yes'}, {'value': '0', 'label': 'No'}]}
    assert [option['value'] for option in got[1]['options']] == ['0', '1', '301']
    assert got[2]['type'] == 'text' and got[2]['options'] is None and got[2]['source_model'] is None
    assert got[3] == {'path': 'bogus/path/here', 'declared': False, 'type': None, 'source_model': None, 'options': None}
    for path, flags in config._data()['fields'].items():
        if flags.get('source_model'):
            assert flags['source_model'] in config._data()['source_models'], path
            assert flags.get('type') in ('select', 'multiselect'), path
