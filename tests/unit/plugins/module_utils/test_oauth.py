# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.commerceops.magento.plugins.module_utils import _oauth
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError

pytestmark = pytest.mark.skipif(_oauth.HTTP_IMPORT_ERROR is not None, reason='requests-oauthlib not installed')

CREDENTIALS = {'consumer_key': 'k' * 32, 'consumer_secret': 's' * 32, 'access_token': 'a' * 32, 'access_token_secret': 't' * 32}


class Response(object):
    def __init__(self, status, text='', headers=None):
        self.status_code = status
        self.text = text
        self.headers = headers or {}
        self.is_redirect = status in (301, 302, 303, 307, 308)

    def json(self):
        import json
        return json.loads(self.text)


def client(monkeypatch, *responses):
    sent = []
    queue = list(responses)
    oauth = _oauth.OAuthClient('https://shop.example', True, 5, retries=2, backoff=0)

    def request(method, url, **kwargs):
        sent.append((method, url, kwargs.get('auth'), kwargs.get('allow_redirects')))
        return queue.pop(0)
    monkeypatch.setattr(oauth.session, 'request', request)
    return oauth, sent


def test_request_token_is_signed_with_hmac_sha256_in_the_header(monkeypatch):
    oauth, sent = client(monkeypatch, Response(200, 'oauth_token=%s&oauth_token_secret=%s' % ('r' * 32, 'q' * 32)))
    assert oauth.request_token('k' * 32, 's' * 32) == ('r' * 32, 'q' * 32)
    method, url, auth, redirects = sent[0]
    assert (method, url, redirects) == ('POST', 'https://shop.example/oauth/token/request', False)
    assert auth.client.signature_method == 'HMAC-SHA256' and auth.client.signature_type == 'AUTH_HEADER'


def test_oauth_problem_becomes_a_message_naming_the_step(monkeypatch):
    oauth, _sent = client(monkeypatch, Response(401, 'oauth_problem=Consumer+key+has+expired'))
    with pytest.raises(MagentoError) as error:
        oauth.request_token('k' * 32, 's' * 32)
    assert str(error.value) == 'Requesting the OAuth request token failed: Magento answered HTTP 401: Consumer key has expired'


def test_token_steps_are_never_retried(monkeypatch):
    oauth, sent = client(monkeypatch, Response(503, 'busy'), Response(200, 'oauth_token=x&oauth_token_secret=y'))
    with pytest.raises(MagentoError):
        oauth.access_token('k' * 32, 's' * 32, 'r' * 32, 'q' * 32, 'v' * 32)
    assert len(sent) == 1


def test_rest_proof_retries_transient_errors_with_a_fresh_nonce(monkeypatch):
    oauth, sent = client(monkeypatch, Response(503, 'busy'), Response(502, 'bad gateway'), Response(200, '["Magento_Store"]'))
    assert oauth.rest_get('/V1/modules', credentials=CREDENTIALS) == (200, ['Magento_Store'])
    assert len(sent) == 3 and len(set(id(call[2]) for call in sent)) == 3


def test_rest_proof_gives_up_after_the_bounded_retries(monkeypatch):
    oauth, sent = client(monkeypatch, *[Response(503, '{"message": "busy"}')] * 3)
    assert oauth.rest_get('/V1/modules', credentials=CREDENTIALS)[0] == 503
    assert len(sent) == 3


def test_preflight_refuses_something_that_is_not_magento(monkeypatch):
    oauth, _sent = client(monkeypatch, Response(200, '<html>welcome to nginx</html>'))
    with pytest.raises(MagentoError) as error:
        oauth.preflight()
    assert 'not Magento\'s OAuth endpoint' in str(error.value)


def test_preflight_accepts_magentos_missing_parameter_answer(monkeypatch):
    oauth, _sent = client(monkeypatch, Response(400, 'oauth_problem=%22oauth_consumer_key%22+is+required'))
    oauth.preflight()


def test_redirect_on_a_token_step_is_refused_not_followed(monkeypatch):
    oauth, _sent = client(monkeypatch, Response(302, '', {'Location': 'https://www.shop.example/oauth/token/request'}))
    with pytest.raises(MagentoError) as error:
        oauth.request_token('k' * 32, 's' * 32)
    assert 'redirected to https://www.shop.example/' in str(error.value)


@pytest.mark.parametrize('body, text', [
    ({'message': "The consumer isn't authorized to access %resources.", 'parameters': {'resources': 'Magento_Backend::store'}},
     "The consumer isn't authorized to access Magento_Backend::store."),
    ({'message': 'Signature method %1 is not supported', 'parameters': ['HMAC-SHA1']}, 'Signature method HMAC-SHA1 is not supported'),
    ('plain text', 'plain text'),
])
def test_rest_messages_get_their_placeholders_filled(body, text):
    assert _oauth.rest_message(body) == text
