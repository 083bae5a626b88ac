"""OAuth 1.0a provider side of Magento 2.4.7-p3 (SPEC §4, observed/oauth-*.txt, rest-oauth1-*.txt).

What is emulated, in Magento's order of checks (SPEC §4.3):

* ``collect_params``: where the parameters come from (§4.2): the ``Authorization`` header (only
  ``oauth_*`` names, everything before ``OAuth `` ignored), form bodies (PHP ``parse_str``), the query
  string parsed naively (a piece must split into exactly two on ``=``, last value wins, no ``+``
  decoding, ``oauth_*`` query names never used). No ``OAuth `` in the header → no parameters.
* ``signing_url`` / ``normalise_url``: ``scheme://`` + Host header as sent + request URI, normalised
  like laminas-oauth (lower-case scheme/host, default port dropped, query dropped, dot segments
  removed, percent-encoded unreserved characters decoded).
* ``base_string`` / ``sign``: HMAC-SHA256, parameter names sorted in PHP natural order
  (``strnatcmp``), so ``p9`` sorts before ``p10`` as on Magento (and unlike RFC 5849).
* ``get_request_token`` / ``get_access_token`` / ``validate_access_token_request``: the three
  entry points (``/oauth/token/request``, ``/oauth/token/access``, signed REST calls).

Errors are raised as ``OauthError`` subclasses holding Magento's raw message (with its ``%1`` /
``%name`` placeholders) and parameters; ``render()`` fills them in for the form-encoded
``/oauth/token/*`` bodies, the REST layer shows them raw (SPEC §6.4).
Nothing here logs or returns a secret in an error.
"""

import base64
import functools
import hashlib
import hmac
import math
import random
import re
import time
import urllib.parse

from magento_emulator import crypto, integrations, store

SUPPORTED_SIGNATURE_METHODS = ('HMAC-SHA256',)
TIME_DEVIATION = 600
LENGTH_TOKEN = 32
LENGTH_CONSUMER_KEY = 32
LENGTH_NONCE_COLUMN = 32
DEFAULT_CONSUMER_EXPIRATION = 300
DEFAULT_CLEANUP_PROBABILITY = 100
DEFAULT_CLEANUP_MINUTES = 120
USER_TYPE_INTEGRATION = 1

REQUIRED_REQUEST = ('oauth_consumer_key', 'oauth_signature', 'oauth_signature_method', 'oauth_nonce',
                    'oauth_timestamp')
REQUIRED_ACCESS = REQUIRED_REQUEST + ('oauth_token', 'oauth_verifier')
REQUIRED_REST = REQUIRED_REQUEST + ('oauth_token',)

MSG_REQUIRED = '"%fieldName" is required. Enter and try again.'
MSG_AGGREGATE = 'One or more input exceptions have occurred.'
MSG_VERSION = 'The "%1" Oauth version isn\'t supported.'
MSG_TOKEN_LENGTH = 'The token length is invalid. Check the length and try again.'
MSG_SIGNATURE_METHOD = 'Signature method %1 is not supported'
MSG_CONSUMER_KEY_LENGTH = 'Consumer key is not the correct length'
MSG_CONSUMER_MISSING = 'A consumer having the specified key does not exist'
MSG_NONCE_USED = 'The nonce is already being used by the consumer with ID %1'
MSG_NONCE_ERROR = 'An error occurred validating the nonce'
MSG_CONSUMER_EXPIRED = 'Consumer key has expired'
MSG_NO_INTEGRATION_TOKEN = 'A token with consumer ID %1 does not exist'
MSG_NOT_VERIFIER = 'Cannot create request token because consumer token is not a verifier token'
MSG_NOT_REQUEST = 'Cannot get access token because consumer token is not a request token'
MSG_TOKEN_MISSING = 'Specified token does not exist'
MSG_REQUEST_NOT_OF_CONSUMER = 'Request token is not associated with the specified consumer'
MSG_TOKEN_NOT_OF_CONSUMER = 'Token is not associated with the specified consumer'
MSG_TOKEN_USED = 'Token is already being used'
MSG_VERIFIER_INVALID = 'Verifier is invalid'
MSG_VERIFIER_LENGTH = 'Verifier is not the correct length'
MSG_VERIFIER_MISMATCH = 'Token verifier and verifier token do not match'
MSG_NOT_ACCESS = 'Token is not an access token'
MSG_REVOKED = 'Access token has been revoked'
MSG_SIGNATURE_INVALID = 'The signature is invalid. Verify and try again.'

