"""IntegrationService / OauthService semantics of Magento 2.4.7-p3 (SPEC §1.11, §3, observed/schema.md).

Every public function takes an open connection (``store.connect``) and the Magento root (for the
encryption key); each writing function runs in one ``BEGIN IMMEDIATE`` transaction.
"""

import http.client
import os
import secrets
import socket
import sqlite3
import ssl
import urllib.parse

from magento_emulator import acl, crypto, files, store

STATUS_INACTIVE, STATUS_ACTIVE, STATUS_RECREATED = 0, 1, 2
TYPE_MANUAL, TYPE_CONFIG = 0, 1
USER_TYPE_INTEGRATION = 1
TOKEN_VERIFIER, TOKEN_REQUEST, TOKEN_ACCESS = 'verifier', 'request', 'access'

EXC_INTEGRATION = 'Magento\\Framework\\Exception\\IntegrationException'
EXC_LOCALIZED = 'Magento\\Framework\\Exception\\LocalizedException'
EXC_OAUTH = 'Magento\\Framework\\Oauth\\Exception'
EXC_ALREADY_EXISTS = 'Magento\\Framework\\Exception\\AlreadyExistsException'
# What the resource model says when the save meets the unique index (AbstractDb::save).
UNIQUE_VIOLATION = 'Unique constraint violation found'

POST_FAILED = 'The attempt to post data to consumer failed due to an unexpected error. Please try again later.'
USER_AGENT = 'Laminas\\Http\\Client'


class MagentoError(Exception):
    """An error Magento itself would raise. ``kind`` as in docs/bridge-protocol.md."""

    def __init__(self, message, kind='magento', exception=EXC_INTEGRATION):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.exception = exception


def random_string(length=32):
    """Magento's Oauth helper: random [0-9a-z]."""
    alphabet = '0123456789abcdefghijklmnopqrstuvwxyz'
    return ''.join(secrets.choice(alphabet) for dummy in range(length))


def _nullable(value):
    """The resource layer stores '' as NULL in nullable columns."""
    return None if value is None or value == '' else value


def _not_found(integration_id):
    return MagentoError('The integration with ID "%s" doesn\'t exist.' % integration_id, kind='not_found',
                        exception=None)


def _duplicate(name):
    return MagentoError('The integration with name "%s" exists.' % name)


def _unique_violation():
    return MagentoError(UNIQUE_VIOLATION, exception=EXC_ALREADY_EXISTS)


# --- reads ------------------------------------------------------------------------------------

def load(conn, integration_id):
    """The integration row by id, or None."""
    try:
        integration_id = int(integration_id)
    except (TypeError, ValueError):
        return None
    return conn.execute('SELECT * FROM integration WHERE integration_id = ?', (integration_id,)).fetchone()


def load_or_fail(conn, integration_id):
    row = load(conn, integration_id)
    if row is None:
        raise _not_found(integration_id)
    return row


def find_by_name(conn, name):
    """Case-insensitive (COLLATE NOCASE) look-up, like utf8mb3_general_ci."""
    return conn.execute('SELECT * FROM integration WHERE name = ?', (name,)).fetchone()


def integration_token(conn, consumer_id):
    """TokenProvider::getIntegrationTokenByConsumerId: the consumer's first user_type 1 row, or None."""
    if consumer_id is None:
        return None
    return conn.execute('SELECT * FROM oauth_token WHERE consumer_id = ? AND user_type = ? ORDER BY entity_id LIMIT 1',
                        (consumer_id, USER_TYPE_INTEGRATION)).fetchone()


def consumer(conn, consumer_id):
    if consumer_id is None:
        return None
    return conn.execute('SELECT * FROM oauth_consumer WHERE entity_id = ?', (consumer_id,)).fetchone()


def normalise(conn, row):
    """The bridge's INTEGRATION shape (no secrets)."""
    resources = acl.allowed_resources(conn, row['integration_id'])
    token = integration_token(conn, row['consumer_id'])
    rows = 0
    if row['consumer_id'] is not None:
        rows = conn.execute('SELECT COUNT(*) FROM oauth_token WHERE consumer_id = ?',
                            (row['consumer_id'],)).fetchone()[0]
    return {
        'integration_id': int(row['integration_id']),
        'name': row['name'],
        'email': row['email'],
        'endpoint': row['endpoint'] if row['endpoint'] not in (None, '') else None,
        'identity_link_url': row['identity_link_url'] if row['identity_link_url'] not in (None, '') else None,
        'status': int(row['status']),
        'setup_type': int(row['setup_type']),
        'consumer_id': None if row['consumer_id'] is None else int(row['consumer_id']),
        'created_at': row['created_at'],
        'updated_at': row['updated_at'],
        'all_resources': resources == [acl.ROOT_ALL],
        'resources': resources,
        'token': token_state(token, rows),
    }


