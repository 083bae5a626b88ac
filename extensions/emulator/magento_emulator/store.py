"""The emulator's database: Magento's tables and columns in SQLite (SPEC §1, observed/schema.md).

Use ``connect(root)`` for a connection and ``transaction(conn)`` around every write::

    conn = store.connect(root)
    with store.transaction(conn):
        conn.execute('UPDATE integration SET status = 1 WHERE integration_id = ?', (1,))

Connections run in autocommit mode (``isolation_level=None``); ``transaction`` issues
``BEGIN IMMEDIATE`` so that two processes never interleave a read-check-write sequence.
"""

import contextlib
import datetime
import hashlib
import os
import sqlite3

DB_RELATIVE = os.path.join('var', 'magento.sqlite')

# The seeded admin account (SPEC §1.8). Password hash in Magento's format `hash:salt:version`,
# version 1 = sha256(salt . password).
ADMIN_USERNAME = 'admin'
ADMIN_PASSWORD = 'magento-emulator-1'
ADMIN_EMAIL = 'admin@example.com'
ADMIN_SALT = 'emulatorsaltemulatorsaltemulator'

ZERO_TIMESTAMP = '0000-00-00 00:00:00'
_NOW_SQL = "strftime('%Y-%m-%d %H:%M:%S','now')"


def now():
    """The current UTC time as Magento stores it: ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S')


def db_path(root):
    return os.path.join(str(root), DB_RELATIVE)


def password_hash(password, salt=ADMIN_SALT):
    """Magento's hash version 1: ``sha256(salt + password):salt:1``."""
    return '%s:%s:1' % (hashlib.sha256((salt + password).encode('utf-8')).hexdigest(), salt)


def verify_password(password, stored):
    """Check ``password`` against a ``hash:salt:1`` string."""
    try:
        digest, salt, version = stored.split(':', 2)
    except (AttributeError, ValueError):
        return False
    if version != '1':
        return False
    return hashlib.sha256((salt + password).encode('utf-8')).hexdigest() == digest


def connect(root):
    """A connection to ``<root>/var/magento.sqlite``: Row factory, FKs on, 10 s busy timeout, autocommit."""
    path = db_path(root)
    if not os.path.exists(path):
        raise FileNotFoundError("Magento database not found: %s" % path)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute('PRAGMA foreign_keys = ON')
    conn.execute('PRAGMA busy_timeout = 10000')
    return conn


@contextlib.contextmanager
def transaction(conn):
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on an exception). Nesting is allowed (inner is a no-op)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute('BEGIN IMMEDIATE')
    try:
        yield conn
    except BaseException:
        conn.execute('ROLLBACK')
        raise
    else:
        conn.execute('COMMIT')


# An alias some callers find clearer.
write = transaction


def _on_update(table, pk, column, watched):
    """Emulate MySQL's ``ON UPDATE current_timestamp()``: refreshed when another column changed."""
    changed = ' OR '.join('NEW.%s IS NOT OLD.%s' % (c, c) for c in watched)
    return (
        'CREATE TRIGGER IF NOT EXISTS trg_{t}_{c}_on_update AFTER UPDATE ON {t} FOR EACH ROW '
        'WHEN NEW.{c} IS OLD.{c} AND ({changed}) BEGIN '
        'UPDATE {t} SET {c} = {now} WHERE {pk} = NEW.{pk}; END'
    ).format(t=table, c=column, pk=pk, changed=changed, now=_NOW_SQL)


