# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""System users for the tests that check who owns Magento's files (run as root; created once, kept)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile

# The owner of the emulated stores in these tests: a user that is neither root nor the one running the tests.
STORE_OWNER = 'cmb-magento'
# A Python every user may run (the test venv's may live under /root): the emulator needs only the standard library.
SYSTEM_PYTHON = '/usr/bin/python3'


def why_not():
    """Why a store owned by another user cannot be set up here, or None."""
    if os.geteuid() != 0:
        return 'needs root (to create a user and run as it)'
    if shutil.which('useradd') is None:
        return 'useradd is not installed'
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return '%s is missing' % SYSTEM_PYTHON
    return None


def ensure_user(name=STORE_OWNER, home=None):
    """The passwd entry of ``name``, created (no login shell) when missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    command = ['useradd', '--system', '--user-group', '--shell', '/usr/sbin/nologin']
    command += ['--create-home', '--home-dir', home] if home else ['--no-create-home']
    subprocess.run(command + [name], check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return pwd.getpwnam(name)  # another test run may have created it meanwhile


def public_dir(prefix):
    """A new directory every user can reach (pytest's own tmp directories are private to root)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def chown_tree(path, user):
    for directory, dirs, names in os.walk(path):
        os.lchown(directory, user.pw_uid, user.pw_gid)
        for name in names:
            os.lchown(os.path.join(directory, name), user.pw_uid, user.pw_gid)


def foreign_files(path, user):
    """Paths under ``path`` not owned by ``user``, with their owner."""
    found = []
    for directory, dirs, names in os.walk(path):
        for name in [''] + dirs + names:
            full = os.path.join(directory, name) if name else directory
            uid = os.lstat(full).st_uid
            if uid != user.pw_uid:
                try:
                    owner = pwd.getpwuid(uid).pw_name
                except KeyError:
                    owner = str(uid)
                found.append('%s (%s)' % (os.path.relpath(full, path), owner))
    return sorted(set(found))