def iso_utc(stamp):
    """A stored ``YYYY-MM-DD HH:MM:SS`` (UTC, as Magento writes it) as ISO 8601 ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not stamp or str(stamp).startswith('0000'):
        return None
    return str(stamp).replace(' ', 'T', 1) + 'Z'


def token_state(token, rows):
    """INTEGRATION.token: the type, age and revoked flag of the integration token row; never its secrets."""
    if token is None:
        return {'type': None, 'rows': int(rows), 'created_at': None, 'revoked': False}
    return {'type': token['type'], 'rows': int(rows), 'created_at': iso_utc(token['created_at']),
            'revoked': bool(token['revoked'])}


def credentials(conn, root, row):
    """The bridge's CREDENTIALS shape: decrypted consumer secret, access token pair if there is one."""
    cons = consumer(conn, row['consumer_id'])
    token = integration_token(conn, row['consumer_id'])
    access = token is not None and token['type'] == TOKEN_ACCESS
    return {
        'consumer_key': cons['key'] if cons is not None else None,
        'consumer_secret': crypto.decrypt(root, cons['secret']) if cons is not None else None,
        'access_token': token['token'] if access else None,
        'access_token_secret': crypto.decrypt(root, token['secret']) if access else None,
    }


def get(conn, integration_id):
    """INTEGRATION by id; MagentoError not_found when missing."""
    return normalise(conn, load_or_fail(conn, integration_id))


def list_integrations(conn, names=None):
    if names is None:
        rows = conn.execute('SELECT * FROM integration ORDER BY integration_id').fetchall()
    else:
        names = list(names)
        if not names:
            return []
        marks = ','.join('?' * len(names))
        rows = conn.execute('SELECT * FROM integration WHERE name IN (%s) ORDER BY integration_id' % marks,
                            names).fetchall()
    return [normalise(conn, row) for row in rows]


# --- IntegrationService -------------------------------------------------------------------------

def _create_consumer(conn, root, integration_id):
    """Consumer named Integration<id> with a random key and an encrypted random secret."""
    while True:
        key, secret = random_string(), random_string()
        if conn.execute('SELECT 1 FROM oauth_consumer WHERE "key" = ?', (key,)).fetchone() is None:
            break
    cur = conn.execute('INSERT INTO oauth_consumer (name, "key", secret, callback_url, rejected_callback_url) '
                       "VALUES (?, ?, ?, NULL, '')",
                       ('Integration%d' % integration_id, key, crypto.encrypt(root, secret)))
    return cur.lastrowid


def create(conn, root, name, email='', endpoint='', identity_link_url='', all_resources=False, resources=None,
           window=None):
    """IntegrationService::create (status 0); returns the INTEGRATION.

    As in Magento, the duplicate-name look-up is a plain read before the save's transaction: a create of the same
    name by another process in between fails on the unique index. ``window`` (a test hook, faults.py) runs there.
    """
    name = '' if name is None else str(name)
    if find_by_name(conn, name) is not None:
        raise _duplicate(name)
    if window is not None:
        window()
    with store.transaction(conn):
        try:
            cur = conn.execute('INSERT INTO integration (name, email, endpoint, status, setup_type, identity_link_url) '
                               'VALUES (?, ?, ?, ?, ?, ?)',
                               (name, email or '', _nullable(endpoint), STATUS_INACTIVE, TYPE_MANUAL,
                                _nullable(identity_link_url)))
        except sqlite3.IntegrityError:
            raise _unique_violation()
        integration_id = cur.lastrowid
        consumer_id = _create_consumer(conn, root, integration_id)
        conn.execute('UPDATE integration SET consumer_id = ? WHERE integration_id = ?', (consumer_id, integration_id))
        acl.grant(conn, integration_id, all_resources, resources)
    return get(conn, integration_id)


