#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only: a digest of a store's state, to prove that a task wrote nothing."""

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_ci_state
short_description: Test-only digest of a Magento store's state
description:
  - On the emulator, hashes every table of its database, app/etc files and cache folder.
  - On a real store (no emulator database), hashes the tables the collection writes, read with O(php_executable)
    over PDO with the database credentials of app/etc/env.php, and the app/etc files. Not shipped for use.
  - Fails when it cannot take a digest, so that two digests compared in an assert are never both null.
options:
  magento_root:
    description: The store's root.
    type: path
    required: true
  php_executable:
    description: The PHP CLI that reads a real store's database.
    type: str
    default: php
  database_dsn:
    description:
      - A PDO DSN to read instead of the MySQL database named in env.php, and take the real-store digest even on an
        emulated root. For the helper's own test (the emulator's SQLite file through PHP's pdo_sqlite).
    type: str
author: commerceops.magento contributors
'''

import hashlib
import json
import os
import sqlite3
import tempfile

from ansible.module_utils.basic import AnsibleModule

# What the collection writes: integrations, their OAuth consumers, tokens and nonces, ACL roles and rules, config.
REAL_STORE_TABLES = ('integration', 'oauth_consumer', 'oauth_token', 'oauth_nonce', 'authorization_role',
                     'authorization_rule', 'core_config_data')
# What every Magento bootstrap writes by itself, whatever the task (extensions/emulator/magento_emulator/files.py):
# a read re-creates it after a cache clean, as on a real store, so it is no write of the task's.
BOOTSTRAP_WRITES = ('/var/cache/config/global_primary_adminhtml.json',)

# Reads env.php's database credentials (or takes a DSN) and prints {table: {rows, sha256}} of the rows, sorted.
DIGEST_PHP = r'''<?php
list(, $root, $dsn, $tables) = $argv;
$env = include $root . '/app/etc/env.php';
$prefix = (string)($env['db']['table_prefix'] ?? '');
if ($dsn === '') {
    $db = $env['db']['connection']['default'];
    $host = (string)$db['host'];
    if (strpos($host, '/') !== false) {
        $where = 'unix_socket=' . $host;
    } elseif (preg_match('/^(.*):(\d+)$/', $host, $m)) {
        $where = 'host=' . $m[1] . ';port=' . $m[2];
    } else {
        $where = 'host=' . $host;
    }
    $pdo = new PDO('mysql:' . $where . ';dbname=' . $db['dbname'], (string)$db['username'], (string)($db['password'] ?? ''));
} else {
    $pdo = new PDO($dsn);
}
$pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
$out = [];
foreach (explode(',', $tables) as $table) {
    $rows = [];
    foreach ($pdo->query('SELECT * FROM ' . $prefix . $table, PDO::FETCH_ASSOC) as $row) {
        ksort($row);
        $rows[] = json_encode(array_map(function ($v) { return $v === null ? null : (string)$v; }, $row));
    }
    sort($rows, SORT_STRING);
    $out[$table] = ['rows' => count($rows), 'sha256' => hash('sha256', implode("\n", $rows))];
}
echo json_encode($out), "\n";
'''


def hash_files(root, folders, digest):
    for folder in folders:
        for directory, _dirs, files in sorted(os.walk(os.path.join(root, folder))):
            for name in sorted(files):
                path = os.path.join(directory, name)
                if path[len(root):] in BOOTSTRAP_WRITES:
                    continue
                with open(path, 'rb') as handle:
                    digest.update(path[len(root):].encode('utf-8') + b'\0' + handle.read())


def emulator_digest(database, skip_tables=()):
    digest, rows = hashlib.sha256(), {}
    connection = sqlite3.connect('file:%s?mode=ro' % database, uri=True, timeout=30)
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for table in tables:
            if table in skip_tables:
                continue
            content = sorted(repr(tuple(row)) for row in connection.execute('SELECT * FROM "%s"' % table))
            rows[table] = len(content)
            digest.update(('%s\n%s\n' % (table, '\n'.join(content))).encode('utf-8'))
    finally:
        connection.close()
    return digest, rows


def real_store_digest(module, root, php, dsn):
    handle, script = tempfile.mkstemp(suffix='.php')
    try:
        with os.fdopen(handle, 'w') as stream:
            stream.write(DIGEST_PHP)
        rc, out, err = module.run_command([php, script, root, dsn or '', ','.join(REAL_STORE_TABLES)])
    finally:
        os.unlink(script)
    try:
        tables = json.loads(out)
    except ValueError:
        tables = None
    if rc != 0 or not isinstance(tables, dict):
        module.fail_json(msg='Could not read the store database with %s (exit %d): %s' % (php, rc, (err or out).strip()[:2000]))
    digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode('utf-8'))
    return digest, dict((table, value['rows']) for table, value in tables.items())


def main():
    module = AnsibleModule(argument_spec=dict(magento_root=dict(type='path', required=True),
                                              php_executable=dict(type='str', default='php'),
                                              database_dsn=dict(type='str')),
                           supports_check_mode=True)
    root = module.params['magento_root']
    database = os.path.join(root, 'var', 'magento.sqlite')
    emulator = os.path.exists(database) and not module.params['database_dsn']
    if emulator:
        digest, rows = emulator_digest(database)
        hash_files(root, ('app/etc', 'var/cache'), digest)
    else:
        digest, rows = real_store_digest(module, root, module.params['php_executable'], module.params['database_dsn'])
        # Not var/cache: on a real store every read may fill it (or it lives in Redis).
        hash_files(root, ('app/etc',), digest)
    module.exit_json(changed=False, emulator=emulator, digest=digest.hexdigest(), rows=rows)


if __name__ == '__main__':
    main()
