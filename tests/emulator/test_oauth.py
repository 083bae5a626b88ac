"""oauth.py unit tests: parameter collection, URL normalisation, natural-order base string, signatures.

The end-to-end behaviour (status codes, bodies, DB effects) is in test_http_server.py.
"""

import base64
import hashlib
import hmac

import pytest

from magento_emulator import oauth

try:
    from oauthlib.oauth1.rfc5849 import signature as rfc_signature
except ImportError:  # pragma: no cover
    rfc_signature = None

needs_oauthlib = pytest.mark.skipif(rfc_signature is None, reason='oauthlib is not installed')


# ---------------------------------------------------------------------------------------------- strnatcmp

@pytest.mark.parametrize('a, b, expected', [
    ('p9', 'p10', -1),
    ('p10', 'p9', 1),
    ('pa', 'pb', -1),
    ('a2b', 'a10b', -1),
    ('x', 'x', 0),
    ('p01', 'p1', -1),
    ('', 'a', -1),
    ('oauth_nonce', 'oauth_consumer_key', 1),
    ('img12', 'img10', 1),
    ('a', 'ab', -1),
])
def test_strnatcmp_like_php(a, b, expected):
    assert oauth.strnatcmp(a, b) == expected


def test_natural_order_differs_from_byte_order():
    names = ['p10', 'p9', 'oauth_token', 'p1']
    assert oauth.natsorted(names) == ['oauth_token', 'p1', 'p9', 'p10']
    assert sorted(names) == ['oauth_token', 'p1', 'p10', 'p9']


# ---------------------------------------------------------------------------------------------- parameters

def test_no_oauth_header_means_no_parameters():
    assert oauth.collect_params(None, None, b'', 'a=1') == {}
    assert oauth.collect_params('Bearer abc', None, b'', 'a=1') == {}


def test_header_parsing():
    header = ('junk OAuth realm="x", oauth_consumer_key="k%20y", oauth_nonce="n",novalue, '
              'Xoauth_abc="kept", OAUTH_UPPER="dropped"')
    params = oauth.collect_params(header, None, b'', None)
    assert params == {'oauth_consumer_key': 'k y', 'oauth_nonce': 'n', 'Xoauth_abc': 'kept'}


def test_query_parsing_is_naive():
    params = oauth.collect_params('OAuth oauth_nonce="n"', None, b'',
                                  'x=1&x=2&flag&y=a=b&z=%20+&oauth_token=q&s%5Bp%5D=3')
    assert params == {'oauth_nonce': 'n', 'x': '2', 'z': ' +', 's[p]': '3'}


def test_form_body_parse_str():
    params = oauth.collect_params('OAuth oauth_nonce="n"', 'application/x-www-form-urlencoded; charset=UTF-8',
                                  b'a=1+2&oauth_nonce=ignored&b.c=3', None)
    assert params == {'oauth_nonce': 'n', 'a': '1 2', 'b_c': '3'}
    # JSON bodies never count
    assert oauth.collect_params('OAuth oauth_nonce="n"', 'application/json', b'{"a":1}', None) == {'oauth_nonce': 'n'}


def test_form_array_field_is_internal_error():
    params = oauth.collect_params('OAuth oauth_nonce="n"', 'application/x-www-form-urlencoded', b'a[b]=1', None)
    with pytest.raises(oauth.InternalError):
        oauth.base_string('POST', 'http://h/x', params)


# ---------------------------------------------------------------------------------------------- URL

@pytest.mark.parametrize('url, expected', [
    ('http://127.0.0.1:8080/rest/V1/x?a=1', 'http://127.0.0.1:8080/rest/V1/x'),
    ('HTTP://Example.COM:80/a/./b/../c', 'http://example.com/a/c'),
    ('https://h:443/p', 'https://h/p'),
    ('http://h:443/p', 'http://h:443/p'),
    ('http://h/%7Euser/%41%2f', 'http://h/~user/A%2F'),
    ('http://h', 'http://h/'),
])
def test_normalise_url(url, expected):
    assert oauth.normalise_url(url) == expected


def test_signing_url_keeps_host_header_port():
    assert oauth.signing_url('http', 'Shop.example:8080', '/oauth/token/request?x=1') == \
        'http://Shop.example:8080/oauth/token/request?x=1'


# ---------------------------------------------------------------------------------------------- signature

BASE_PARAMS = {
    'oauth_consumer_key': 'ck', 'oauth_nonce': 'abc', 'oauth_signature_method': 'HMAC-SHA256',
    'oauth_timestamp': '1700000000', 'oauth_token': 'tk', 'oauth_version': '1.0',
    'oauth_signature': 'ignored',
}