def update(conn, root, integration_id, name, email='', endpoint='', identity_link_url='', all_resources=False,
           resources=None):
    """IntegrationService::update; permissions re-saved from the given fields; tokens and status kept."""
    name = '' if name is None else str(name)
    with store.transaction(conn):
        row = load_or_fail(conn, integration_id)
        if int(row['setup_type']) == TYPE_CONFIG:
            raise MagentoError("The integrations created in the config file can't be edited.", exception=None)
        if row['name'] != name and find_by_name(conn, name) is not None:
            # Magento looks the new name up (case-insensitively) whenever it differs from the stored one.
            raise _duplicate(name)
        try:
            conn.execute('UPDATE integration SET name = ?, email = ?, endpoint = ?, identity_link_url = ? '
                         'WHERE integration_id = ?',
                         (name, email or '', _nullable(endpoint), _nullable(identity_link_url), row['integration_id']))
        except sqlite3.IntegrityError:
            raise _unique_violation()
        acl.grant(conn, row['integration_id'], all_resources, resources)
    return get(conn, row['integration_id'])


def delete(conn, root, integration_id):
    """IntegrationService::delete then OauthService::deleteConsumer; returns the INTEGRATION as it was."""
    with store.transaction(conn):
        row = load_or_fail(conn, integration_id)
        if int(row['setup_type']) == TYPE_CONFIG:
            raise MagentoError("Uninstall the extension to remove integration '%s'." % row['name'], exception=None)
        before = normalise(conn, row)
        _remove(conn, row)
    return before


def _remove(conn, row):
    """The integration row, its role and rules, then its consumer with tokens and nonces (the admin's Delete)."""
    conn.execute('DELETE FROM integration WHERE integration_id = ?', (row['integration_id'],))
    acl.remove_permissions(conn, row['integration_id'])
    if row['consumer_id'] is not None:
        delete_consumer(conn, row['consumer_id'])


def delete_consumer(conn, consumer_id):
    """OauthService::deleteConsumer: the consumer and (explicitly and by cascade) its tokens and nonces."""
    with store.transaction(conn):
        conn.execute('DELETE FROM oauth_nonce WHERE consumer_id = ?', (consumer_id,))
        conn.execute('DELETE FROM oauth_token WHERE consumer_id = ?', (consumer_id,))
        conn.execute('DELETE FROM oauth_consumer WHERE entity_id = ?', (consumer_id,))


# --- OauthService -------------------------------------------------------------------------------

def _unique_token(conn):
    while True:
        token = random_string()
        if conn.execute('SELECT 1 FROM oauth_token WHERE token = ?', (token,)).fetchone() is None:
            return token


def create_verifier_token(conn, consumer_id):
    """Token::createVerifierToken: the consumer's first ``verifier`` row, inserted if there is none."""
    with store.transaction(conn):
        row = conn.execute('SELECT * FROM oauth_token WHERE consumer_id = ? AND type = ? ORDER BY entity_id LIMIT 1',
                           (consumer_id, TOKEN_VERIFIER)).fetchone()
        if row is not None:
            return row
        cur = conn.execute('INSERT INTO oauth_token (consumer_id, type, token, secret, verifier, callback_url, '
                           "user_type, created_at) VALUES (?, ?, ?, ?, ?, 'oob', ?, ?)",
                           (consumer_id, TOKEN_VERIFIER, _unique_token(conn), random_string(), random_string(),
                            USER_TYPE_INTEGRATION, store.now()))
        return conn.execute('SELECT * FROM oauth_token WHERE entity_id = ?', (cur.lastrowid,)).fetchone()


def convert_to_request(conn, token_id):
    """verifier → request in place: new token, new plaintext secret; returns (token, secret)."""
    token, secret = _unique_token(conn), random_string()
    conn.execute('UPDATE oauth_token SET type = ?, token = ?, secret = ? WHERE entity_id = ?',
                 (TOKEN_REQUEST, token, secret, token_id))
    return token, secret


def convert_to_access(conn, root, token_id):
    """request → access in place: new token, new secret stored encrypted; returns (token, secret)."""
    token, secret = _unique_token(conn), random_string()
    conn.execute('UPDATE oauth_token SET type = ?, token = ?, secret = ?, user_type = ? WHERE entity_id = ?',
                 (TOKEN_ACCESS, token, crypto.encrypt(root, secret), USER_TYPE_INTEGRATION, token_id))
    consumer_id = conn.execute('SELECT consumer_id FROM oauth_token WHERE entity_id = ?', (token_id,)).fetchone()[0]
    # Provider::getAccessToken logs the new access token in plain text (SPEC 4.7): Magento's own leak.
    files.log(root, 'Request token %s was exchanged to obtain access token for consumer %s' % (token, consumer_id))
    return token, secret


def integration_for_consumer(conn, consumer_id):
    return conn.execute('SELECT * FROM integration WHERE consumer_id = ?', (consumer_id,)).fetchone()