SCHEMA = [
    """CREATE TABLE IF NOT EXISTS admin_user (
        user_id INTEGER PRIMARY KEY AUTOINCREMENT,
        firstname VARCHAR(32),
        lastname VARCHAR(32),
        email VARCHAR(128),
        username VARCHAR(40) COLLATE NOCASE,
        password VARCHAR(255) NOT NULL,
        created TIMESTAMP NOT NULL DEFAULT ({now}),
        modified TIMESTAMP NOT NULL DEFAULT ({now}),
        logdate TIMESTAMP,
        lognum SMALLINT NOT NULL DEFAULT 0,
        reload_acl_flag SMALLINT NOT NULL DEFAULT 0,
        is_active SMALLINT NOT NULL DEFAULT 1,
        extra TEXT,
        rp_token TEXT,
        rp_token_created_at TIMESTAMP,
        interface_locale VARCHAR(16) NOT NULL DEFAULT 'en_US',
        failures_num SMALLINT DEFAULT 0,
        first_failure TIMESTAMP,
        lock_expires TIMESTAMP,
        CONSTRAINT ADMIN_USER_USERNAME UNIQUE (username)
    )""",
    # Minimal, only so that oauth_token.customer_id has its FK target.
    """CREATE TABLE IF NOT EXISTS customer_entity (
        entity_id INTEGER PRIMARY KEY AUTOINCREMENT,
        website_id INTEGER,
        email VARCHAR(255) COLLATE NOCASE,
        firstname VARCHAR(255),
        lastname VARCHAR(255),
        password_hash VARCHAR(128),
        created_at TIMESTAMP NOT NULL DEFAULT ({now})
    )""",
    """CREATE TABLE IF NOT EXISTS oauth_consumer (
        entity_id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TIMESTAMP NOT NULL DEFAULT ({now}),
        updated_at TIMESTAMP DEFAULT '0000-00-00 00:00:00',
        name VARCHAR(255) NOT NULL DEFAULT '' COLLATE NOCASE,
        "key" VARCHAR(32) NOT NULL DEFAULT '',
        secret VARCHAR(128) NOT NULL DEFAULT '',
        callback_url TEXT,
        rejected_callback_url TEXT NOT NULL DEFAULT '',
        CONSTRAINT OAUTH_CONSUMER_KEY UNIQUE ("key"),
        CONSTRAINT OAUTH_CONSUMER_SECRET UNIQUE (secret)
    )""",
    'CREATE INDEX IF NOT EXISTS OAUTH_CONSUMER_CREATED_AT ON oauth_consumer (created_at)',
    'CREATE INDEX IF NOT EXISTS OAUTH_CONSUMER_UPDATED_AT ON oauth_consumer (updated_at)',
    """CREATE TABLE IF NOT EXISTS integration (
        integration_id INTEGER PRIMARY KEY AUTOINCREMENT,
        name VARCHAR(255) NOT NULL DEFAULT '' COLLATE NOCASE,
        email VARCHAR(255) NOT NULL DEFAULT '',
        endpoint VARCHAR(255) DEFAULT NULL,
        status SMALLINT NOT NULL DEFAULT 0,
        consumer_id INTEGER DEFAULT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT ({now}),
        updated_at TIMESTAMP NOT NULL DEFAULT ({now}),
        setup_type SMALLINT NOT NULL DEFAULT 0,
        identity_link_url VARCHAR(255) DEFAULT NULL,
        CONSTRAINT INTEGRATION_CONSUMER_ID UNIQUE (consumer_id),
        CONSTRAINT INTEGRATION_NAME UNIQUE (name),
        CONSTRAINT INTEGRATION_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID FOREIGN KEY (consumer_id)
            REFERENCES oauth_consumer (entity_id) ON DELETE CASCADE
    )""",
    """CREATE TABLE IF NOT EXISTS oauth_token (
        entity_id INTEGER PRIMARY KEY AUTOINCREMENT,
        consumer_id INTEGER DEFAULT NULL,
        admin_id INTEGER DEFAULT NULL,
        customer_id INTEGER DEFAULT NULL,
        type VARCHAR(16) NOT NULL DEFAULT '',
        token VARCHAR(32) NOT NULL DEFAULT '',
        secret VARCHAR(128) NOT NULL DEFAULT '',
        verifier VARCHAR(32) DEFAULT NULL,
        callback_url TEXT NOT NULL DEFAULT '',
        revoked SMALLINT NOT NULL DEFAULT 0,
        authorized SMALLINT NOT NULL DEFAULT 0,
        user_type INTEGER DEFAULT NULL,
        created_at TIMESTAMP NOT NULL DEFAULT ({now}),
        CONSTRAINT OAUTH_TOKEN_TOKEN UNIQUE (token),
        CONSTRAINT OAUTH_TOKEN_ADMIN_ID_ADMIN_USER_USER_ID FOREIGN KEY (admin_id)
            REFERENCES admin_user (user_id) ON DELETE CASCADE,
        CONSTRAINT OAUTH_TOKEN_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID FOREIGN KEY (consumer_id)
            REFERENCES oauth_consumer (entity_id) ON DELETE CASCADE,
        CONSTRAINT OAUTH_TOKEN_CUSTOMER_ID_CUSTOMER_ENTITY_ENTITY_ID FOREIGN KEY (customer_id)
            REFERENCES customer_entity (entity_id) ON DELETE CASCADE
    )""",
    'CREATE INDEX IF NOT EXISTS OAUTH_TOKEN_ADMIN_ID_ADMIN_USER_USER_ID ON oauth_token (admin_id)',
    'CREATE INDEX IF NOT EXISTS OAUTH_TOKEN_CONSUMER_ID ON oauth_token (consumer_id)',
    'CREATE INDEX IF NOT EXISTS OAUTH_TOKEN_CREATED_AT ON oauth_token (created_at)',
    'CREATE INDEX IF NOT EXISTS OAUTH_TOKEN_CUSTOMER_ID_CUSTOMER_ENTITY_ENTITY_ID ON oauth_token (customer_id)',
    """CREATE TABLE IF NOT EXISTS oauth_nonce (
        nonce VARCHAR(32) NOT NULL,
        "timestamp" INTEGER NOT NULL,
        consumer_id INTEGER NOT NULL,
        PRIMARY KEY (nonce, consumer_id),
        CONSTRAINT OAUTH_NONCE_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID FOREIGN KEY (consumer_id)
            REFERENCES oauth_consumer (entity_id) ON DELETE CASCADE
    )""",
    'CREATE INDEX IF NOT EXISTS OAUTH_NONCE_CONSUMER_ID_OAUTH_CONSUMER_ENTITY_ID ON oauth_nonce (consumer_id)',
    'CREATE INDEX IF NOT EXISTS OAUTH_NONCE_TIMESTAMP ON oauth_nonce ("timestamp")',
    """CREATE TABLE IF NOT EXISTS oauth_token_request_log (
        log_id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_name VARCHAR(255) NOT NULL COLLATE NOCASE,
        user_type SMALLINT NOT NULL,
        failures_count SMALLINT DEFAULT 0,
        lock_expires_at TIMESTAMP NOT NULL DEFAULT ({now}),
        CONSTRAINT OAUTH_TOKEN_REQUEST_LOG_USER_NAME_USER_TYPE UNIQUE (user_name, user_type)
    )""",
    """CREATE TABLE IF NOT EXISTS authorization_role (
        role_id INTEGER PRIMARY KEY AUTOINCREMENT,
        parent_id INTEGER NOT NULL DEFAULT 0,
        tree_level SMALLINT NOT NULL DEFAULT 0,
        sort_order SMALLINT NOT NULL DEFAULT 0,
        role_type VARCHAR(1) NOT NULL DEFAULT '0',
        user_id INTEGER NOT NULL DEFAULT 0,
        user_type VARCHAR(16) DEFAULT NULL,
        role_name VARCHAR(50) DEFAULT NULL COLLATE NOCASE
    )""",
    'CREATE INDEX IF NOT EXISTS AUTHORIZATION_ROLE_PARENT_ID_SORT_ORDER ON authorization_role (parent_id, sort_order)',
    'CREATE INDEX IF NOT EXISTS AUTHORIZATION_ROLE_TREE_LEVEL ON authorization_role (tree_level)',
    """CREATE TABLE IF NOT EXISTS authorization_rule (
        rule_id INTEGER PRIMARY KEY AUTOINCREMENT,
        role_id INTEGER NOT NULL DEFAULT 0,
        resource_id VARCHAR(255) DEFAULT NULL,
        privileges VARCHAR(20) DEFAULT NULL,
        permission VARCHAR(10) DEFAULT NULL,
        CONSTRAINT AUTHORIZATION_RULE_ROLE_ID_AUTHORIZATION_ROLE_ROLE_ID FOREIGN KEY (role_id)
            REFERENCES authorization_role (role_id) ON DELETE CASCADE
    )""",
    'CREATE INDEX IF NOT EXISTS AUTHORIZATION_RULE_RESOURCE_ID_ROLE_ID ON authorization_rule (resource_id, role_id)',
    'CREATE INDEX IF NOT EXISTS AUTHORIZATION_RULE_ROLE_ID_RESOURCE_ID ON authorization_rule (role_id, resource_id)',
    """CREATE TABLE IF NOT EXISTS core_config_data (
        config_id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope VARCHAR(8) NOT NULL DEFAULT 'default',
        scope_id INTEGER NOT NULL DEFAULT 0,
        path VARCHAR(255) NOT NULL DEFAULT 'general',
        value TEXT,
        updated_at TIMESTAMP NOT NULL DEFAULT ({now}),
        CONSTRAINT CORE_CONFIG_DATA_SCOPE_SCOPE_ID_PATH UNIQUE (scope, scope_id, path)
    )""",
    """CREATE TABLE IF NOT EXISTS store_website (
        website_id INTEGER PRIMARY KEY AUTOINCREMENT,
        code VARCHAR(32) COLLATE NOCASE,
        name VARCHAR(64) COLLATE NOCASE,
        sort_order SMALLINT NOT NULL DEFAULT 0,
        default_group_id INTEGER NOT NULL DEFAULT 0,
        is_default SMALLINT DEFAULT 0,
        CONSTRAINT STORE_WEBSITE_CODE UNIQUE (code)
    )""",
    """CREATE TABLE IF NOT EXISTS store_group (
        group_id INTEGER PRIMARY KEY AUTOINCREMENT,
        website_id INTEGER NOT NULL DEFAULT 0,
        name VARCHAR(255) NOT NULL COLLATE NOCASE,
        root_category_id INTEGER NOT NULL DEFAULT 0,
        default_store_id INTEGER NOT NULL DEFAULT 0,
        code VARCHAR(32) COLLATE NOCASE,
        CONSTRAINT STORE_GROUP_CODE UNIQUE (code),
        CONSTRAINT STORE_GROUP_WEBSITE_ID_STORE_WEBSITE_WEBSITE_ID FOREIGN KEY (website_id)
            REFERENCES store_website (website_id) ON DELETE CASCADE
    )""",
    """CREATE TABLE IF NOT EXISTS store (
        store_id INTEGER PRIMARY KEY AUTOINCREMENT,
        code VARCHAR(32) COLLATE NOCASE,
        website_id INTEGER NOT NULL DEFAULT 0,
        group_id INTEGER NOT NULL DEFAULT 0,
        name VARCHAR(255) NOT NULL COLLATE NOCASE,
        sort_order SMALLINT NOT NULL DEFAULT 0,
        is_active SMALLINT NOT NULL DEFAULT 0,
        CONSTRAINT STORE_CODE UNIQUE (code),
        CONSTRAINT STORE_GROUP_ID_STORE_GROUP_GROUP_ID FOREIGN KEY (group_id)
            REFERENCES store_group (group_id) ON DELETE CASCADE,
        CONSTRAINT STORE_WEBSITE_ID_STORE_WEBSITE_WEBSITE_ID FOREIGN KEY (website_id)
            REFERENCES store_website (website_id) ON DELETE CASCADE
    )""",
    """CREATE TABLE IF NOT EXISTS flag (
        flag_id INTEGER PRIMARY KEY AUTOINCREMENT,
        flag_code VARCHAR(255) NOT NULL,
        state SMALLINT NOT NULL DEFAULT 0,
        flag_data TEXT,
        last_update TIMESTAMP NOT NULL DEFAULT ({now})
    )""",
    'CREATE INDEX IF NOT EXISTS FLAG_LAST_UPDATE ON flag (last_update)',
    _on_update('integration', 'integration_id', 'updated_at',
               ['name', 'email', 'endpoint', 'status', 'consumer_id', 'created_at', 'setup_type',
                'identity_link_url']),
    _on_update('oauth_consumer', 'entity_id', 'updated_at',
               ['created_at', 'name', '"key"', 'secret', 'callback_url', 'rejected_callback_url']),
    _on_update('core_config_data', 'config_id', 'updated_at', ['scope', 'scope_id', 'path', 'value']),
    _on_update('oauth_token_request_log', 'log_id', 'lock_expires_at',
               ['user_name', 'user_type', 'failures_count']),
    _on_update('flag', 'flag_id', 'last_update', ['flag_code', 'state', 'flag_data']),
]

