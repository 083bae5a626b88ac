# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ensure-present/absent engine of this collection. Internal to this collection.

Modules describe an object as a flat dict of documented fields; the engine
compares it with what Magento has, writes only what differs (never in check
mode) and returns ``changed``, a diff of only the changed keys, and the object
as it is (or would be) afterwards.

``plan`` decides without writing; ``ensure`` writes one object, ``ensure_many``
writes the objects of several plans with one call (one PHP process).
"""

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.module_utils._diff import build_diff, changed_keys

NO_DIFF = {'before': {}, 'after': {}}


def plan(state, current, desired, secret_keys=()):
    """What bringing one object to ``state`` takes, without writing.

    Returns ``action`` (None, ``create``, ``update`` or ``delete``), ``changed``, ``diff``, ``object`` (the
    object as it would be afterwards), ``changes`` (the fields an update sets), ``current`` and ``desired``.
    """
    step = dict(action=None, changed=False, diff=dict(NO_DIFF), object=current, changes={},
                current=current, desired=desired)
    if state == 'absent':
        if current is not None:
            step.update(action='delete', changed=True, diff=build_diff(current, None, secret_keys), object=None)
        else:
            step['object'] = None
        return step
    if current is None:
        step.update(action='create', changed=True, diff=build_diff(None, desired, secret_keys), object=desired)
        return step
    keys = changed_keys(current, desired)
    if keys:
        changes = dict((key, desired[key]) for key in keys)
        step.update(action='update', changed=True, diff=build_diff(current, desired, secret_keys),
                    object=dict(current, **changes), changes=changes)
    return step


def ensure(state, current, desired, create, update, delete, check_mode, secret_keys=()):
    """Bring one object to ``state``.

    ``current``/``desired`` are views of the object (``None`` when absent / not
    wanted). ``create(desired)``, ``update(current, changed_fields)`` and
    ``delete(current)`` perform the writes and return the object afterwards.
    """
    step = plan(state, current, desired, secret_keys)
    if step['action'] and not check_mode:
        if step['action'] == 'delete':
            delete(current)
        elif step['action'] == 'create':
            step['object'] = create(desired)
        else:
            step['object'] = update(current, step['changes'])
    return dict(changed=step['changed'], diff=step['diff'], object=step['object'])


def ensure_many(steps, write_all, check_mode):
    """Carry out the writes of several ``plan`` results with one call.

    ``write_all(pending)`` gets the plans that need a write, in order, performs them all at once and returns
    the objects afterwards (None for a deleted one), in the same order. Check mode calls nothing. Returns the
    plans, with ``object`` as it is afterwards.
    """
    pending = [step for step in steps if step['action']]
    if pending and not check_mode:
        for step, after in zip(pending, write_all(pending)):
            step['object'] = None if step['action'] == 'delete' else after
    return steps
