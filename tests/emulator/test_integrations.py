"""IntegrationService / OauthService semantics against observed/schema.md and SPEC §1.11, §3."""

import socket

import pytest

from conftest import ConsumerEndpoint
from magento_emulator import crypto, integrations as svc, store
from magento_emulator.integrations import MagentoError

PRODUCTS = 'Magento_Catalog::products'
STORE = 'Magento_Backend::store'


@pytest.fixture
def conn(emulator_root):
    c = store.connect(emulator_root)
    yield c
    c.close()


NO_TOKEN = {'type': None, 'rows': 0, 'created_at': None, 'revoked': False}


def kind(token):
    """The token's type and row count (its created_at is the time of the test run)."""
    return token['type'], token['rows']


def count(conn, table, where='1', args=()):
    return conn.execute('SELECT COUNT(*) FROM %s WHERE %s' % (table, where), args).fetchone()[0]


def create(conn, root, name='probe', **kw):
    params = dict(email='probe@example.com', endpoint='', identity_link_url='', all_resources=False, resources=[])
    params.update(kw)
    return svc.create(conn, root, name, **params)


def test_create_all_rows(conn, emulator_root):
    got = create(conn, emulator_root, 'probe-all', all_resources=True)
    row = conn.execute('SELECT * FROM integration').fetchone()
    assert (row['name'], row['email'], row['endpoint'], row['status'], row['setup_type'],
            row['identity_link_url']) == ('probe-all', 'probe@example.com', None, 0, 0, None)
    cons = conn.execute('SELECT * FROM oauth_consumer').fetchone()
    assert row['consumer_id'] == cons['entity_id']
    assert cons['name'] == 'Integration%d' % row['integration_id']
    assert cons['updated_at'] == '0000-00-00 00:00:00'
    assert cons['callback_url'] is None and cons['rejected_callback_url'] == ''
    assert len(cons['key']) == 32 and cons['key'].isalnum() and cons['key'] == cons['key'].lower()
    assert cons['secret'].startswith('0:3:') and len(cons['secret']) == 84
    plain = crypto.decrypt(emulator_root, cons['secret'])
    assert len(plain) == 32 and plain.isalnum() and plain == plain.lower()
    assert count(conn, 'oauth_token') == 0
    assert [tuple(r) for r in conn.execute(
        'SELECT resource_id, privileges, permission FROM authorization_rule r JOIN authorization_role o '
        'ON o.role_id = r.role_id WHERE o.user_type = ?', ('1',))] == [('Magento_Backend::all', None, 'allow')]
    assert got['all_resources'] is True and got['resources'] == ['Magento_Backend::all']
    assert got['token'] == NO_TOKEN
    assert got['status'] == 0 and isinstance(got['integration_id'], int)


def test_create_custom_rows(conn, emulator_root):
    got = create(conn, emulator_root, 'probe-custom', resources=[PRODUCTS, STORE])
    role = conn.execute("SELECT * FROM authorization_role WHERE user_type = '1'").fetchone()
    assert role['role_name'] == '1%d' % got['integration_id']
    assert count(conn, 'authorization_rule', 'role_id = ?', (role['role_id'],)) == 271
    assert count(conn, 'authorization_rule', "role_id = ? AND permission = 'allow'", (role['role_id'],)) == 3
    assert got['resources'] == ['Magento_Backend::admin', STORE, PRODUCTS]  # by id, as MariaDB reads them
    assert got['all_resources'] is False


def test_duplicate_name_case_insensitive(conn, emulator_root):
    create(conn, emulator_root, 'probe-custom')
    with pytest.raises(MagentoError) as err:
        create(conn, emulator_root, 'PROBE-CUSTOM')
    assert err.value.message == 'The integration with name "PROBE-CUSTOM" exists.'
    assert err.value.kind == 'magento'
    assert count(conn, 'integration') == 1 and count(conn, 'oauth_consumer') == 1