TABLES = ('integration', 'oauth_consumer', 'oauth_token', 'oauth_nonce', 'oauth_token_request_log',
          'authorization_role', 'authorization_rule', 'core_config_data', 'admin_user',
          'store_website', 'store_group', 'store', 'flag')


def init(root, base_url=None, secure_base_url=None):
    """Create ``var/magento.sqlite`` with the schema and seed rows (idempotent: existing rows are kept).

    ``base_url`` (and ``secure_base_url``, default the same) set ``web/unsecure/base_url`` and
    ``web/secure/base_url`` at default scope when given; otherwise they are only seeded if absent.
    """
    path = db_path(root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    try:
        conn.execute('PRAGMA busy_timeout = 10000')
        try:
            conn.execute('PRAGMA journal_mode = WAL')
        except sqlite3.OperationalError:
            pass
        conn.execute('PRAGMA foreign_keys = ON')
        conn.execute('BEGIN IMMEDIATE')
        try:
            for statement in SCHEMA:
                conn.execute(statement.replace('{now}', _NOW_SQL))
            _seed(conn, base_url, secure_base_url)
        except BaseException:
            conn.execute('ROLLBACK')
            raise
        conn.execute('COMMIT')
    finally:
        conn.close()
    return path


def _seed(conn, base_url, secure_base_url):
    ins = conn.execute
    ins("INSERT OR IGNORE INTO store_website (website_id, code, name, sort_order, default_group_id, is_default) "
        "VALUES (0, 'admin', 'Admin', 0, 0, 0), (1, 'base', 'Main Website', 0, 1, 1)")
    ins("INSERT OR IGNORE INTO store_group (group_id, website_id, name, root_category_id, default_store_id, code) "
        "VALUES (0, 0, 'Default', 0, 0, 'default'), (1, 1, 'Main Website Store', 2, 1, 'main_website_store')")
    ins("INSERT OR IGNORE INTO store (store_id, code, website_id, group_id, name, sort_order, is_active) "
        "VALUES (0, 'admin', 0, 0, 'Admin', 0, 1), (1, 'default', 1, 1, 'Default Store View', 0, 1)")
    if conn.execute('SELECT COUNT(*) FROM admin_user').fetchone()[0] == 0:
        ins('INSERT INTO admin_user (user_id, firstname, lastname, email, username, password, is_active) '
            'VALUES (1, ?, ?, ?, ?, ?, 1)',
            ('Admin', 'Emulator', ADMIN_EMAIL, ADMIN_USERNAME, password_hash(ADMIN_PASSWORD)))
        ins("INSERT INTO authorization_role (role_id, parent_id, tree_level, sort_order, role_type, user_id, "
            "user_type, role_name) VALUES (1, 0, 1, 1, 'G', 0, '2', 'Administrators'), "
            "(2, 1, 2, 0, 'U', 1, '2', 'admin')")
        ins("INSERT INTO authorization_rule (role_id, resource_id, privileges, permission) "
            "VALUES (1, 'Magento_Backend::all', NULL, 'allow')")
    secure_base_url = secure_base_url or base_url
    for path, value in (('web/unsecure/base_url', base_url), ('web/secure/base_url', secure_base_url)):
        if value:
            ins("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES ('default', 0, ?, ?) "
                "ON CONFLICT (scope, scope_id, path) DO UPDATE SET value = excluded.value", (path, value))
        else:
            ins("INSERT OR IGNORE INTO core_config_data (scope, scope_id, path, value) "
                "VALUES ('default', 0, ?, 'http://localhost/')", (path,))


def set_base_url(root, base_url, secure_base_url=None):
    """Point ``web/unsecure/base_url`` and ``web/secure/base_url`` (default scope) at ``base_url``."""
    init(root, base_url, secure_base_url)


def get_config(conn, path, scope='default', scope_id=0):
    """The raw ``core_config_data`` value at exactly (scope, scope_id, path), or None."""
    row = conn.execute('SELECT value FROM core_config_data WHERE scope = ? AND scope_id = ? AND path = ?',
                       (scope, scope_id, path)).fetchone()
    return None if row is None else row['value']