_PROTOCOL_NAME = re.compile(r'oauth_[a-z_-]+')


# ---------------------------------------------------------------------------------------------- errors

def render(message, parameters=None):
    """Fill Magento phrase placeholders: ``%1``… for a list, ``%name`` for a dict."""
    if not parameters:
        return message
    if isinstance(parameters, dict):
        for name in sorted(parameters, key=len, reverse=True):
            message = message.replace('%' + name, str(parameters[name]))
        return message
    for index in range(len(parameters), 0, -1):
        message = message.replace('%%%d' % index, str(parameters[index - 1]))
    return message


class OauthError(Exception):
    """A Magento exception of the OAuth layer: raw message + parameters + HTTP status."""

    status = 500

    def __init__(self, message, parameters=None):
        super().__init__(render(message, parameters))
        self.raw_message = message
        self.parameters = parameters
        self.errors = []

    @property
    def message(self):
        return render(self.raw_message, self.parameters)

    def form_problem(self):
        """The ``oauth_problem`` value of ``/oauth/token/*`` (SPEC §4.8)."""
        return self.message


class AuthenticationError(OauthError):
    """``Magento\\Framework\\Oauth\\Exception``: 401."""

    status = 401


class InputError(OauthError):
    """``OauthInputException`` (an aggregate InputException): 400.

    One error → its own message; several → message ``One or more input exceptions have occurred.``
    and ``errors`` holds each ``(raw message, parameters)``.
    """

    status = 400

    @classmethod
    def aggregate(cls, items):
        if len(items) == 1:
            return cls(items[0][0], items[0][1])
        exc = cls(MSG_AGGREGATE)
        exc.errors = list(items)
        return exc

    def form_problem(self):
        if len(self.errors) < 2:
            return self.message
        return ', '.join(render(m, p).rstrip('.') for m, p in self.errors)


class InternalError(OauthError):
    """Anything else (e.g. an array where a string is expected): 500."""

    status = 500

    def form_problem(self):
        return 'internal_error&message=%s' % (self.message or 'empty_message')


# ---------------------------------------------------------------------------------------------- encoding

def _bytes(value):
    return value.encode('utf-8', 'surrogateescape') if isinstance(value, str) else value


def rawurldecode(value):
    """PHP ``rawurldecode``: ``%XX`` decoded, ``+`` kept."""
    return urllib.parse.unquote(value, encoding='utf-8', errors='surrogateescape')


def urldecode(value):
    """PHP ``urldecode``: ``+`` is a space."""
    return urllib.parse.unquote_plus(value, encoding='utf-8', errors='surrogateescape')


def rawurlencode(value):
    """PHP ``rawurlencode`` (RFC 3986: only ``A-Za-z0-9-_.~`` kept)."""
    if isinstance(value, (list, dict)):
        raise InternalError('Array to string conversion')
    return urllib.parse.quote(_bytes(str(value)), safe='')


def urlencode_php(value):
    """PHP ``urlencode`` as used by ``http_build_query``: space → ``+``, ``~`` → ``%7E``."""
    return urllib.parse.quote_plus(_bytes(str(value)), safe='').replace('~', '%7E')


