# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials files: their content, their names, and an atomic private write. Internal to this collection.

Used on the managed node (magento_integration_auth's credentials_file) and on the controller (the
magento_credentials_files action plugin), so a credentials file looks and is written the same way everywhere.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

CREDENTIAL_KEYS = ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret')
FILE_MODE = 0o600
TEMP_SUFFIX = '.tmp'
# tempfile.mkstemp's random part: 8 characters of this alphabet
_TEMP_RANDOM = r'[a-z0-9_]{8}'
_UNSAFE = re.compile(r'[^A-Za-z0-9_.-]')


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


def stale_temp_files(path):
    """Temporary files a killed write of ``path`` left beside it (the only place a write puts a secret)."""
    directory = os.path.dirname(os.path.abspath(path))
    pattern = re.compile('^%s%s%s$' % (re.escape(temp_prefix(path)), _TEMP_RANDOM, re.escape(TEMP_SUFFIX)))
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(os.path.join(directory, name) for name in names if pattern.match(name))


def write_atomic(path, data, mode=FILE_MODE):
    """Write ``data`` (bytes) to ``path``: a ``mode`` temporary file in the same directory, then a rename.

    A reader sees the old file or the new one, never a part. A run killed before the rename leaves only that
    temporary file, private and beside the target; stale_temp_files() finds it for the next run to remove.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=TEMP_SUFFIX, dir=directory)  # created 0600
    try:
        if mode != FILE_MODE:
            os.fchmod(handle, mode)
        with os.fdopen(handle, 'wb') as stream:
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