def test_update(conn, emulator_root):
    a = create(conn, emulator_root, 'a', resources=[PRODUCTS])
    create(conn, emulator_root, 'store-all', all_resources=True)
    got = svc.update(conn, emulator_root, a['integration_id'], 'a', email='new@example.com',
                     endpoint='https://x.example/cb', identity_link_url='', all_resources=False, resources=[])
    assert got['resources'] == [] and got['endpoint'] == 'https://x.example/cb' and got['email'] == 'new@example.com'
    with pytest.raises(MagentoError) as err:
        svc.update(conn, emulator_root, a['integration_id'], 'STORE-ALL')
    assert err.value.message == 'The integration with name "STORE-ALL" exists.'
    with pytest.raises(MagentoError) as err:
        svc.update(conn, emulator_root, 999, 'zzz')
    assert err.value.message == 'The integration with ID "999" doesn\'t exist.' and err.value.kind == 'not_found'
    conn.execute('UPDATE integration SET setup_type = 1 WHERE integration_id = ?', (a['integration_id'],))
    with pytest.raises(MagentoError) as err:
        svc.update(conn, emulator_root, a['integration_id'], 'a')
    assert err.value.message == "The integrations created in the config file can't be edited."


def test_update_keeps_tokens_and_status(conn, emulator_root):
    a = create(conn, emulator_root, 'a', all_resources=True)
    svc.activate(conn, emulator_root, a['integration_id'])
    got = svc.update(conn, emulator_root, a['integration_id'], 'a', resources=[PRODUCTS])
    assert got['status'] == 1 and kind(got['token']) == ('access', 1)
    assert got['resources'] == ['Magento_Backend::admin', PRODUCTS]


def test_delete_cascades(conn, emulator_root):
    a = create(conn, emulator_root, 'a', resources=[PRODUCTS])
    svc.activate(conn, emulator_root, a['integration_id'])
    conn.execute('INSERT INTO oauth_nonce (nonce, timestamp, consumer_id) VALUES (?, ?, ?)', ('n1', 1, a['consumer_id']))
    keep = create(conn, emulator_root, 'b', all_resources=True)
    deleted = svc.delete(conn, emulator_root, a['integration_id'])
    assert deleted['name'] == 'a' and deleted['resources'] == ['Magento_Backend::admin', PRODUCTS]
    assert count(conn, 'integration') == 1
    assert count(conn, 'oauth_consumer') == 1
    assert count(conn, 'oauth_token') == 0 and count(conn, 'oauth_nonce') == 0
    assert count(conn, 'authorization_role', "user_type = '1'") == 1
    assert count(conn, 'authorization_rule') == 2  # the admin's rule + b's "All" rule
    assert svc.get(conn, keep['integration_id'])['resources'] == ['Magento_Backend::all']
    with pytest.raises(MagentoError) as err:
        svc.delete(conn, emulator_root, a['integration_id'])
    assert err.value.kind == 'not_found'


def test_delete_refuses_config_type(conn, emulator_root):
    a = create(conn, emulator_root, 'cfg')
    conn.execute('UPDATE integration SET setup_type = 1')
    with pytest.raises(MagentoError) as err:
        svc.delete(conn, emulator_root, a['integration_id'])
    assert err.value.message == "Uninstall the extension to remove integration 'cfg'."
    assert count(conn, 'integration') == 1


def test_activate_mints_one_access_row(conn, emulator_root):
    a = create(conn, emulator_root, 'a', all_resources=True)
    consumer_before = dict(conn.execute('SELECT * FROM oauth_consumer').fetchone())
    first = svc.activate(conn, emulator_root, a['integration_id'], False)
    assert first['token_created'] is True and first['integration']['status'] == 1
    rows = conn.execute('SELECT * FROM oauth_token').fetchall()
    assert len(rows) == 1
    tok = rows[0]
    assert tok['type'] == 'access' and tok['callback_url'] == 'oob' and tok['user_type'] == 1
    assert tok['revoked'] == 0 and tok['authorized'] == 0 and len(tok['verifier']) == 32
    assert tok['secret'].startswith('0:3:') and len(tok['secret']) == 84
    creds = first['credentials']
    assert creds['access_token'] == tok['token']
    assert creds['access_token_secret'] == crypto.decrypt(emulator_root, tok['secret'])
    assert dict(conn.execute('SELECT * FROM oauth_consumer').fetchone()) == consumer_before  # consumer untouched
    second = svc.activate(conn, emulator_root, a['integration_id'], False)
    assert second['token_created'] is False
    assert dict(conn.execute('SELECT * FROM oauth_token').fetchone()) == dict(tok)
    third = svc.activate(conn, emulator_root, a['integration_id'], True)
    assert third['token_created'] is True
    assert third['credentials']['access_token'] != creds['access_token']
    assert third['credentials']['consumer_secret'] == creds['consumer_secret']
    assert count(conn, 'oauth_token') == 1


