#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only: a digest of an emulated store's whole state, to prove that a task wrote nothing."""

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_ci_state
short_description: Test-only digest of the Magento emulator's state
description: Hashes the emulator's database rows, app/etc files and cache folder. Not shipped for use.
options:
  magento_root:
    description: The emulator's root.
    type: path
    required: true
author: commerceops.magento contributors
'''

import hashlib
import os
import sqlite3

from ansible.module_utils.basic import AnsibleModule

# What every Magento bootstrap writes by itself, whatever the task (extensions/emulator/magento_emulator/files.py):
# a read re-creates it after a cache clean, as on a real store, so it is no write of the task's.
BOOTSTRAP_WRITES = ('/var/cache/config/global_primary_adminhtml.json',)


def main():
    module = AnsibleModule(argument_spec=dict(magento_root=dict(type='path', required=True)), supports_check_mode=True)
    root = module.params['magento_root']
    database = os.path.join(root, 'var', 'magento.sqlite')
    if not os.path.exists(database):
        module.exit_json(changed=False, emulator=False, digest=None, rows={})
    digest = hashlib.sha256()
    rows = {}
    connection = sqlite3.connect('file:%s?mode=ro' % database, uri=True)
    try:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for table in tables:
            content = sorted(repr(tuple(row)) for row in connection.execute('SELECT * FROM "%s"' % table))
            rows[table] = len(content)
            digest.update(('%s\n%s\n' % (table, '\n'.join(content))).encode('utf-8'))
    finally:
        connection.close()
    for folder in ('app/etc', 'var/cache'):
        base = os.path.join(root, folder)
        for directory, _dirs, files in sorted(os.walk(base)):
            for name in sorted(files):
                path = os.path.join(directory, name)
                if path[len(root):] in BOOTSTRAP_WRITES:
                    continue
                with open(path, 'rb') as handle:
                    digest.update(path[len(root):].encode('utf-8') + b'\0' + handle.read())
    module.exit_json(changed=False, emulator=True, digest=digest.hexdigest(), rows=rows)


if __name__ == '__main__':
    main()