def finish_exchange(conn, root, token_id, consumer_id):
    """/oauth/token/access: request → access in place and the consumer's integration to status 1."""
    with store.transaction(conn):
        token, secret = convert_to_access(conn, root, token_id)
        conn.execute('UPDATE integration SET status = ? WHERE consumer_id = ?', (STATUS_ACTIVE, consumer_id))
    return token, secret


def create_access_token(conn, root, consumer_id, clear_existing=False):
    """OauthService::createAccessToken: False if any integration token row exists and not clearing."""
    with store.transaction(conn):
        existing = integration_token(conn, consumer_id)
        if existing is not None:
            if not clear_existing:
                return False
            conn.execute('DELETE FROM oauth_token WHERE entity_id = ?', (existing['entity_id'],))
        verifier = create_verifier_token(conn, consumer_id)
        convert_to_request(conn, verifier['entity_id'])
        convert_to_access(conn, root, verifier['entity_id'])
    return True


def delete_integration_token(conn, consumer_id):
    """OauthService::deleteIntegrationToken: delete the consumer's first integration token row."""
    with store.transaction(conn):
        existing = integration_token(conn, consumer_id)
        if existing is None:
            return False
        conn.execute('DELETE FROM oauth_token WHERE entity_id = ?', (existing['entity_id'],))
    return True


def _set_status(conn, integration_id, status):
    conn.execute('UPDATE integration SET status = ? WHERE integration_id = ?', (status, integration_id))


def activate(conn, root, integration_id, reauthorize=False):
    """TokensDialog: createAccessToken(consumer, reauthorize); status 1 when a token was created."""
    with store.transaction(conn):
        row = load_or_fail(conn, integration_id)
        created = create_access_token(conn, root, row['consumer_id'], bool(reauthorize))
        if created:
            _set_status(conn, row['integration_id'], STATUS_ACTIVE)
    row = load(conn, row['integration_id'])
    return {'token_created': created, 'integration': normalise(conn, row),
            'credentials': credentials(conn, root, row)}


def touch_consumer(conn, root, consumer_id, exception=None):
    """postToConsumer's consumer save: updated_at := now (GMT), secret re-encrypted with a fresh nonce.

    A missing consumer: MagentoError with ``exception`` (OauthService's own, or None when the bridge checks)."""
    with store.transaction(conn):
        cons = consumer(conn, consumer_id)
        if cons is None:
            raise MagentoError('A consumer with ID %d does not exist' % int(consumer_id or 0), exception=exception)
        secret = crypto.decrypt(root, cons['secret'])
        conn.execute('UPDATE oauth_consumer SET updated_at = ?, secret = ? WHERE entity_id = ?',
                     (store.now(), crypto.encrypt(root, secret), consumer_id))
        return secret, cons['key']


def prepare_exchange(conn, root, integration_id, reauthorize=False, missing_consumer=None):
    """TokensExchange steps 1–2 without the POST. Returns (verifier, row, consumer_key, consumer_secret)."""
    with store.transaction(conn):
        row = load_or_fail(conn, integration_id)
        if reauthorize:
            delete_integration_token(conn, row['consumer_id'])
            _set_status(conn, row['integration_id'], STATUS_INACTIVE)
        secret, key = touch_consumer(conn, root, row['consumer_id'], missing_consumer)
        verifier = create_verifier_token(conn, row['consumer_id'])
    return verifier['verifier'], load(conn, row['integration_id']), key, secret


def store_base_url(conn, root, script_filename):
    """``Store::getBaseUrl()`` of a link (SPEC §15): with Web Server Rewrites off Magento appends the running
    script's file name (``$_SERVER['SCRIPT_FILENAME']``), as a web request through index.php gets ``index.php/``."""
    from magento_emulator import config
    # the default store view's values (a locked env.php value wins), falsy as PHP reads them
    url = config.read_value(root, 'web/unsecure/base_url', 'stores', 1, conn=conn) or 'http://localhost/'
    if config.read_value(root, 'web/seo/use_rewrites', 'stores', 1, conn=conn) in (None, '', '0'):
        url += os.path.basename(script_filename) + '/'
    return url


def _config_number(conn, path, default):
    try:
        value = store.get_config(conn, path)
        return default if value in (None, '') else int(float(value))
    except (TypeError, ValueError):
        return default