def http_build_query(pairs):
    """PHP ``http_build_query`` of a flat mapping or list of pairs."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return '&'.join('%s=%s' % (urlencode_php(k), urlencode_php(v)) for k, v in items)


def php_int(value):
    """PHP ``(int)`` cast of a string: the leading numeric part, 0 when there is none."""
    match = re.match(r'\s*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)', str(value))
    if not match:
        return 0
    try:
        number = float(match.group(1))
    except ValueError:
        return 0
    if math.isnan(number) or math.isinf(number):
        return 0
    return int(number)


_NUMERIC = re.compile(r'^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$')


def php_loose_equal(a, b):
    """PHP 8 ``==`` between two strings: numerically when both are numeric strings."""
    a, b = str(a), str(b)
    if _NUMERIC.match(a) and _NUMERIC.match(b):
        return float(a) == float(b)
    return a == b


# ---------------------------------------------------------------------------------------------- natural order

def strnatcmp(a, b):
    """PHP ``strnatcmp`` (case-sensitive natural order comparison), -1/0/1."""
    a_len, b_len = len(a), len(b)
    if a_len == 0 or b_len == 0:
        return 0 if a_len == b_len else (1 if a_len > b_len else -1)

    def at(s, i):
        return s[i] if i < len(s) else '\0'

    def isdigit(c):
        return '0' <= c <= '9'

    def isspace(c):
        return c in ' \t\n\r\v\f'

    ai = bi = 0
    # leading zeros (only before a digit) are skipped at the very start
    while at(a, ai) == '0' and ai + 1 < a_len and isdigit(a[ai + 1]):
        ai += 1
    while at(b, bi) == '0' and bi + 1 < b_len and isdigit(b[bi + 1]):
        bi += 1
    while True:
        while isspace(at(a, ai)):
            ai += 1
        while isspace(at(b, bi)):
            bi += 1
        ca, cb = at(a, ai), at(b, bi)
        if isdigit(ca) and isdigit(cb):
            fractional = ca == '0' or cb == '0'
            result = 0
            bias = 0
            while True:
                da = ai < a_len and isdigit(a[ai])
                db = bi < b_len and isdigit(b[bi])
                if not da and not db:
                    result = 0 if fractional else bias
                    break
                if not da:
                    result = -1
                    break
                if not db:
                    result = 1
                    break
                if a[ai] != b[bi]:
                    diff = -1 if a[ai] < b[bi] else 1
                    if fractional:
                        result = diff
                        break
                    if not bias:
                        bias = diff
                ai += 1
                bi += 1
            if result:
                return result
            if ai >= a_len and bi >= b_len:
                return 0
            if ai >= a_len:
                return -1
            if bi >= b_len:
                return 1
            ca, cb = a[ai], b[bi]
        if ca < cb:
            return -1
        if ca > cb:
            return 1
        ai += 1
        bi += 1
        if ai >= a_len and bi >= b_len:
            return 0
        if ai >= a_len:
            return -1
        if bi >= b_len:
            return 1


def natsorted(items):
    return sorted(items, key=functools.cmp_to_key(strnatcmp))


# ---------------------------------------------------------------------------------------------- parameters

def is_protocol_parameter(name):
    """Magento's unanchored ``/oauth_[a-z_-]+/`` test."""
    return bool(_PROTOCOL_NAME.search(name))


def parse_str(body):
    """PHP ``parse_str`` subset: ``+`` → space, ``.``/space in names → ``_``, ``a[b]`` → nested dict/list."""
    result = {}
    for piece in body.split('&'):
        if piece == '':
            continue
        name, sep, value = piece.partition('=')
        name, value = urldecode(name), urldecode(value)
        name = name.lstrip(' ')
        if name == '':
            continue
        bracket = name.find('[')
        if bracket > 0 and ']' in name[bracket:]:
            base = re.sub(r'[ .]', '_', name[:bracket])
            keys = re.findall(r'\[([^\]]*)\]', name[bracket:])
            target = result.get(base)
            if not isinstance(target, dict):
                target = {}
                result[base] = target
            for key in keys[:-1]:
                nxt = target.get(key if key != '' else str(len(target)))
                if not isinstance(nxt, dict):
                    nxt = {}
                    target[key if key != '' else str(len(target))] = nxt
                target = nxt
            last = keys[-1] if keys else ''
            target[last if last != '' else str(len(target))] = value
        else:
            base = re.sub(r'[ .\[]', '_', name)
            result[base] = value
    return result


