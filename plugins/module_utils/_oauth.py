# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP to the store: the OAuth 1.0a token exchange and signed REST calls. Internal to this collection.

Magento 2.4.4+ accepts only HMAC-SHA256 and reads OAuth parameters from the
Authorization header only (SPEC §4.2, §4.4); requests-oauthlib signs that way.
"""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.six.moves.urllib.parse import parse_qs

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError

try:
    import requests
    from requests_oauthlib import OAuth1
    HTTP_IMPORT_ERROR = None
except ImportError:
    HTTP_IMPORT_ERROR = traceback.format_exc()

SIGNATURE_METHOD = 'HMAC-SHA256'
# GET /V1/modules needs only Magento_Backend::admin, which Magento grants every integration with All or a
# non-empty Custom list (SPEC §16): the one route that proves a token whatever its resources.
DEFAULT_PROOF_ROUTE = '/V1/modules'
TRANSIENT_STATUSES = (502, 503, 504)


class OAuthClient(object):
    """Talks to one store's /oauth/token/* endpoints and /rest/V1 routes."""

    def __init__(self, base_url, validate_certs, timeout, scrub=None, retries=2, backoff=1.0):
        self.base_url = base_url.rstrip('/') + '/'
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.scrub = scrub or (lambda text: text)
        self.retries = retries
        self.backoff = backoff
        self.requests_made = 0
        self.session = requests.Session()
        self.session.trust_env = False  # never send store credentials through an environment proxy

    def reach(self):
        """GET the store's base URL: any HTTP answer will do; no answer raises (preflight)."""
        self._send('Reaching the store at base_url', 'GET', self.base_url)

    def _send(self, step, method, url, **kwargs):
        self.requests_made += 1
        try:
            return self.session.request(method, url, timeout=self.timeout, verify=self.validate_certs,
                                        allow_redirects=False, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise MagentoError('%s failed: TLS verification of %s failed (%s). Fix the certificate, or set '
                               'validate_certs=false only for a test store.' % (step, url, _short(exc)), kind='tls')
        except requests.exceptions.Timeout:
            raise MagentoError('%s failed: %s did not answer within %s seconds (option timeout).' % (step, url, self.timeout),
                               kind='timeout')
        except requests.exceptions.RequestException as exc:
            raise MagentoError('%s failed: cannot reach %s (%s). Check base_url and that the store answers there.'
                               % (step, url, _short(exc)), kind='connection')

    def preflight(self):
        """Reach the store before anything is written: an unsigned GET of the request-token endpoint.

        Magento answers it with a 400 "required" problem before storing anything (SPEC §4.3).
        """
        url = self.base_url + 'oauth/token/request'
        for attempt in range(self.retries + 1):
            # A GET that stores nothing: transient errors are retried, as rest_get does.
            response = self._send('Reaching the store at %s' % self.base_url, 'GET', url)
            if response.status_code not in TRANSIENT_STATUSES or attempt == self.retries:
                break
            time.sleep(self.backoff * (2 ** attempt))
        if response.is_redirect or response.status_code >= 500 or 'oauth_problem' not in response.text:
            raise MagentoError('Reaching the store at %s failed: GET %s answered HTTP %d%s, not Magento\'s OAuth '
                               'endpoint. Set base_url to the store URL Magento answers on.' % (
                                   self.base_url, url, response.status_code,
                                   ' (redirect to %s)' % response.headers.get('Location') if response.is_redirect else ''),
                               kind='connection', status=response.status_code)

    def _token_step(self, step, path, auth):
        """POST to an /oauth/token/* endpoint; never retried: each call consumes its token."""
        url = self.base_url + path
        response = self._send(step, 'POST', url, auth=auth)
        if response.is_redirect:
            raise MagentoError('%s failed: %s redirected to %s; set base_url to the store URL Magento answers on '
                               '(OAuth signatures cover the exact URL).' % (step, url, response.headers.get('Location')),
                               kind='redirect', status=response.status_code)
        fields = parse_qs(response.text)
        if response.status_code == 200 and 'oauth_token' in fields and 'oauth_token_secret' in fields:
            return fields['oauth_token'][0], fields['oauth_token_secret'][0]
        problem = fields.get('oauth_problem', [None])[0] or _short(response.text) or 'no body'
        raise MagentoError('%s failed: Magento answered HTTP %d: %s' % (step, response.status_code, self.scrub(problem)),
                           kind='oauth', status=response.status_code)

    def request_token(self, consumer_key, consumer_secret):
        auth = OAuth1(consumer_key, consumer_secret, signature_method=SIGNATURE_METHOD)
        return self._token_step('Requesting the OAuth request token', 'oauth/token/request', auth)

    def access_token(self, consumer_key, consumer_secret, request_token, request_secret, verifier):
        auth = OAuth1(consumer_key, consumer_secret, request_token, request_secret,
                      verifier=verifier, signature_method=SIGNATURE_METHOD)
        return self._token_step('Exchanging the request token for the access token', 'oauth/token/access', auth)

    def rest_get(self, route, credentials=None, bearer=None):
        """GET /rest<route>, OAuth 1.0a-signed or Bearer; transient errors are retried (a GET is safe to repeat).

        Returns (status, decoded JSON or text).
        """
        url = self.base_url + 'rest' + route
        step = 'Proving the access token with GET %s' % url
        for attempt in range(self.retries + 1):
            if bearer:
                response = self._send(step, 'GET', url, headers={'Authorization': 'Bearer ' + bearer,
                                                                 'Accept': 'application/json'})
            else:
                # A fresh OAuth1 per attempt: each attempt needs a new nonce.
                auth = OAuth1(credentials['consumer_key'], credentials['consumer_secret'],
                              credentials['access_token'], credentials['access_token_secret'],
                              signature_method=SIGNATURE_METHOD)
                response = self._send(step, 'GET', url, auth=auth, headers={'Accept': 'application/json'})
            if response.status_code not in TRANSIENT_STATUSES or attempt == self.retries:
                break
            time.sleep(self.backoff * (2 ** attempt))
        try:
            body = response.json()
        except ValueError:
            body = _short(response.text)
        return response.status_code, body


def rest_message(body):
    """Magento's REST error JSON as one sentence, placeholders filled in (SPEC §6.4)."""
    if not isinstance(body, dict):
        return str(body)
    message = body.get('message', '')
    parameters = body.get('parameters')
    if isinstance(parameters, dict):
        for key, value in parameters.items():
            message = message.replace('%' + key, str(value))
    elif isinstance(parameters, list):
        for index, value in enumerate(parameters, 1):
            message = message.replace('%' + str(index), str(value))
    return message


def _short(value, limit=300):
    text = str(value).strip().replace('\n', ' ')
    return text if len(text) <= limit else text[:limit] + '...'
