# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials files: their content, their names, and an atomic private write. Internal to this collection.

Used on the managed node (magento_integration_auth's credentials_file) and on the controller (the
magento_credentials_files action plugin), so a credentials file looks and is written the same way everywhere.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import tempfile
import time

CREDENTIAL_KEYS = ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret')
TEMP_SUFFIX = '.tmp'
# tempfile.mkstemp's random part: 8 characters of this alphabet
_TEMP_RANDOM = r'[a-z0-9_]{8}'
_UNSAFE = re.compile(r'[^A-Za-z0-9_.-]')
# A temporary file younger than this is never taken for a killed write's (it may not be locked yet).
STALE_AFTER = 2.0


def document(name, credentials):
    """What a credentials file holds: the four credentials (None when unknown) and the integration's name."""
    content = dict((key, (credentials or {}).get(key)) for key in CREDENTIAL_KEYS)
    content['name'] = name
    return content


def render(content):
    return (json.dumps(content, indent=2, sort_keys=True) + '\n').encode('utf-8')


def file_name(name):
    """``<name>.json`` with every character outside ``A-Za-z0-9_.-`` replaced by ``_``."""
    return _UNSAFE.sub('_', name) + '.json'


def temp_prefix(path):
    return '.%s.' % os.path.basename(path)


def stale_temp_files(path, remove=False):
    """Temporary files a killed write of ``path`` left beside it (the only place a write puts a secret); with
    ``remove``, they are deleted.

    A live write holds a lock on its temporary file until the rename (another run may be writing the same file right
    now); the kernel drops the lock of a killed process, so an unlocked file of that name is a dead write's.
    """
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile('^%s%s%s$' % (re.escape(temp_prefix(path)), _TEMP_RANDOM, re.escape(TEMP_SUFFIX)))
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    stale = []
    for name in names:
        if pattern.match(name) and _is_dead_write(os.path.join(directory, name), remove):
            stale.append(os.path.join(directory, name))
    return stale


def _is_dead_write(temp, remove):
    try:
        fd = os.open(temp, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
    except OSError:
        return False  # renamed or removed meanwhile
    try:
        if time.time() - os.fstat(fd).st_mtime < STALE_AFTER:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError) as error:
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False  # a live write
            raise
        if remove:
            os.unlink(temp)
        return True
    finally:
        os.close(fd)


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path``: a 0600 temporary file in the same directory, then a rename.

    A reader sees the old file or the new one, never a part. A run killed before the rename leaves only that
    temporary file, private and beside the target; stale_temp_files() finds it for the next run to remove.
    Two writes of the same file at once are safe: the last rename wins, and neither removes the other's file.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=TEMP_SUFFIX, dir=directory)  # created 0600
    try:
        with os.fdopen(handle, 'wb') as stream:
            # Held until the file is closed, after the rename: tells stale_temp_files() this write is alive.
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
            os.replace(temp, path)
    except BaseException:
        # BaseException: also a KeyboardInterrupt (Ansible's worker gets one on Ctrl-C) removes the partial file.
        if os.path.lexists(temp):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (a crash right after it must not bring the old file back)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
