# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration targets' store digest (magento_ci_state) moves when the store changes, on the emulator and on a real
store, and is never null: a "nothing written" assert that compares two digests can fail."""

from __future__ import annotations

import os
import shutil


def digest_tasks(register, root, dsn):
    return [{'name': 'emulator digest', 'magento_ci_state': {'magento_root': root}, 'register': register + '_emulator'},
            {'name': 'real-store digest (PHP over PDO)', 'register': register + '_real',
             'magento_ci_state': {'magento_root': root, 'php_executable': shutil.which('php'), 'database_dsn': dsn}}]


def test_the_digest_changes_with_the_store_and_is_never_null(store):
    root = store.root
    dsn = 'sqlite:' + os.path.join(root, 'var', 'magento.sqlite')
    not_a_store = os.path.join(store.workdir, 'no-database')
    os.makedirs(os.path.join(not_a_store, 'app', 'etc'))
    with open(os.path.join(not_a_store, 'app', 'etc', 'env.php'), 'w') as handle:
        # A MySQL that is not there: the real-store digest must fail, not answer null.
        handle.write("<?php return ['db' => ['connection' => ['default' => ['host' => '127.0.0.1:9', 'dbname' => 'magento', "
                     "'username' => 'magento', 'password' => 'x']]]];\n")
    assert shutil.which('php'), 'php (with pdo_sqlite) is needed: scripts/bootstrap.sh installs it'
    # The same rows before and after, only a value differs: the digest must see values, not only row counts.
    config = [{'name': 'set one config value to %d' % value, 'commerceops.magento.magento_config': dict(
        store.connection, path='oauth/cleanup/cleanup_probability', value=value)} for value in (41, 42)]
    tasks = [config[0]] + digest_tasks('first', root, dsn) + digest_tasks('again', root, dsn) + [config[1]]
    tasks += digest_tasks('changed', root, dsn)
    tasks.append({'name': 'a store whose database cannot be read', 'register': 'unreadable', 'ignore_errors': True,
                  'magento_ci_state': {'magento_root': not_a_store, 'php_executable': shutil.which('php')}})
    tasks.append({'name': 'digests', 'ansible.builtin.assert': {'that': [
        "first_emulator.digest is string and first_emulator.digest | length == 64",
        "first_real.digest is string and first_real.digest | length == 64",
        "first_real.rows.integration is defined and first_real.rows.core_config_data > 0",
        "first_emulator.digest == again_emulator.digest and first_real.digest == again_real.digest",
        "changed_emulator.digest != again_emulator.digest",
        "changed_real.digest != again_real.digest and changed_real.rows == again_real.rows",
        "unreadable is failed and unreadable.digest is not defined",
        "'Could not read the store database' in unreadable.msg",
    ]}})
    rc, output = store.playbook([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}], name='ci-state')
    assert rc == 0, output[-4000:]
