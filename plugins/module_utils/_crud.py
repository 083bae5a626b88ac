# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ensure-present/absent engine of this collection. Internal to this collection.

Modules describe an object as a flat dict of documented fields; the engine
compares it with what Magento has, writes only what differs (never in check
mode) and returns ``changed``, a diff of only the changed keys, and the object
as it is (or would be) afterwards.
"""

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.module_utils._diff import build_diff, changed_keys


def ensure(state, current, desired, create, update, delete, check_mode, secret_keys=()):
    """Bring one object to ``state``.

    ``current``/``desired`` are views of the object (``None`` when absent / not
    wanted). ``create(desired)``, ``update(current, changed_fields)`` and
    ``delete(current)`` perform the writes and return the object afterwards.
    """
    if state == 'absent':
        if current is None:
            return dict(changed=False, diff={'before': {}, 'after': {}}, object=None)
        if not check_mode:
            delete(current)
        return dict(changed=True, diff=build_diff(current, None, secret_keys), object=None)

    if current is None:
        after = desired if check_mode else create(desired)
        return dict(changed=True, diff=build_diff(None, desired, secret_keys), object=after)

    keys = changed_keys(current, desired)
    if not keys:
        return dict(changed=False, diff={'before': {}, 'after': {}}, object=current)
    changes = dict((key, desired[key]) for key in keys)
    after = dict(current, **changes) if check_mode else update(current, changes)
    return dict(changed=True, diff=build_diff(current, desired, secret_keys), object=after)