def _header_params(authorization):
    """(found, params) from the ``Authorization`` header (SPEC §4.2)."""
    if not authorization:
        return False, {}
    pos = authorization.lower().find('oauth ')
    if pos < 0:
        return False, {}
    params = {}
    for piece in authorization[pos + 6:].split(','):
        name, sep, value = piece.strip().partition('=')
        if not sep:
            continue
        if is_protocol_parameter(name):
            params[rawurldecode(name)] = rawurldecode(value.strip('"'))
    return True, params


def collect_params(authorization, content_type, body, query):
    """Magento's ``Helper\\Request::prepareRequest``: the OAuth + signed parameters of a request.

    ``body`` is the raw request body (bytes or str), ``query`` the raw query string (without ``?``).
    Returns ``{}`` when the header carries no ``OAuth `` part.
    """
    found, params = _header_params(authorization)
    if not found:
        return {}
    if content_type and content_type.startswith('application/x-www-form-urlencoded'):
        if isinstance(body, bytes):
            body = body.decode('utf-8', 'surrogateescape')
        header_empty = not params
        for name, value in parse_str(body or '').items():
            if not is_protocol_parameter(name) or header_empty:
                params[name] = value
    if query:
        for piece in query.split('&'):
            parts = piece.split('=')
            if len(parts) == 2 and not is_protocol_parameter(parts[0]):
                params[rawurldecode(parts[0])] = rawurldecode(parts[1])
    return params


# ---------------------------------------------------------------------------------------------- URL

_UNRESERVED = r'a-zA-Z0-9_\-\.~'
_DECODABLE = re.compile('[' + _UNRESERVED + r':@&=\+\$,;%]')
_NOT_PATH = re.compile('(?:[^' + _UNRESERVED + r':@&=\+\$,/;%]+|%(?![a-fA-F0-9]{2}))')


def _normalise_path(path):
    """laminas-uri path normalisation: dot segments, %XX of allowed characters decoded, the rest encoded."""
    path = _remove_dot_segments(path)

    def decode(match):
        char = chr(int(match.group(0)[1:], 16))
        return char if _DECODABLE.match(char) else match.group(0).upper()
    path = re.sub(r'%[0-9A-Fa-f]{2}', decode, path)
    return _NOT_PATH.sub(lambda m: urllib.parse.quote(_bytes(m.group(0)), safe=''), path)


def _remove_dot_segments(path):
    """RFC 3986 §5.2.4."""
    output = []
    while path:
        if path.startswith('../'):
            path = path[3:]
        elif path.startswith('./'):
            path = path[2:]
        elif path.startswith('/./'):
            path = path[2:]
        elif path == '/.':
            path = '/'
        elif path.startswith('/../'):
            path = path[3:]
            if output:
                output.pop()
        elif path == '/..':
            path = '/'
            if output:
                output.pop()
        elif path in ('.', '..'):
            path = ''
        else:
            start = 1 if path.startswith('/') else 0
            end = path.find('/', start)
            if end < 0:
                end = len(path)
            output.append(path[:end])
            path = path[end:]
    return ''.join(output)


def signing_url(scheme, host_header, request_uri):
    """Magento's ``getRequestUrl``: scheme + Host header as sent (port kept) + request URI."""
    return '%s://%s%s' % (scheme, host_header or '', request_uri)


def normalise_url(url):
    """laminas-oauth ``normaliseBaseSignatureUrl``."""
    scheme, rest = url.split('://', 1) if '://' in url else ('http', url)
    scheme = scheme.lower()
    slash = rest.find('/')
    authority, path = (rest, '') if slash < 0 else (rest[:slash], rest[slash:])
    path = path.split('#', 1)[0].split('?', 1)[0]
    userinfo = ''
    if '@' in authority:
        userinfo, authority = authority.rsplit('@', 1)
        userinfo += '@'
    host, port = authority, ''
    match = re.match(r'^(\[[^\]]*\]|[^:]*)(?::(\d*))?$', authority)
    if match:
        host, port = match.group(1), match.group(2) or ''
    host = host.lower()
    if (scheme == 'http' and port == '80') or (scheme == 'https' and port == '443'):
        port = ''
    path = _normalise_path(path) or '/'
    return '%s://%s%s%s%s' % (scheme, userinfo, host, ':' + port if port else '', path)


