# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Magento's cache types: status through the bridge, changes through bin/magento. Internal to this collection."""

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.module_utils._diff import build_diff, changed_keys
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoInputError
from ansible_collections.commerceops.magento.plugins.module_utils._plan import plan

# bin/magento command and what it does, per state (SPEC §9.3).
COMMANDS = {'cleaned': 'cache:clean', 'flushed': 'cache:flush', 'enabled': 'cache:enable',
            'disabled': 'cache:disable', 'refreshed': 'cache:clean'}
# What a state wants of each type; a type that already has it needs nothing.
STATE_FIELDS = {'enabled': {'enabled': True}, 'disabled': {'enabled': False}, 'refreshed': {'invalidated': False}}
# Actions rather than states: they run on every type asked for, every time.
ALWAYS_RUN = ('cleaned', 'flushed')


class Caches(object):
    def __init__(self, transport):
        self.transport = transport

    def status(self):
        """[{id, label, enabled, invalidated}] in Magento's cache-config order."""
        return self.transport.bridge([{'action': 'cache.status'}])[0]['types']

    @staticmethod
    def check_types(requested, known):
        ids = [cache_type['id'] for cache_type in known]
        unknown = [name for name in requested if name not in ids]
        if unknown:
            raise MagentoInputError('types: unknown cache type%s %s. This store has: %s.' % (
                's' if len(unknown) > 1 else '', ', '.join(repr(u) for u in unknown), ', '.join(ids)))
        # Magento's order, duplicates removed, as bin/magento prints them.
        return [cache_id for cache_id in ids if cache_id in requested]

    @staticmethod
    def plan(state, requested, known):
        """The engine's steps for the requested types (every type when none), in Magento's order: cleaned and
        flushed act on each; the other states only on the types not yet so."""
        wanted = STATE_FIELDS.get(state, {})

        def action(cache_type, fields):
            return state if state in ALWAYS_RUN or changed_keys(cache_type, fields) else None
        return plan(((cache_type['id'], cache_type, wanted) for cache_type in known
                     if not requested or cache_type['id'] in requested), action)

    def run(self, state, types, all_types=False):
        """The bin/magento command of ``state`` on ``types`` (``all_types``: on every type, as Magento's "all")."""
        args = [COMMANDS[state]] + ([] if all_types else list(types))
        what = 'all cache types' if all_types else 'cache types %s' % ', '.join(types)
        self.transport.magento(args, attempted='Running bin/magento %s on %s' % (COMMANDS[state], what))

    def writer(self, state, all_types=False):
        """The engine's writer: ``run`` on the steps' types."""
        return lambda steps: self.run(state, [step['key'] for step in steps], all_types)


def cache_diff(state, types):
    """The diff of a run acting on ``types``: their state before and after (the types show on both sides: they are
    what changes state)."""
    if not types:
        return {'before': {}, 'after': {}}
    before = 'enabled' if state == 'disabled' else 'disabled' if state == 'enabled' else 'as is'
    return build_diff({'cache_types': types, 'state': before}, {'cache_types': types, 'state': state},
                      keys=('cache_types', 'state'))
