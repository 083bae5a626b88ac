# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one plan-then-write engine of this collection. Internal to this collection.

Each concern (integrations, config values, cache types, authorizations) brings only its own parts: its reads (the
``current`` object), the ``desired`` state, ``decide(current, desired)`` (the action one object needs, None when it
needs none) and a writer. The engine does the rest, the same way for all::

    steps = plan(objects, decide)        # every check runs here, before anything is written
    apply(steps, write, check_mode)      # one write call for all the steps with an action; none in check mode
    diff = step_diff(step)               # only the changed keys, secrets masked (_diff.build_diff)

A step is a dict: ``key`` (what the object is called in results and diffs), ``current``, ``desired``, ``action``
and ``after`` (the object as the step leaves it: planned, then as the writer read it back).
"""

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.module_utils._diff import build_diff, changed_keys


def expected(current, desired, action):
    """The object as a step would leave it: gone when deleted, as it is without an action, else the desired fields
    over the current ones (``desired`` may name only the fields it sets)."""
    if action == 'delete':
        return None
    if action is None:
        return current
    return dict(current or {}, **desired)


def plan(objects, decide):
    """One step per ``(key, current, desired)`` of ``objects``, in their order, without writing.

    ``decide(current, desired)`` returns the action or None; it raises for what Magento would refuse, so that a
    refused object stops the run before any object is written.
    """
    steps = []
    for key, current, desired in objects:
        action = decide(current, desired)
        steps.append(dict(key=key, current=current, desired=desired, action=action,
                          after=expected(current, desired, action)))
    return steps


def ensure_state(current, desired):
    """The action of a present/absent object (``None`` current: not there; ``None`` desired: not wanted)."""
    if desired is None:
        return None if current is None else 'delete'
    if current is None:
        return 'create'
    return 'update' if changed_keys(current, desired) else None


def pending(steps):
    """The steps that need a write, in order."""
    return [step for step in steps if step['action']]


def apply(steps, write, check_mode):
    """Carry out the steps' actions with one ``write(pending_steps)`` call; check mode calls nothing.

    ``write`` returns the objects as they are afterwards, one per pending step and in their order (they replace the
    planned ``after``), or None when it reads nothing back. Returns ``steps``, in the order planned.
    """
    todo = pending(steps)
    if todo and not check_mode:
        written = write(todo)
        if written is not None:
            for step, after in zip(todo, written):
                step['after'] = None if step['action'] == 'delete' else after
    return steps


def step_diff(step, secret_keys=()):
    """The diff of one object's step: only the keys that change, ``secret_keys`` masked; empty without an action."""
    if not step['action']:
        return {'before': {}, 'after': {}}
    return build_diff(step['current'], None if step['action'] == 'delete' else step['desired'], secret_keys)
