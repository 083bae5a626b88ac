"""The emulator's SQLite schema: Magento's tables, keys, cascades, seeds."""

import re
import sqlite3
import threading

import pytest

from magento_emulator import store


def columns(conn, table):
    return [row['name'] for row in conn.execute('PRAGMA table_info(%s)' % table)]


def test_tables_and_columns(emulator_root):
    conn = store.connect(emulator_root)
    for table in store.TABLES:
        assert columns(conn, table), table
    assert columns(conn, 'integration') == ['integration_id', 'name', 'email', 'endpoint', 'status', 'consumer_id',
                                            'created_at', 'updated_at', 'setup_type', 'identity_link_url']
    assert columns(conn, 'oauth_consumer') == ['entity_id', 'created_at', 'updated_at', 'name', 'key', 'secret',
                                               'callback_url', 'rejected_callback_url']
    assert columns(conn, 'oauth_token') == ['entity_id', 'consumer_id', 'admin_id', 'customer_id', 'type', 'token',
                                            'secret', 'verifier', 'callback_url', 'revoked', 'authorized',
                                            'user_type', 'created_at']
    assert columns(conn, 'oauth_nonce') == ['nonce', 'timestamp', 'consumer_id']
    assert columns(conn, 'authorization_role') == ['role_id', 'parent_id', 'tree_level', 'sort_order', 'role_type',
                                                   'user_id', 'user_type', 'role_name']
    assert columns(conn, 'authorization_rule') == ['rule_id', 'role_id', 'resource_id', 'privileges', 'permission']
    assert columns(conn, 'core_config_data') == ['config_id', 'scope', 'scope_id', 'path', 'value', 'updated_at']
    assert columns(conn, 'oauth_token_request_log') == ['log_id', 'user_name', 'user_type', 'failures_count',
                                                        'lock_expires_at']


def test_connection_settings(emulator_root):
    conn = store.connect(emulator_root)
    assert conn.execute('PRAGMA foreign_keys').fetchone()[0] == 1
    assert conn.execute('PRAGMA busy_timeout').fetchone()[0] == 10000
    assert conn.isolation_level is None
    row = conn.execute('SELECT 1 AS one').fetchone()
    assert row['one'] == 1


def test_seed_rows(emulator_root):
    conn = store.connect(emulator_root)
    assert [tuple(r) for r in conn.execute('SELECT website_id, code FROM store_website ORDER BY website_id')] == [
        (0, 'admin'), (1, 'base')]
    assert [tuple(r) for r in conn.execute('SELECT store_id, code, website_id, group_id FROM store ORDER BY store_id')] == [
        (0, 'admin', 0, 0), (1, 'default', 1, 1)]
    assert conn.execute('SELECT code FROM store_group WHERE group_id = 1').fetchone()[0] == 'main_website_store'
    assert store.get_config(conn, 'web/unsecure/base_url') == 'http://127.0.0.1:8080/'
    assert store.get_config(conn, 'web/secure/base_url') == 'http://127.0.0.1:8080/'
    admin = conn.execute('SELECT * FROM admin_user').fetchone()
    assert admin['username'] == store.ADMIN_USERNAME
    assert store.verify_password(store.ADMIN_PASSWORD, admin['password'])
    assert not store.verify_password('wrong', admin['password'])
    assert [tuple(r) for r in conn.execute('SELECT * FROM authorization_role ORDER BY role_id')] == [
        (1, 0, 1, 1, 'G', 0, '2', 'Administrators'), (2, 1, 2, 0, 'U', 1, '2', 'admin')]


def test_init_again_keeps_state_and_moves_base_url(emulator_root):
    conn = store.connect(emulator_root)
    conn.execute("INSERT INTO core_config_data (path, value) VALUES ('a/b/c', '1')")
    store.set_base_url(emulator_root, 'http://127.0.0.1:9999/')
    assert store.get_config(conn, 'a/b/c') == '1'
    assert store.get_config(conn, 'web/unsecure/base_url') == 'http://127.0.0.1:9999/'
    assert conn.execute('SELECT COUNT(*) FROM admin_user').fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM core_config_data WHERE path LIKE 'web/%'").fetchone()[0] == 2


def test_unique_keys_and_nocase_names(emulator_root):
    conn = store.connect(emulator_root)
    conn.execute("INSERT INTO integration (name, email) VALUES ('Acme', '')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO integration (name, email) VALUES ('ACME', '')")
    conn.execute("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES ('websites', 1, 'x/y/z', '0')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES ('websites', 1, 'x/y/z', '1')")


def test_defaults_and_on_update(emulator_root):
    conn = store.connect(emulator_root)
    conn.execute("INSERT INTO oauth_consumer (name, \"key\", secret) VALUES ('Integration1', 'k', 's')")
    row = conn.execute('SELECT * FROM oauth_consumer').fetchone()
    assert row['updated_at'] == store.ZERO_TIMESTAMP
    assert row['rejected_callback_url'] == '' and row['callback_url'] is None
    conn.execute("UPDATE oauth_consumer SET secret = 't'")
    assert conn.execute('SELECT updated_at FROM oauth_consumer').fetchone()[0] != store.ZERO_TIMESTAMP
    conn.execute("INSERT INTO integration (name, email, updated_at) VALUES ('x', '', '2000-01-01 00:00:00')")
    conn.execute("UPDATE integration SET status = 0")  # no change → no ON UPDATE
    assert conn.execute('SELECT updated_at FROM integration').fetchone()[0] == '2000-01-01 00:00:00'
    conn.execute("UPDATE integration SET status = 1")
    assert conn.execute('SELECT updated_at FROM integration').fetchone()[0] != '2000-01-01 00:00:00'


def test_cascades(emulator_root):
    conn = store.connect(emulator_root)
    conn.execute("INSERT INTO oauth_consumer (entity_id, name, \"key\", secret) VALUES (5, 'Integration1', 'k', 's')")
    conn.execute("INSERT INTO integration (name, email, consumer_id) VALUES ('x', '', 5)")
    conn.execute("INSERT INTO oauth_token (consumer_id, type, token, secret, callback_url, user_type) "
                 "VALUES (5, 'verifier', 't', 's', 'oob', 1)")
    conn.execute("INSERT INTO oauth_nonce (nonce, timestamp, consumer_id) VALUES ('n', 1, 5)")
    conn.execute('DELETE FROM oauth_consumer WHERE entity_id = 5')
    for table in ('integration', 'oauth_token', 'oauth_nonce'):
        assert conn.execute('SELECT COUNT(*) FROM %s' % table).fetchone()[0] == 0, table
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO oauth_nonce (nonce, timestamp, consumer_id) VALUES ('n', 1, 99)")


def test_transaction_rolls_back_and_serialises(emulator_root):
    conn = store.connect(emulator_root)
    with pytest.raises(RuntimeError):
        with store.transaction(conn):
            conn.execute("INSERT INTO flag (flag_code) VALUES ('x')")
            raise RuntimeError('boom')
    assert conn.execute('SELECT COUNT(*) FROM flag').fetchone()[0] == 0
    assert not conn.in_transaction

    def worker(n):
        c = store.connect(emulator_root)
        for i in range(20):
            with store.transaction(c):
                count = c.execute('SELECT COUNT(*) FROM flag').fetchone()[0]
                c.execute('INSERT INTO flag (flag_code, state) VALUES (?, ?)', ('w%d' % n, count))
        c.close()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    states = [r[0] for r in conn.execute('SELECT state FROM flag ORDER BY flag_id')]
    assert states == list(range(80))  # every read-then-write saw all earlier writes


def test_now_format():
    assert re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$', store.now())
