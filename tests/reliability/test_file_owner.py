# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A task run as root leaves no file in the Magento root owned by anyone but the owner of Magento's files.

Issue 10 item 2 (SPEC 15): a bootstrap writes generated code and cache entries with the owner of the PHP process,
and root-owned ones take the store down. The emulated store here belongs to a system user (created once, see
tests/field/hostusers.py), its server runs as that user, its generated/ was emptied as a deploy does, and every
module then runs as root (``become: true`` without ``become_user``, the common first try).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import EMULATOR, REPO, record

sys.path.insert(0, os.path.join(REPO, 'tests', 'field'))
import hostusers  # noqa: E402  pylint: disable=wrong-import-position

M = 'commerceops.magento.'
pytestmark = pytest.mark.skipif(hostusers.why_not() is not None, reason=str(hostusers.why_not()))


def as_user(user, command):
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          user=user.pw_uid, group=user.pw_gid, extra_groups=[], cwd='/',
                          env=dict(os.environ, HOME=user.pw_dir or '/'))


@pytest.fixture(scope='module')
def owned_store(store):
    """An emulated store whose files (and server) belong to the store owner, generated/ emptied."""
    user = hostusers.ensure_user()
    base = hostusers.public_dir('cmb-owned-store-')
    os.chown(base, user.pw_uid, user.pw_gid)
    root = os.path.join(base, 'magento')
    started = as_user(user, [hostusers.SYSTEM_PYTHON, EMULATOR, 'start', '--root', root, '--json'])
    assert started.returncode == 0, started.stdout
    info = json.loads(started.stdout)
    generated = os.path.join(root, 'generated')
    for name in os.listdir(generated):
        shutil.rmtree(os.path.join(generated, name))
    yield user, info
    as_user(user, [hostusers.SYSTEM_PYTHON, EMULATOR, 'stop', '--root', root])
    shutil.rmtree(base, ignore_errors=True)


def test_a_task_run_as_root_leaves_no_file_of_another_owner(store, owned_store):
    user, info = owned_store
    root = info['magento_root']
    assert hostusers.foreign_files(root, user) == [], 'the store was not set up owned by %s' % user.pw_name
    connection = dict(magento_root=root, php_executable=info['php_executable'], base_url=info['base_url'])
    tasks = [
        {'name': 'read', M + 'magento_integration_info': {'acl_resources': True}},
        {'name': 'create', M + 'magento_integration': {'name': 'owner-check', 'resource_access': 'all'}},
        {'name': 'authorize', M + 'magento_integration_auth': {'name': 'owner-check', 'flow': 'direct', 'verify': True},
         'no_log': True},
        {'name': 'config', M + 'magento_config': {'settings': [{'path': 'general/store_information/name', 'value': 'Owned'}]}},
        {'name': 'caches', M + 'magento_cache': {'state': 'refreshed'}},
    ]
    rc, output = store.playbook([{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks,
                                  'module_defaults': {'group/commerceops.magento.magento': connection}}], name='as-root')
    assert rc == 0, output[-4000:]
    generated = [name for directory, dirs, names in os.walk(os.path.join(root, 'generated')) for name in names]
    foreign = hostusers.foreign_files(root, user)
    record('file owner', tasks_run_as_root=len(tasks), generated_files_written=len(generated), files_not_of_the_owner=len(foreign))
    assert generated, 'PHP wrote no generated code: nothing was checked'
    assert foreign == [], 'files in the Magento root not owned by %s after tasks run as root:\n  %s' % (
        user.pw_name, '\n  '.join(foreign[:40]))
