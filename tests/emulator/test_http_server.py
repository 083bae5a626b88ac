"""End-to-end tests of the emulator's HTTP side against the real-Magento transcripts.

Requests are signed by an independent OAuth 1.0a client (oauthlib / requests-oauthlib), so the
server's signature checking is verified against another implementation. Expected bodies are the ones
in observed/oauth-handshake-and-errors.txt, rest-oauth1-probes-bearer-off.txt, rest-bearer-on.txt,
token-lifecycle.txt, oauth1-query-string-edges.txt and rest-misc.txt.
"""

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

requests = pytest.importorskip('requests')
requests_oauthlib = pytest.importorskip('requests_oauthlib')

from magento_emulator import cache, faults, http_server, integrations as svc, store  # noqa: E402

OAuth1 = requests_oauthlib.OAuth1
SHA256 = 'HMAC-SHA256'
STORE_VIEWS = ('[{"id":1,"code":"default","name":"Default Store View","website_id":1,"store_group_id":1,'
               '"is_active":1},{"id":0,"code":"admin","name":"Admin","website_id":0,"store_group_id":0,'
               '"is_active":1}]')
NOT_AUTHORIZED_STORE = ('{"message":"The consumer isn\'t authorized to access %resources.",'
                        '"parameters":{"resources":"Magento_Backend::store"}}')
SIG_INVALID = '{"message":"The signature is invalid. Verify and try again."}'
FORM_CT = 'text/html; charset=UTF-8'
JSON_CT = 'application/json; charset=utf-8'


# ---------------------------------------------------------------------------------------------- fixtures