# ---------------------------------------------------------------------------------------------- signature

def normalized_parameters(params):
    """laminas ``toByteValueOrderedQueryString`` of the encoded parameters (oauth_signature removed)."""
    encoded = {}
    for name, value in params.items():
        if name == 'oauth_signature':
            continue
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            # laminas would natsort and repeat them, but rawurlencode() of the array fails first
            raise InternalError('Array to string conversion')
        encoded[rawurlencode(name)] = rawurlencode(value)
    return '&'.join('%s=%s' % (k, encoded[k]) for k in natsorted(encoded))


def base_string(method, url, params):
    return '&'.join((method.upper(), rawurlencode(normalise_url(url)),
                     rawurlencode(normalized_parameters(params))))


def sign(params, consumer_secret, token_secret, method, url):
    """Base64 HMAC-SHA256 signature as Magento computes it."""
    key = '%s&%s' % (rawurlencode(consumer_secret or ''), rawurlencode(token_secret or ''))
    digest = hmac.new(_bytes(key), _bytes(base_string(method, url, params)), hashlib.sha256).digest()
    return base64.b64encode(digest).decode('ascii')


# ---------------------------------------------------------------------------------------------- checks

def _secret(root, stored):
    if crypto.is_encrypted(stored):
        return crypto.decrypt(root, stored)
    return stored or ''


def _strlen(value):
    return len(_bytes(value)) if isinstance(value, str) else -1


def consumer_by_key(conn, key):
    """``getConsumerByKey``: length then existence (case-insensitive like MySQL's collation)."""
    if not isinstance(key, str) or _strlen(key) != LENGTH_CONSUMER_KEY:
        raise AuthenticationError(MSG_CONSUMER_KEY_LENGTH)
    row = conn.execute('SELECT * FROM oauth_consumer WHERE "key" = ? COLLATE NOCASE', (key,)).fetchone()
    if row is None:
        raise AuthenticationError(MSG_CONSUMER_MISSING)
    return row


def validate_nonce(conn, consumer, nonce, timestamp, root=None):
    """Nonce generator ``validateNonce``: stores the nonce (truncated to 32 chars) before any signature check."""
    consumer_id = consumer['entity_id']
    try:
        ts = php_int(timestamp)
        if ts <= 0 or ts > int(time.time()) + TIME_DEVIATION:
            raise ValueError('Incorrect timestamp value in the oauth_timestamp parameter')
        if isinstance(nonce, (list, dict)):
            raise ValueError('bad nonce')
        nonce = str(nonce)
        with store.transaction(conn):
            if conn.execute('SELECT 1 FROM oauth_nonce WHERE nonce = ? COLLATE NOCASE AND consumer_id = ?',
                            (nonce, consumer_id)).fetchone() is not None:
                raise AuthenticationError(MSG_NONCE_USED, [str(consumer_id)])
            stored = nonce[:LENGTH_NONCE_COLUMN]
            if conn.execute('SELECT 1 FROM oauth_nonce WHERE nonce = ? COLLATE NOCASE AND consumer_id = ?',
                            (stored, consumer_id)).fetchone() is not None:
                raise ValueError('duplicate primary key')
            conn.execute('INSERT INTO oauth_nonce (nonce, "timestamp", consumer_id) VALUES (?, ?, ?)',
                         (stored, ts, consumer_id))
            if root is not None and cleanup_due(root, conn):
                conn.execute('DELETE FROM oauth_nonce WHERE "timestamp" <= ?',
                             (int(time.time()) - cleanup_minutes(root, conn) * 60,))
    except AuthenticationError:
        raise
    except Exception:  # pylint: disable=broad-except
        raise AuthenticationError(MSG_NONCE_ERROR)