def post_form(url, fields, timeout, max_redirects=0):
    """POST ``fields`` (ordered pairs) form-encoded the way LaminasClient does; the answer is ignored.

    Raises OSError / http.client.HTTPException / ValueError on transport failures.
    """
    body = urllib.parse.urlencode(fields).encode('ascii')
    for dummy in range(max(0, int(max_redirects)) + 1):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise ValueError('invalid URL')
        port = parts.port
        if parts.scheme == 'https':
            conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
        target = (parts.path or '/') + ('?' + parts.query if parts.query else '')
        try:
            conn.putrequest('POST', target, skip_accept_encoding=True)
            conn.putheader('User-Agent', USER_AGENT)
            conn.putheader('Accept', '*/*')
            conn.putheader('Content-Length', str(len(body)))
            conn.putheader('Content-Type', 'application/x-www-form-urlencoded')
            conn.endheaders(body)
            response = conn.getresponse()
            response.read()
            location = response.getheader('Location')
            status = response.status
        finally:
            conn.close()
        if status in (301, 302, 303, 307, 308) and location and max_redirects > 0:
            url = urllib.parse.urljoin(url, location)
            max_redirects -= 1
            continue
        return status
    return None


def post_to_consumer(conn, root, integration_id, script_filename, reauthorize=False):
    """TokensExchange steps 1–2 with the POST to the endpoint (OauthService::postToConsumer), run by the PHP
    script ``script_filename``."""
    verifier, row, key, secret = prepare_exchange(conn, root, integration_id, reauthorize, missing_consumer=EXC_OAUTH)
    fields = [('oauth_consumer_key', key), ('oauth_consumer_secret', secret),
              ('store_base_url', store_base_url(conn, root, script_filename)), ('oauth_verifier', verifier)]
    timeout = _config_number(conn, 'oauth/consumer/post_timeout', 5)
    redirects = _config_number(conn, 'oauth/consumer/post_maxredirects', 0)
    try:
        post_form(row['endpoint'] or '', fields, timeout or 5, redirects)
    except (OSError, socket.timeout, http.client.HTTPException, ValueError):
        raise MagentoError(POST_FAILED, exception=EXC_OAUTH)
    return verifier, row


def revoke(conn, integration_id):
    """Remove the consumer's token rows and set status 0; True when a row was removed."""
    with store.transaction(conn):
        row = load_or_fail(conn, integration_id)
        removed = 0
        if row['consumer_id'] is not None:
            # deleteIntegrationToken, repeated: every user_type 1 row of the consumer goes
            removed = conn.execute('DELETE FROM oauth_token WHERE consumer_id = ? AND user_type = ?',
                                   (row['consumer_id'], USER_TYPE_INTEGRATION)).rowcount
        _set_status(conn, row['integration_id'], STATUS_INACTIVE)
    return removed > 0, load(conn, row['integration_id'])


# --- test fixtures (magento-emulator token-age / config-integration) ------------------------------

def set_token_created_at(conn, name, created_at):
    """Move the creation time of the integration's token rows (a test fixture for token ages).

    ``created_at`` is a UTC ``datetime``. Returns (stored name, rows changed); MagentoError when there is no
    such integration or it has no token.
    """
    with store.transaction(conn):
        row = find_by_name(conn, name)
        if row is None:
            raise MagentoError('There is no integration named %r.' % name, kind='not_found', exception=None)
        changed = 0
        if row['consumer_id'] is not None:
            changed = conn.execute('UPDATE oauth_token SET created_at = ? WHERE consumer_id = ? AND user_type = ?',
                                   (created_at.strftime('%Y-%m-%d %H:%M:%S'), row['consumer_id'],
                                    USER_TYPE_INTEGRATION)).rowcount
        if not changed:
            raise MagentoError('Integration %r has no token: activate it first.' % row['name'], exception=None)
    return row['name'], changed


def declare_config_integration(conn, root, name, email='', resources=None):
    """What setup:upgrade does for an integration a module declares in etc/integration.xml and the store lacks
    (SPEC §11): IntegrationService::create with setup_type 1, status 0, permissions from the file."""
    with store.transaction(conn):
        created = create(conn, root, name, email=email, all_resources=False, resources=list(resources or []))
        conn.execute('UPDATE integration SET setup_type = ? WHERE integration_id = ?',
                     (TYPE_CONFIG, created['integration_id']))
    return get(conn, created['integration_id'])


def remove_config_integration(conn, name):
    """Test cleanup only: drop a config-based integration with its role and consumer (Magento itself refuses)."""
    with store.transaction(conn):
        row = find_by_name(conn, name)
        if row is not None:
            _remove(conn, row)
    return None if row is None else row['name']