def test_activate_with_stale_verifier_does_nothing(conn, emulator_root):
    a = create(conn, emulator_root, 'a', all_resources=True)
    svc.prepare_exchange(conn, emulator_root, a['integration_id'])
    got = svc.activate(conn, emulator_root, a['integration_id'], False)
    assert got['token_created'] is False and got['integration']['status'] == 0
    assert kind(got['integration']['token']) == ('verifier', 1)
    assert got['credentials']['access_token'] is None


def test_prepare_exchange_and_second_row_pitfall(conn, emulator_root):
    a = create(conn, emulator_root, 'x', all_resources=True, endpoint='http://127.0.0.1:9/cb',
               identity_link_url='http://127.0.0.1:9/id')
    old_secret = conn.execute('SELECT secret FROM oauth_consumer').fetchone()[0]
    verifier, row, key, secret = svc.prepare_exchange(conn, emulator_root, a['integration_id'])
    cons = conn.execute('SELECT * FROM oauth_consumer').fetchone()
    assert cons['updated_at'] != '0000-00-00 00:00:00'
    assert cons['secret'] != old_secret and len(cons['secret']) == 84
    assert crypto.decrypt(emulator_root, cons['secret']) == crypto.decrypt(emulator_root, old_secret) == secret
    tok = conn.execute('SELECT * FROM oauth_token').fetchone()
    assert tok['type'] == 'verifier' and tok['verifier'] == verifier and tok['user_type'] == 1
    assert len(tok['secret']) == 32 and not tok['secret'].startswith('0:3:')  # verifier secrets stay plain
    assert row['status'] == 0
    # again before the exchange completes: the same verifier, still one row
    again = svc.prepare_exchange(conn, emulator_root, a['integration_id'])[0]
    assert again == verifier and count(conn, 'oauth_token') == 1
    # the third party got as far as the request token: the row is now "request"
    svc.convert_to_request(conn, tok['entity_id'])
    third = svc.prepare_exchange(conn, emulator_root, a['integration_id'], reauthorize=False)[0]
    assert third != verifier
    rows = conn.execute('SELECT type FROM oauth_token ORDER BY entity_id').fetchall()
    assert [r[0] for r in rows] == ['request', 'verifier']  # the stray second row
    assert kind(svc.get(conn, a['integration_id'])['token']) == ('request', 2)
    # reauthorize deletes the first row and sets status 0; the remaining verifier is re-used
    conn.execute('UPDATE integration SET status = 1')  # to see it reset
    fourth, row, dummy, dummy = svc.prepare_exchange(conn, emulator_root, a['integration_id'], reauthorize=True)
    assert row['status'] == 0
    assert [r[0] for r in conn.execute('SELECT type FROM oauth_token ORDER BY entity_id')] == ['verifier']
    assert fourth == third


@pytest.mark.parametrize('status', [200, 302, 500])
def test_post_to_consumer(conn, emulator_root, consumer_endpoint, status):
    ConsumerEndpoint.status = status
    conn.execute("INSERT INTO core_config_data (path, value) VALUES ('web/seo/use_rewrites', '1')")
    url = 'http://127.0.0.1:%d/endpoint?x=1' % consumer_endpoint.server_port
    a = create(conn, emulator_root, 'x', all_resources=True, endpoint=url, identity_link_url=url)
    verifier, row = svc.post_to_consumer(conn, emulator_root, a['integration_id'], '/srv/x.php')
    assert len(ConsumerEndpoint.captured) == 1  # no redirect followed, status ignored
    path, headers, body = ConsumerEndpoint.captured[0]
    headers = dict(headers)
    creds = svc.credentials(conn, emulator_root, row)
    assert path == '/endpoint?x=1'
    assert headers['User-Agent'] == 'Laminas\\Http\\Client'
    assert headers['Content-Type'] == 'application/x-www-form-urlencoded'
    assert body == ('oauth_consumer_key=%s&oauth_consumer_secret=%s&store_base_url=http%%3A%%2F%%2F127.0.0.1'
                    '%%3A8080%%2F&oauth_verifier=%s' % (creds['consumer_key'], creds['consumer_secret'], verifier))
    assert row['status'] == 0