def validate_protocol_params(conn, params, required=REQUIRED_REQUEST, root=None):
    """``_validateProtocolParams``: version, required, token length, method, consumer, nonce."""
    if 'oauth_version' in params and (not isinstance(params['oauth_version'], str)
                                      or not php_loose_equal('1.0', params['oauth_version'])):
        raise InputError(MSG_VERSION, [params['oauth_version']])
    missing = [(MSG_REQUIRED, {'fieldName': name}) for name in required if name not in params]
    if missing:
        raise InputError.aggregate(missing)
    if 'oauth_token' in params and _strlen(params['oauth_token']) != LENGTH_TOKEN:
        raise InputError(MSG_TOKEN_LENGTH)
    method = params['oauth_signature_method']
    if method not in SUPPORTED_SIGNATURE_METHODS:
        raise InputError(MSG_SIGNATURE_METHOD, [method])
    consumer = consumer_by_key(conn, params['oauth_consumer_key'])
    validate_nonce(conn, consumer, params['oauth_nonce'], params['oauth_timestamp'], root)
    return consumer


def cleanup_due(root, conn):
    """``isCleanupProbability``: a 1-in-N draw (``oauth/cleanup/cleanup_probability``; 0 disables)."""
    value = _config(root, conn, 'oauth/cleanup/cleanup_probability')
    probability = DEFAULT_CLEANUP_PROBABILITY if value is None else php_int(value)
    return probability > 0 and random.randint(1, probability) == 1


def cleanup_minutes(root, conn):
    value = php_int(_config(root, conn, 'oauth/cleanup/expiration_period') or 0)
    return value if value > 0 else DEFAULT_CLEANUP_MINUTES


def cleanup_request_tokens(root, conn):
    """After a token save: maybe delete ``request`` tokens created before the cleanup period."""
    if cleanup_due(root, conn):
        limit = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(time.time() - cleanup_minutes(root, conn) * 60))
        conn.execute("DELETE FROM oauth_token WHERE type = 'request' AND created_at <= ?", (limit,))


def consumer_expiration_period(root, conn):
    value = php_int(_config(root, conn, 'oauth/consumer/expiration_period') or 0)
    return value if value > 0 else DEFAULT_CONSUMER_EXPIRATION


def _config(root, conn, path, scope='default', scope_id=0):
    try:
        from magento_emulator import config
        return config.read_value(root, path, scope, scope_id, conn=conn)
    except (ImportError, AttributeError):
        return store.get_config(conn, path, 'default', 0)


def _gmt_timestamp(text):
    import calendar
    try:
        return calendar.timegm(time.strptime(str(text), '%Y-%m-%d %H:%M:%S'))
    except (TypeError, ValueError):
        return None


def validate_consumer(root, conn, consumer):
    """``isValidForTokenExchange``: expiry period > now - updated_at; '0000-00-00 00:00:00' is expired."""
    updated = _gmt_timestamp(consumer['updated_at'])
    if updated is None or not consumer_expiration_period(root, conn) > int(time.time()) - updated:
        raise AuthenticationError(MSG_CONSUMER_EXPIRED)


def validate_signature(params, consumer_secret, method, url, token_secret=''):
    if params['oauth_signature_method'] not in SUPPORTED_SIGNATURE_METHODS:
        raise InputError(MSG_SIGNATURE_METHOD, [params['oauth_signature_method']])
    expected = sign(params, consumer_secret, token_secret, method, url)
    given = params['oauth_signature']
    if not isinstance(given, str) or not hmac.compare_digest(_bytes(expected), _bytes(given)):
        raise AuthenticationError(MSG_SIGNATURE_INVALID)


def integration_token(conn, consumer_id):
    row = integrations.integration_token(conn, consumer_id)
    if row is None:
        raise AuthenticationError(MSG_NO_INTEGRATION_TOKEN, [str(consumer_id)])
    return row


