# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Magento's cache types: status through the bridge, changes through bin/magento. Internal to this collection."""

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoInputError

# bin/magento command and what it does, per state (SPEC §9.3).
COMMANDS = {'cleaned': 'cache:clean', 'flushed': 'cache:flush', 'enabled': 'cache:enable',
            'disabled': 'cache:disable', 'refreshed': 'cache:clean'}


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
    def targets(state, requested, known):
        """The types a state would act on; [] means nothing to do."""
        chosen = [cache_type for cache_type in known if not requested or cache_type['id'] in requested]
        if state in ('cleaned', 'flushed'):
            return [cache_type['id'] for cache_type in chosen]
        if state == 'enabled':
            return [cache_type['id'] for cache_type in chosen if not cache_type['enabled']]
        if state == 'disabled':
            return [cache_type['id'] for cache_type in chosen if cache_type['enabled']]
        return [cache_type['id'] for cache_type in chosen if cache_type['invalidated']]

    def apply(self, state, types, all_types=False):
        """Run the bin/magento command of ``state`` on ``types`` (no ids = every type)."""
        args = [COMMANDS[state]] + ([] if all_types else list(types))
        what = 'all cache types' if all_types else 'cache types %s' % ', '.join(types)
        self.transport.magento(args, attempted='Running bin/magento %s on %s' % (COMMANDS[state], what))
        return list(types)