def test_post_to_consumer_transport_failure(conn, emulator_root):
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    url = 'http://127.0.0.1:%d/cb' % port
    a = create(conn, emulator_root, 'x', all_resources=True, endpoint=url, identity_link_url=url)
    with pytest.raises(MagentoError) as err:
        svc.post_to_consumer(conn, emulator_root, a['integration_id'], '/srv/x.php')
    assert err.value.message == ('The attempt to post data to consumer failed due to an unexpected error. '
                                 'Please try again later.')
    secret = svc.credentials(conn, emulator_root, svc.load(conn, a['integration_id']))['consumer_secret']
    assert secret not in str(err.value)
    assert count(conn, 'oauth_token', "type = 'verifier'") == 1  # the verifier row stays


def test_post_timeout_from_config(conn, emulator_root):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)  # accepts, never answers
    url = 'http://127.0.0.1:%d/cb' % listener.getsockname()[1]
    conn.execute("INSERT INTO core_config_data (path, value) VALUES ('oauth/consumer/post_timeout', '1')")
    a = create(conn, emulator_root, 'slow', all_resources=True, endpoint=url, identity_link_url=url)
    try:
        with pytest.raises(MagentoError):
            svc.post_to_consumer(conn, emulator_root, a['integration_id'], '/srv/x.php')
    finally:
        listener.close()


def test_revoke(conn, emulator_root):
    a = create(conn, emulator_root, 'a', all_resources=True)
    svc.activate(conn, emulator_root, a['integration_id'])
    revoked, row = svc.revoke(conn, a['integration_id'])
    assert revoked is True and row['status'] == 0 and count(conn, 'oauth_token') == 0
    assert count(conn, 'oauth_consumer') == 1
    revoked, dummy = svc.revoke(conn, a['integration_id'])
    assert revoked is False


def test_list_and_names(conn, emulator_root):
    create(conn, emulator_root, 'Beta')
    create(conn, emulator_root, 'alpha')
    assert [i['name'] for i in svc.list_integrations(conn)] == ['Beta', 'alpha']
    assert [i['name'] for i in svc.list_integrations(conn, ['ALPHA', 'nope'])] == ['alpha']
    assert svc.find_by_name(conn, 'beta')['name'] == 'Beta'


def test_finish_exchange(conn, emulator_root):
    a = create(conn, emulator_root, 'x', all_resources=True)
    svc.prepare_exchange(conn, emulator_root, a['integration_id'])
    row = conn.execute('SELECT * FROM oauth_token').fetchone()
    svc.convert_to_request(conn, row['entity_id'])
    token, secret = svc.finish_exchange(conn, emulator_root, row['entity_id'], a['consumer_id'])
    after = conn.execute('SELECT * FROM oauth_token').fetchone()
    assert after['type'] == 'access' and after['token'] == token and after['verifier'] == row['verifier']
    assert after['created_at'] == row['created_at']
    assert crypto.decrypt(emulator_root, after['secret']) == secret
    assert svc.integration_for_consumer(conn, a['consumer_id'])['status'] == 1


@pytest.mark.parametrize('rewrites, expected', [(None, 'x.php/'), ('0', 'x.php/'), ('1', ''), ('banana', '')])
def test_store_base_url_carries_the_script_name_when_rewrites_are_off(conn, emulator_root, rewrites, expected):
    # SPEC 15: Magento builds the store URL from the running script's name unless Web Server Rewrites are on
    if rewrites is not None:
        conn.execute("INSERT INTO core_config_data (path, value) VALUES ('web/seo/use_rewrites', ?)", (rewrites,))
    assert svc.store_base_url(conn, emulator_root, '/srv/magento/x.php') == 'http://127.0.0.1:8080/' + expected
