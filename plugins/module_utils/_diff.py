# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Diffs of only the changed keys, and masking of secrets. Internal to this collection."""

from __future__ import annotations

MASK = '********'


def mask_secrets(data, secret_keys):
    """Return a copy of ``data`` with the values of ``secret_keys`` masked, at any depth."""
    if isinstance(data, dict):
        return dict(
            (key, MASK if key in secret_keys and value not in (None, '') else mask_secrets(value, secret_keys))
            for key, value in data.items()
        )
    if isinstance(data, list):
        return [mask_secrets(item, secret_keys) for item in data]
    return data


def changed_keys(before, after):
    """Keys of ``after`` whose value differs from ``before`` (lists compared as given)."""
    return [key for key in after if before.get(key) != after[key]]


def build_diff(before, after, secret_keys=(), keys=None):
    """Ansible diff of an object: only the keys that change, secrets masked.

    ``before`` None means the object is created, ``after`` None that it is removed. ``keys`` are the keys that change
    when the caller's plan knows them better than a comparison of values (a value locked as it is stays the same
    value; the cache types acted on are the subject of a change of state).
    """
    if before is None:
        return {'before': {'state': 'absent'}, 'after': mask_secrets(dict(after, state='present'), secret_keys)}
    if after is None:
        return {'before': mask_secrets(dict(before, state='present'), secret_keys), 'after': {'state': 'absent'}}
    if keys is None:
        keys = changed_keys(before, after)
    return {
        'before': mask_secrets(dict((key, before.get(key)) for key in keys), secret_keys),
        'after': mask_secrets(dict((key, after[key]) for key in keys), secret_keys),
    }


def keyed_diff(named_diffs):
    """One Ansible diff for several objects: ``(key, diff)`` pairs, only those that change, keyed by ``key``."""
    before, after = {}, {}
    for key, diff in named_diffs:
        if diff['before'] or diff['after']:
            before[key] = diff['before']
            after[key] = diff['after']
    return {'before': before, 'after': after}