def test_hand_computed_vector_natural_order():
    params = dict(BASE_PARAMS, p9='a b', p10='~/')
    expected_base = (
        'GET&http%3A%2F%2F127.0.0.1%3A8080%2Frest%2FV1%2Fstore%2FstoreViews&'
        'oauth_consumer_key%3Dck%26oauth_nonce%3Dabc%26oauth_signature_method%3DHMAC-SHA256%26'
        'oauth_timestamp%3D1700000000%26oauth_token%3Dtk%26oauth_version%3D1.0%26'
        'p9%3Da%2520b%26p10%3D~%252F'
    )
    url = 'http://127.0.0.1:8080/rest/V1/store/storeViews?p9=a%20b&p10=~%2F'
    assert oauth.base_string('get', url, params) == expected_base
    key = b'c%20s&t%26s'
    expected = base64.b64encode(hmac.new(key, expected_base.encode(), hashlib.sha256).digest()).decode()
    assert oauth.sign(params, 'c s', 't&s', 'GET', url) == expected


def test_request_token_key_has_empty_token_secret():
    params = dict(BASE_PARAMS)
    del params['oauth_token']
    base = oauth.base_string('POST', 'http://h/oauth/token/request', params)
    expected = base64.b64encode(hmac.new(b'secret&', base.encode(), hashlib.sha256).digest()).decode()
    assert oauth.sign(params, 'secret', None, 'POST', 'http://h/oauth/token/request') == expected


@needs_oauthlib
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_same_as_oauthlib_without_digit_runs():
    params = dict(BASE_PARAMS, pa='x y', pb='1')
    url = 'http://127.0.0.1:8080/rest/V1/store/storeViews?pa=x%20y&pb=1'
    pairs = [(k, v) for k, v in params.items() if k != 'oauth_signature']
    norm = rfc_signature.normalize_parameters(pairs)
    base = rfc_signature.signature_base_string('GET', rfc_signature.base_string_uri(url), norm)
    assert oauth.base_string('GET', url, params) == base
    assert oauth.sign(params, 'cs', 'ts', 'GET', url) == rfc_signature.sign_hmac_sha256(base, 'cs', 'ts')


@needs_oauthlib
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_differs_from_oauthlib_with_p9_p10():
    params = dict(BASE_PARAMS, p9='a', p10='b')
    url = 'http://h/rest/V1/x?p9=a&p10=b'
    pairs = [(k, v) for k, v in params.items() if k != 'oauth_signature']
    norm = rfc_signature.normalize_parameters(pairs)
    base = rfc_signature.signature_base_string('GET', rfc_signature.base_string_uri(url), norm)
    assert oauth.base_string('GET', url, params) != base


# ---------------------------------------------------------------------------------------------- errors

def test_form_problem_encoding():
    status, body = oauth.form_response(error=oauth.InputError.aggregate([
        (oauth.MSG_REQUIRED, {'fieldName': 'oauth_nonce'}),
        (oauth.MSG_REQUIRED, {'fieldName': 'oauth_timestamp'})]))
    assert status == 400
    assert body == ('oauth_problem=%22oauth_nonce%22+is+required.+Enter+and+try+again%2C+'
                    '%22oauth_timestamp%22+is+required.+Enter+and+try+again')
    status, body = oauth.form_response(error=oauth.InputError(oauth.MSG_SIGNATURE_METHOD, ['HMAC-SHA1']))
    assert (status, body) == (400, 'oauth_problem=Signature+method+HMAC-SHA1+is+not+supported')
    status, body = oauth.form_response(error=oauth.AuthenticationError(oauth.MSG_SIGNATURE_INVALID))
    assert (status, body) == (401, 'oauth_problem=The+signature+is+invalid.+Verify+and+try+again.')
    status, body = oauth.form_response(error=oauth.InternalError('boom'))
    assert (status, body) == (500, 'oauth_problem=internal_error%26message%3Dboom')
    status, body = oauth.form_response({'oauth_token': 'a', 'oauth_token_secret': 'b'})
    assert (status, body) == (200, 'oauth_token=a&oauth_token_secret=b')


def test_render_placeholders():
    assert oauth.render('The nonce is already being used by the consumer with ID %1', ['7']) == \
        'The nonce is already being used by the consumer with ID 7'
    assert oauth.render('"%fieldName" is required.', {'fieldName': 'x'}) == '"x" is required.'


@pytest.mark.parametrize('value, expected', [('1700000000', 1700000000), ('0', 0), ('abc', 0), ('12abc', 12),
                                             (' 5', 5), ('1e3', 1000), ('-4', -4)])
def test_php_int(value, expected):
    assert oauth.php_int(value) == expected


@pytest.mark.parametrize('a, b, expected', [('1.0', '1', True), ('1.0', '1.00', True), ('1.0', '1e0', True),
                                            ('1.0', '1.0a', False), ('abc', 'abc', True), ('abc', 'ABC', False)])
def test_php_loose_equal(a, b, expected):
    assert oauth.php_loose_equal(a, b) is expected