@pytest.fixture
def server(emulator_root):
    srv = http_server.make_server(emulator_root, '127.0.0.1', 0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    base = 'http://127.0.0.1:%d' % srv.server_address[1]
    try:
        yield base
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def conn(emulator_root):
    c = store.connect(emulator_root)
    yield c
    c.close()


def create(conn, root, name='probe', all_resources=True, resources=None):
    return svc.create(conn, root, name, email='p@example.com', endpoint='', identity_link_url='',
                      all_resources=all_resources, resources=resources or [])


def activated(conn, root, name='probe', **kw):
    """An active integration with an access token: its credentials dict."""
    integ = create(conn, root, name, **kw)
    result = svc.activate(conn, root, integ['integration_id'])
    creds = dict(result['credentials'])
    creds['integration_id'] = integ['integration_id']
    creds['consumer_id'] = integ['consumer_id']
    return creds


def signer(creds, **kw):
    return OAuth1(creds['consumer_key'], client_secret=creds['consumer_secret'],
                  resource_owner_key=creds['access_token'], resource_owner_secret=creds['access_token_secret'],
                  signature_method=kw.pop('signature_method', SHA256), **kw)


def set_config(conn, path, value, scope='default', scope_id=0):
    with store.transaction(conn):
        conn.execute('INSERT INTO core_config_data (scope, scope_id, path, value) VALUES (?, ?, ?, ?) '
                     'ON CONFLICT (scope, scope_id, path) DO UPDATE SET value = excluded.value',
                     (scope, scope_id, path, value))


class Exchange:
    """An integration prepared for the OAuth handshake (verifier row, fresh consumer)."""

    def __init__(self, conn, root, name='store-handshake'):
        integ = create(conn, root, name)
        self.integration_id = integ['integration_id']
        self.verifier, dummy, self.key, self.secret = svc.prepare_exchange(conn, root, self.integration_id)
        self.consumer_id = integ['consumer_id']

    def request_auth(self, secret=None, **kw):
        return OAuth1(self.key, client_secret=self.secret if secret is None else secret,
                      signature_method=kw.pop('signature_method', SHA256), **kw)

    def access_auth(self, token, token_secret, verifier=None, **kw):
        return OAuth1(self.key, client_secret=self.secret, resource_owner_key=token,
                      resource_owner_secret=token_secret, verifier=verifier,
                      signature_method=SHA256, **kw)


def form(resp):
    return dict(urllib.parse.parse_qsl(resp.text))


# ---------------------------------------------------------------------------------------------- handshake

def test_full_handshake(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    resp = requests.post(server + '/oauth/token/request', auth=ex.request_auth())
    assert resp.status_code == 200, resp.text
    assert resp.headers['Content-Type'] == FORM_CT
    assert list(form(resp)) == ['oauth_token', 'oauth_token_secret']
    request_token = form(resp)
    row = conn.execute('SELECT * FROM oauth_token WHERE consumer_id = ?', (ex.consumer_id,)).fetchone()
    assert (row['type'], row['token'], row['secret']) == ('request', request_token['oauth_token'],
                                                          request_token['oauth_token_secret'])

    resp = requests.post(server + '/oauth/token/access',
                         auth=ex.access_auth(request_token['oauth_token'], request_token['oauth_token_secret'],
                                             ex.verifier))
    assert resp.status_code == 200, resp.text
    access = form(resp)
    assert len(access['oauth_token']) == 32 and len(access['oauth_token_secret']) == 32
    rows = conn.execute('SELECT * FROM oauth_token WHERE consumer_id = ?', (ex.consumer_id,)).fetchall()
    assert len(rows) == 1 and rows[0]['type'] == 'access' and rows[0]['token'] == access['oauth_token']
    assert rows[0]['secret'].startswith('0:3:') and rows[0]['verifier'] == ex.verifier
    assert conn.execute('SELECT status FROM integration WHERE integration_id = ?',
                        (ex.integration_id,)).fetchone()[0] == 1

    creds = {'consumer_key': ex.key, 'consumer_secret': ex.secret, 'access_token': access['oauth_token'],
             'access_token_secret': access['oauth_token_secret']}
    resp = requests.get(server + '/rest/V1/store/storeViews', auth=signer(creds))
    assert (resp.status_code, resp.text) == (200, STORE_VIEWS)
    assert resp.headers['Content-Type'] == JSON_CT

    # replayed request token; request token after the access token
    resp = requests.post(server + '/oauth/token/access',
                         auth=ex.access_auth(request_token['oauth_token'], request_token['oauth_token_secret'],
                                             ex.verifier))
    assert (resp.status_code, resp.text) == (401, 'oauth_problem=Specified+token+does+not+exist')
    resp = requests.post(server + '/oauth/token/request', auth=ex.request_auth())
    assert (resp.status_code, resp.text) == (
        401, 'oauth_problem=Cannot+create+request+token+because+consumer+token+is+not+a+verifier+token')


def test_request_token_errors(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    url = server + '/oauth/token/request'
    resp = requests.post(url, auth=ex.request_auth(signature_method='HMAC-SHA1'))
    assert (resp.status_code, resp.text) == (400, 'oauth_problem=Signature+method+HMAC-SHA1+is+not+supported')
    assert resp.headers['Content-Type'] == FORM_CT
    resp = requests.post(url, auth=ex.request_auth(secret='wrong'))
    assert (resp.status_code, resp.text) == (401, 'oauth_problem=The+signature+is+invalid.+Verify+and+try+again.')
    resp = requests.post(url, auth=OAuth1('c' * 32, client_secret=ex.secret, signature_method=SHA256))
    assert (resp.status_code, resp.text) == (401, 'oauth_problem=A+consumer+having+the+specified+key+does+not+exist')
    resp = requests.post(url)
    assert (resp.status_code, resp.text) == (400, (
        'oauth_problem=%22oauth_consumer_key%22+is+required.+Enter+and+try+again%2C+%22oauth_signature%22+is+'
        'required.+Enter+and+try+again%2C+%22oauth_signature_method%22+is+required.+Enter+and+try+again%2C+'
        '%22oauth_nonce%22+is+required.+Enter+and+try+again%2C+%22oauth_timestamp%22+is+required.+Enter+and+'
        'try+again'))
    # GET works and consumes the verifier; then a second one fails whatever the method
    resp = requests.get(url, auth=ex.request_auth())
    assert resp.status_code == 200 and set(form(resp)) == {'oauth_token', 'oauth_token_secret'}
    for method in ('POST', 'GET'):
        resp = requests.request(method, url, auth=ex.request_auth())
        assert (resp.status_code, resp.text) == (
            401, 'oauth_problem=Cannot+create+request+token+because+consumer+token+is+not+a+verifier+token')


def test_index_php_prefix_and_put(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    resp = requests.put(server + '/index.php/oauth/token/request', auth=ex.request_auth())
    assert resp.status_code == 200, resp.text


def test_access_token_errors(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    tok = form(requests.post(server + '/oauth/token/request', auth=ex.request_auth()))
    url = server + '/oauth/token/access'
    resp = requests.post(url, auth=ex.access_auth(tok['oauth_token'], tok['oauth_token_secret'], 'v' * 32))
    assert (resp.status_code, resp.text) == (401, 'oauth_problem=Token+verifier+and+verifier+token+do+not+match')
    resp = requests.post(url, auth=ex.access_auth(tok['oauth_token'], tok['oauth_token_secret']))
    assert (resp.status_code, resp.text) == (400, 'oauth_problem=%22oauth_verifier%22+is+required.+Enter+and+try+again.')
    resp = requests.post(url, auth=ex.access_auth(tok['oauth_token'], 'wrong', ex.verifier))
    assert (resp.status_code, resp.text) == (401, 'oauth_problem=The+signature+is+invalid.+Verify+and+try+again.')
    resp = requests.post(url, auth=ex.access_auth(tok['oauth_token'], tok['oauth_token_secret'], 'short'))
    assert (resp.status_code, resp.text) == (401, 'oauth_problem=Verifier+is+not+the+correct+length')
    resp = requests.post(url, auth=ex.access_auth('t' * 32, tok['oauth_token_secret'], ex.verifier))
    assert (resp.status_code, resp.text) == (401, 'oauth_problem=Specified+token+does+not+exist')
    resp = requests.post(url, auth=ex.access_auth('t' * 31, tok['oauth_token_secret'], ex.verifier))
    assert (resp.status_code, resp.text) == (
        400, 'oauth_problem=The+token+length+is+invalid.+Check+the+length+and+try+again.')
    # still usable after all these failures
    resp = requests.post(url, auth=ex.access_auth(tok['oauth_token'], tok['oauth_token_secret'], ex.verifier))
    assert resp.status_code == 200, resp.text


def test_consumer_expiry_checked_before_signature(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    old = (datetime.datetime.utcnow() - datetime.timedelta(seconds=400)).strftime('%Y-%m-%d %H:%M:%S')
    with store.transaction(conn):
        conn.execute('UPDATE oauth_consumer SET updated_at = ? WHERE entity_id = ?', (old, ex.consumer_id))
    url = server + '/oauth/token/request'
    for auth in (ex.request_auth(), ex.request_auth(secret='wrong')):
        resp = requests.post(url, auth=auth)
        assert (resp.status_code, resp.text) == (401, 'oauth_problem=Consumer+key+has+expired')
    with store.transaction(conn):
        conn.execute("UPDATE oauth_consumer SET updated_at = '0000-00-00 00:00:00' WHERE entity_id = ?",
                     (ex.consumer_id,))
    assert requests.post(url, auth=ex.request_auth()).text == 'oauth_problem=Consumer+key+has+expired'
    set_config(conn, 'oauth/consumer/expiration_period', '3600')
    with store.transaction(conn):
        conn.execute('UPDATE oauth_consumer SET updated_at = ? WHERE entity_id = ?', (old, ex.consumer_id))
    assert requests.post(url, auth=ex.request_auth()).status_code == 200


def test_nonce_burnt_even_with_bad_signature(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    url = server + '/oauth/token/request'
    ts = str(int(time.time()))
    resp = requests.post(url, auth=ex.request_auth(secret='wrong', nonce='n' * 20, timestamp=ts))
    assert resp.status_code == 401
    resp = requests.post(url, auth=ex.request_auth(nonce='n' * 20, timestamp=ts))
    assert (resp.status_code, resp.text) == (
        401, 'oauth_problem=The+nonce+is+already+being+used+by+the+consumer+with+ID+%d' % ex.consumer_id)


# ---------------------------------------------------------------------------------------------- REST OAuth1

def test_rest_oauth1_probes(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    url = server + '/rest/V1/store/storeViews'
    for path in ('/rest/V1/store/storeViews', '/rest/all/V1/store/storeViews', '/rest/default/V1/store/storeViews'):
        resp = requests.get(server + path, auth=signer(creds))
        assert (resp.status_code, resp.text) == (200, STORE_VIEWS), path
    resp = requests.get(server + '/rest/V1/store/websites?searchCriteria=', auth=signer(creds))
    assert (resp.status_code, resp.text) == (
        200, '[{"id":1,"code":"base","name":"Main Website","default_group_id":1},'
             '{"id":0,"code":"admin","name":"Admin","default_group_id":0}]')
    for method in ('HMAC-SHA1', 'PLAINTEXT'):
        resp = requests.get(url, auth=signer(creds, signature_method=method))
        assert (resp.status_code, resp.json()) == (
            400, {'message': 'Signature method %1 is not supported', 'parameters': [method]})
    bad = dict(creds, consumer_secret='x' * 32)
    assert requests.get(url, auth=signer(bad)).text == SIG_INVALID
    bad = dict(creds, access_token_secret='x' * 32)
    resp = requests.get(url, auth=signer(bad))
    assert (resp.status_code, resp.text) == (401, SIG_INVALID)
    resp = requests.get(url, auth=signer(dict(creds, access_token='z' * 32)))
    assert (resp.status_code, resp.text) == (401, '{"message":"Specified token does not exist"}')
    resp = requests.get(url, auth=signer(dict(creds, access_token='z' * 31)))
    assert (resp.status_code, resp.text) == (
        400, '{"message":"The token length is invalid. Check the length and try again."}')
    resp = requests.get(url, auth=signer(dict(creds, consumer_key='c' * 32)))
    assert (resp.status_code, resp.text) == (401, '{"message":"A consumer having the specified key does not exist"}')
    resp = requests.get(url, auth=signer(dict(creds, consumer_key='c' * 5)))
    assert (resp.status_code, resp.text) == (401, '{"message":"Consumer key is not the correct length"}')
    resp = requests.get(url, auth=signer(creds, timestamp=str(int(time.time()) - 1000)))
    assert resp.status_code == 200
    resp = requests.get(url, auth=signer(creds, timestamp=str(int(time.time()) + 1000)))
    assert (resp.status_code, resp.text) == (401, '{"message":"An error occurred validating the nonce"}')
    ts = str(int(time.time()))
    assert requests.get(url, auth=signer(creds, nonce='abc123', timestamp=ts)).status_code == 200
    resp = requests.get(url, auth=signer(creds, nonce='abc123', timestamp=ts))
    assert (resp.status_code, resp.json()) == (
        401, {'message': 'The nonce is already being used by the consumer with ID %1',
              'parameters': [str(creds['consumer_id'])]})


def test_rest_missing_params_aggregate(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    resp = requests.get(server + '/rest/V1/store/storeViews',
                        headers={'Authorization': 'OAuth oauth_consumer_key="%s"' % creds['consumer_key']})
    assert resp.status_code == 400
    body = resp.json()
    assert body['message'] == 'One or more input exceptions have occurred.'
    assert body['errors'] == [{'message': '"%fieldName" is required. Enter and try again.',
                               'parameters': {'fieldName': name}}
                              for name in ('oauth_signature', 'oauth_signature_method', 'oauth_nonce',
                                           'oauth_timestamp', 'oauth_token')]
    assert 'parameters' not in body
    assert len(resp.content) > 600
    resp = requests.get(server + '/rest/V1/store/storeViews',
                        headers={'Authorization': 'OAuth oauth_consumer_key="%s", oauth_signature="x", '
                                 'oauth_signature_method="HMAC-SHA256", oauth_nonce="n", oauth_timestamp="1"'
                                 % creds['consumer_key']})
    assert (resp.status_code, resp.json()) == (400, {'message': '"%fieldName" is required. Enter and try again.',
                                                     'parameters': {'fieldName': 'oauth_token'}})


def test_long_nonces_truncated(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    url = server + '/rest/V1/store/storeViews'
    n40 = 'a' * 32 + 'b' * 8
    assert requests.get(url, auth=signer(creds, nonce=n40)).status_code == 200
    assert conn.execute('SELECT nonce FROM oauth_nonce').fetchone()[0] == 'a' * 32
    resp = requests.get(url, auth=signer(creds, nonce=n40))
    assert (resp.status_code, resp.text) == (401, '{"message":"An error occurred validating the nonce"}')
    resp = requests.get(url, auth=signer(creds, nonce='a' * 32 + 'c' * 8))
    assert resp.text == '{"message":"An error occurred validating the nonce"}'
    resp = requests.get(url, auth=signer(creds, nonce='a' * 32))
    assert resp.json()['message'] == 'The nonce is already being used by the consumer with ID %1'
    assert requests.get(url, auth=signer(creds, nonce='d' * 33)).status_code == 200


def test_request_token_over_oauth1_rest(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    tok = form(requests.post(server + '/oauth/token/request', auth=ex.request_auth()))
    creds = {'consumer_key': ex.key, 'consumer_secret': ex.secret, 'access_token': tok['oauth_token'],
             'access_token_secret': tok['oauth_token_secret']}
    resp = requests.get(server + '/rest/V1/store/storeViews', auth=signer(creds))
    assert (resp.status_code, resp.text) == (401, '{"message":"Token is not an access token"}')
    # as Bearer it works while enable_integration_as_bearer is on (type and status not checked)
    set_config(conn, http_server.BEARER_PATH, '1')
    resp = requests.get(server + '/rest/V1/store/storeViews',
                        headers={'Authorization': 'Bearer ' + tok['oauth_token']})
    assert (resp.status_code, resp.text) == (200, STORE_VIEWS)


@pytest.mark.parametrize('query, status', [
    ('x=1', 200), ('x=1&x=2', 401), ('x=a%3Db', 200), ('x=a=b', 401), ('flag', 401), ('x=%20y', 200),
    ('x=+y', 401), ('x[]=1&x[]=2', 401), ('pa=a&pb=b', 200), ('p9=a&p10=b', 401),
    ('searchCriteria[filterGroups][0][filters][0][field]=code'
     '&searchCriteria[filterGroups][0][filters][0][value]=default', 200),
])
def test_query_string_edges(server, conn, emulator_root, query, status):
    creds = activated(conn, emulator_root)
    resp = requests.get(server + '/rest/V1/store/storeViews?' + query, auth=signer(creds))
    assert resp.status_code == status, resp.text
    if status == 401:
        assert resp.text == SIG_INVALID


def test_query_string_oauth_params_ignored(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    auth = OAuth1(creds['consumer_key'], client_secret=creds['consumer_secret'],
                  resource_owner_key=creds['access_token'], resource_owner_secret=creds['access_token_secret'],
                  signature_method=SHA256, signature_type='query')
    resp = requests.get(server + '/rest/V1/store/storeViews', auth=auth)
    assert (resp.status_code, resp.text) == (401, NOT_AUTHORIZED_STORE)


def test_form_urlencoded_post_is_internal_error(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    resp = requests.post(server + '/rest/V1/categories', data={'a': 'b'}, auth=signer(creds))
    assert resp.status_code == 500
    assert resp.json()['message'].startswith('Internal Error. Details are available in Magento log file. '
                                             'Report ID: webapi-')


# ---------------------------------------------------------------------------------------------- ACL

def test_limited_acl(server, conn, emulator_root):
    creds = activated(conn, emulator_root, all_resources=False, resources=['Magento_Catalog::products'])
    resp = requests.get(server + '/rest/V1/store/storeViews', auth=signer(creds))
    assert (resp.status_code, resp.text) == (401, NOT_AUTHORIZED_STORE)
    resp = requests.get(server + '/rest/V1/products?searchCriteria[pageSize]=1', auth=signer(creds))
    assert (resp.status_code, resp.text) == (
        200, '{"items":[],"search_criteria":{"filter_groups":[],"page_size":1},"total_count":0}')
    resp = requests.get(server + '/rest/V1/modules', auth=signer(creds))
    assert resp.status_code == 200 and 'Magento_Store' in resp.json()


def test_empty_custom_list_denied_everything(server, conn, emulator_root):
    creds = activated(conn, emulator_root, all_resources=False, resources=[])
    resp = requests.get(server + '/rest/V1/modules', auth=signer(creds))
    assert (resp.status_code, resp.json()['parameters']) == (401, {'resources': 'Magento_Backend::admin'})


def test_inactive_integration(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    with store.transaction(conn):
        conn.execute('UPDATE integration SET status = 0')
    url = server + '/rest/V1/store/storeViews'
    resp = requests.get(url, auth=signer(creds))
    assert (resp.status_code, resp.text) == (401, NOT_AUTHORIZED_STORE)
    set_config(conn, http_server.BEARER_PATH, '1')
    resp = requests.get(url, headers={'Authorization': 'Bearer ' + creds['access_token']})
    assert (resp.status_code, resp.text) == (200, STORE_VIEWS)


def test_anonymous_route_skips_user_context(server, conn, emulator_root):
    resp = requests.post(server + '/rest/V1/integration/admin/token', json={'username': 'x', 'password': 'y'},
                         headers={'Authorization': 'OAuth oauth_consumer_key="short"'})
    assert resp.status_code == 401
    assert resp.json() == {'message': http_server.MSG_SIGN_IN}


# ---------------------------------------------------------------------------------------------- Bearer

def test_bearer_off_then_on(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    url = server + '/rest/V1/store/storeViews'
    for value in ('Bearer ' + creds['access_token'], 'bearer ' + creds['access_token'], 'Bearer ' + 'q' * 32, None):
        resp = requests.get(url, headers={'Authorization': value} if value else {})
        assert (resp.status_code, resp.text) == (401, NOT_AUTHORIZED_STORE), value
    set_config(conn, http_server.BEARER_PATH, '1')
    for value in ('Bearer ' + creds['access_token'], 'bearer ' + creds['access_token']):
        resp = requests.get(url, headers={'Authorization': value})
        assert (resp.status_code, resp.text) == (200, STORE_VIEWS), value
    for value in ('Bearer ' + 'q' * 32, None, 'Bearer  ' + creds['access_token']):
        resp = requests.get(url, headers={'Authorization': value} if value else {})
        assert (resp.status_code, resp.text) == (401, NOT_AUTHORIZED_STORE), value
    # a store-scope 0 overrides the default 1
    set_config(conn, http_server.BEARER_PATH, '0', 'stores', 1)
    assert requests.get(url, headers={'Authorization': 'Bearer ' + creds['access_token']}).status_code == 401
    # revoked rows are refused
    set_config(conn, http_server.BEARER_PATH, '1', 'stores', 1)
    with store.transaction(conn):
        conn.execute('UPDATE oauth_token SET revoked = 1')
    assert requests.get(url, headers={'Authorization': 'Bearer ' + creds['access_token']}).status_code == 401


def test_bearer_after_integration_deleted_but_token_left(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    set_config(conn, http_server.BEARER_PATH, '1')
    with store.transaction(conn):
        conn.execute('DELETE FROM integration')
    resp = requests.get(server + '/rest/V1/store/storeViews',
                        headers={'Authorization': 'Bearer ' + creds['access_token']})
    assert (resp.status_code, resp.text) == (401, NOT_AUTHORIZED_STORE)


# ---------------------------------------------------------------------------------------------- guest access

def test_guest_access_follows_config_webservice_cache(server, conn, emulator_root):
    url = server + '/rest/V1/store/storeViews'
    assert requests.get(url).status_code == 401  # primes the cache with 0
    set_config(conn, 'webapi/webapisecurity/allow_insecure', '1')
    assert requests.get(url).status_code == 401
    cache.clean(emulator_root, ['config'])
    assert requests.get(url).status_code == 401
    cache.clean(emulator_root, ['config_webservice'])
    resp = requests.get(url)
    assert (resp.status_code, resp.text) == (200, STORE_VIEWS)
    # only the 31 listed routes open up
    assert requests.get(server + '/rest/V1/modules').status_code == 401
    set_config(conn, 'webapi/webapisecurity/allow_insecure', '0')
    assert requests.get(url).status_code == 200
    cache.flush(emulator_root)
    assert requests.get(url).status_code == 401


def test_guest_access_reads_default_scope_only(server, conn, emulator_root):
    set_config(conn, 'webapi/webapisecurity/allow_insecure', '1', 'stores', 1)
    set_config(conn, 'webapi/webapisecurity/allow_insecure', '1', 'websites', 1)
    assert requests.get(server + '/rest/V1/store/websites').status_code == 401


# ---------------------------------------------------------------------------------------------- misc REST

def test_routing_errors(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    resp = requests.get(server + '/rest/nosuch/V1/store/storeViews')
    assert (resp.status_code, resp.text) == (400, '{"message":"Specified request cannot be processed."}')
    assert resp.headers['Content-Type'] == JSON_CT
    resp = requests.delete(server + '/rest/V1/store/storeViews', auth=signer(creds))
    assert (resp.status_code, resp.text) == (404, '{"message":"Request does not match any route."}')
    resp = requests.get(server + '/rest/V1/no/such/thing')
    assert (resp.status_code, resp.text) == (404, '{"message":"Request does not match any route."}')


def test_canned_bodies(server, conn, emulator_root):
    creds = activated(conn, emulator_root)

    def get(path):
        resp = requests.get(server + path, auth=signer(creds))
        assert resp.status_code == 200, (path, resp.text)
        return resp

    configs = get('/rest/V1/store/storeConfigs')
    assert configs.json()[0]['base_url'] == 'http://127.0.0.1:8080/'
    assert '"base_url":"http:\\/\\/127.0.0.1:8080\\/"' in configs.text
    assert [g['code'] for g in get('/rest/V1/store/storeGroups').json()] == ['main_website_store', 'default']
    assert get('/rest/V1/categories').json()['id'] == 2
    assert get('/rest/V1/cmsPage/2').json()['identifier'] == 'home'
    listed = get('/rest/V1/categories/list?searchCriteria%5BpageSize%5D=2').json()
    assert listed == {'items': [], 'search_criteria': {'filter_groups': [], 'page_size': 2}, 'total_count': 0}
    resp = requests.get(server + '/rest/V1/cmsPage/99', auth=signer(creds))
    assert resp.status_code == 404


def test_route_precedence_literal_over_param():
    assert http_server.match_route('GET', '/V1/products/types')[0] == '/V1/products/types'
    assert http_server.match_route('GET', '/V1/products/abc')[0] == '/V1/products/:sku'
    assert http_server.match_route('GET', '/V1/products/abc')[1] == {'sku': 'abc'}
    assert http_server.match_route('DELETE', '/V1/store/storeViews') is None


# ---------------------------------------------------------------------------------------------- faults

def test_faults_status_count_paths(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    faults.write(emulator_root, {'http': {'status': 503, 'count': 2, 'paths': '/oauth/'}})
    assert requests.get(server + '/rest/V1/modules').status_code == 401  # other path untouched
    assert requests.post(server + '/oauth/token/request', auth=ex.request_auth()).status_code == 503
    assert requests.post(server + '/oauth/token/request', auth=ex.request_auth()).status_code == 503
    assert not os.path.exists(faults.faults_path(emulator_root))
    assert requests.post(server + '/oauth/token/request', auth=ex.request_auth()).status_code == 200


def test_faults_list_forever_delay_redirect(server, emulator_root):
    faults.write(emulator_root, {'http': [{'status': 500, 'count': -1, 'paths': ['/rest/V1/modules']},
                                          {'status': 502, 'count': 1}]})
    for dummy in range(3):
        assert requests.get(server + '/rest/V1/modules').status_code == 500
    assert requests.get(server + '/rest/V1/store/websites').status_code == 502
    assert requests.get(server + '/rest/V1/store/websites').status_code == 401
    faults.write(emulator_root, {'http_delay': {'seconds': 0.6, 'count': 1}})
    start = time.time()
    assert requests.get(server + '/rest/V1/store/websites').status_code == 401
    assert time.time() - start >= 0.55
    start = time.time()
    requests.get(server + '/rest/V1/store/websites')
    assert time.time() - start < 0.5
    faults.write(emulator_root, {'http_redirect': 'http://127.0.0.1:9/elsewhere'})
    resp = requests.get(server + '/oauth/token/request', allow_redirects=False)
    assert (resp.status_code, resp.headers['Location']) == (302, 'http://127.0.0.1:9/elsewhere')
    faults.write(emulator_root, None)
    assert requests.get(server + '/oauth/token/request').status_code == 400


# ---------------------------------------------------------------------------------------------- serve()

def test_serve_ready_file_sigterm_and_log(emulator_root, tmp_path):
    ready = str(tmp_path / 'ready.json')
    parent = os.path.dirname(os.path.dirname(os.path.abspath(http_server.__file__)))
    code = ('import sys; sys.path.insert(0, %r); from magento_emulator import http_server; '
            'sys.exit(http_server.serve(%r, "127.0.0.1", 0, %r))' % (parent, emulator_root, ready))
    proc = subprocess.Popen([sys.executable, '-c', code], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(ready) and time.time() < deadline:
            time.sleep(0.05)
        with open(ready, encoding='utf-8') as handle:
            info = json.load(handle)
        assert info['pid'] == proc.pid and info['host'] == '127.0.0.1'
        assert info['base_url'] == 'http://127.0.0.1:%d/' % info['port']
        resp = requests.get(info['base_url'] + 'rest/V1/store/storeViews?oauth_token=SECRETTOKEN',
                            headers={'Authorization': 'Bearer SECRETBEARER'})
        assert resp.status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=10)[1]
    assert proc.returncode == 0
    log = err.decode()
    assert 'GET /rest/V1/store/storeViews 401' in log
    assert 'SECRET' not in log


def test_accept_xml(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    resp = requests.get(server + '/rest/V1/store/storeViews', auth=signer(creds),
                        headers={'Accept': 'application/xml'})
    assert resp.status_code == 200
    assert resp.headers['Content-Type'] == 'application/xml; charset=utf-8'
    assert resp.text.startswith('<?xml version="1.0"?>\n<response>\n  <item>\n    <id>1</id>\n'
                                '    <code>default</code>\n    <name>Default Store View</name>\n')
    resp = requests.get(server + '/rest/nosuch/V1/store/storeViews', headers={'Accept': 'application/xml'})
    assert resp.status_code == 400 and '<message>Specified request cannot be processed.</message>' in resp.text


def test_nonce_and_request_token_cleanup(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    set_config(conn, 'oauth/cleanup/cleanup_probability', '1')
    set_config(conn, 'oauth/cleanup/expiration_period', '1')
    with store.transaction(conn):
        conn.execute('INSERT INTO oauth_nonce (nonce, "timestamp", consumer_id) VALUES (?, ?, ?)',
                     ('old', int(time.time()) - 120, creds['consumer_id']))
    assert requests.get(server + '/rest/V1/store/storeViews', auth=signer(creds, nonce='fresh')).status_code == 200
    assert [r[0] for r in conn.execute('SELECT nonce FROM oauth_nonce')] == ['fresh']
    set_config(conn, 'oauth/cleanup/cleanup_probability', '0')
    with store.transaction(conn):
        conn.execute('INSERT INTO oauth_nonce (nonce, "timestamp", consumer_id) VALUES (?, ?, ?)',
                     ('old', int(time.time()) - 120, creds['consumer_id']))
    assert requests.get(server + '/rest/V1/store/storeViews', auth=signer(creds)).status_code == 200
    assert conn.execute('SELECT COUNT(*) FROM oauth_nonce').fetchone()[0] == 3


def test_request_token_with_signed_form_body(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    resp = requests.post(server + '/oauth/token/request', data={'extra': 'a b', 'p9': '1', 'pa': '2'},
                         auth=ex.request_auth())
    assert resp.status_code == 200, resp.text
    assert resp.headers['Cache-Control'] == 'no-store, no-cache, must-revalidate'
    assert 'PHPSESSID=' in resp.headers['Set-Cookie']


def test_form_body_array_field_on_oauth_endpoint(server, conn, emulator_root):
    ex = Exchange(conn, emulator_root)
    resp = requests.post(server + '/oauth/token/request', data={'a[b]': '1'}, auth=ex.request_auth())
    assert resp.status_code == 500
    assert resp.text.startswith('oauth_problem=internal_error%26message%3D')


def test_signed_path_with_encoded_segment(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    resp = requests.get(server + '/rest/V1/products/a%20b', auth=signer(creds))
    assert resp.status_code == 404, resp.text
    assert resp.json()['message'].startswith('The product that was requested')


def test_oauth_version(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    url = server + '/rest/V1/store/storeViews'
    header = ('OAuth oauth_consumer_key="%s", oauth_version="2.0"' % creds['consumer_key'])
    resp = requests.get(url, headers={'Authorization': header})
    assert (resp.status_code, resp.json()) == (400, {'message': 'The "%1" Oauth version isn\'t supported.',
                                                     'parameters': ['2.0']})
    ex = Exchange(conn, emulator_root)
    resp = requests.post(server + '/oauth/token/request',
                         headers={'Authorization': 'OAuth oauth_version="1.1"'})
    assert (resp.status_code, resp.text) == (400, 'oauth_problem=The+%221.1%22+Oauth+version+isn%27t+supported.')
    assert ex.key


def test_parallel_signed_calls(server, conn, emulator_root):
    creds = activated(conn, emulator_root)
    results = []

    def call():
        results.append(requests.get(server + '/rest/V1/store/storeViews', auth=signer(creds)).status_code)
    threads = [threading.Thread(target=call) for dummy in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [200] * 16
    assert conn.execute('SELECT COUNT(*) FROM oauth_nonce').fetchone()[0] == 16