def _token(conn, token):
    if _strlen(token) != LENGTH_TOKEN:
        raise InputError(MSG_TOKEN_LENGTH)
    row = conn.execute('SELECT * FROM oauth_token WHERE token = ? COLLATE NOCASE', (token,)).fetchone()
    if row is None:
        raise AuthenticationError(MSG_TOKEN_MISSING)
    return row


# ---------------------------------------------------------------------------------------------- entry points

def get_request_token(conn, root, params, url, method='POST'):
    """``/oauth/token/request``: {'oauth_token', 'oauth_token_secret'}."""
    validate_protocol_params(conn, params, root=root)
    consumer = consumer_by_key(conn, params['oauth_consumer_key'])
    validate_consumer(root, conn, consumer)
    validate_signature(params, _secret(root, consumer['secret']), method, url)
    with store.transaction(conn):
        row = integration_token(conn, consumer['entity_id'])
        if row['type'] != integrations.TOKEN_VERIFIER:
            raise AuthenticationError(MSG_NOT_VERIFIER)
        token, secret = integrations.convert_to_request(conn, row['entity_id'])
        cleanup_request_tokens(root, conn)
    return {'oauth_token': token, 'oauth_token_secret': secret}


def get_access_token(conn, root, params, url, method='POST'):
    """``/oauth/token/access``: {'oauth_token', 'oauth_token_secret'}; the integration becomes active."""
    validate_protocol_params(conn, params, REQUIRED_ACCESS, root)
    consumer = consumer_by_key(conn, params['oauth_consumer_key'])
    row = _token(conn, params['oauth_token'])
    if str(row['consumer_id']) != str(consumer['entity_id']):
        raise AuthenticationError(MSG_REQUEST_NOT_OF_CONSUMER)
    if row['type'] != integrations.TOKEN_REQUEST:
        raise AuthenticationError(MSG_TOKEN_USED)
    verifier = params['oauth_verifier']
    if not isinstance(verifier, str):
        raise AuthenticationError(MSG_VERIFIER_INVALID)
    if _strlen(verifier) != LENGTH_TOKEN:
        raise AuthenticationError(MSG_VERIFIER_LENGTH)
    if row['verifier'] is None or not php_loose_equal(row['verifier'], verifier):
        raise AuthenticationError(MSG_VERIFIER_MISMATCH)
    validate_signature(params, _secret(root, consumer['secret']), method, url, _secret(root, row['secret']))
    with store.transaction(conn):
        current = integration_token(conn, consumer['entity_id'])
        if current['type'] != integrations.TOKEN_REQUEST:
            raise AuthenticationError(MSG_NOT_REQUEST)
        token, secret = integrations.finish_exchange(conn, root, current['entity_id'], consumer['entity_id'])
        cleanup_request_tokens(root, conn)
    return {'oauth_token': token, 'oauth_token_secret': secret}


def validate_access_token_request(conn, root, params, url, method):
    """A signed REST call: returns the consumer id (SPEC §4.7 REST access)."""
    validate_protocol_params(conn, params, REQUIRED_REST, root)
    consumer = consumer_by_key(conn, params['oauth_consumer_key'])
    row = _token(conn, params['oauth_token'])
    if str(row['consumer_id']) != str(consumer['entity_id']):
        raise AuthenticationError(MSG_TOKEN_NOT_OF_CONSUMER)
    if row['type'] != integrations.TOKEN_ACCESS:
        raise AuthenticationError(MSG_NOT_ACCESS)
    if row['revoked']:
        raise AuthenticationError(MSG_REVOKED)
    validate_signature(params, _secret(root, consumer['secret']), method, url, _secret(root, row['secret']))
    return consumer['entity_id']


def form_response(result=None, error=None):
    """(status, body) of ``/oauth/token/*``: the token pair, or ``oauth_problem=…`` (SPEC §4.8)."""
    if error is None:
        return 200, http_build_query([('oauth_token', result['oauth_token']),
                                      ('oauth_token_secret', result['oauth_token_secret'])])
    if not isinstance(error, OauthError):
        error = InternalError(str(error))
    return error.status, http_build_query([('oauth_problem', error.form_problem())])
