#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_cache
short_description: Refresh, clean, flush, enable or disable Magento cache types
version_added: 0.1.0
description:
  - B(System > Cache Management) from Ansible, through C(bin/magento cache:*).
  - O(state=refreshed) cleans only the types Magento marks invalidated, like the admin's B(Refresh) after its
    "One or more of the Cache Types are invalidated" notice. It reports no change when nothing is invalidated, so it
    fits a provisioning run that must stay idempotent.
  - O(state=cleaned) and O(state=flushed) are actions. They always run and always report a change, so use them in handlers.
  - Unknown cache types fail before anything runs, listing the store's types.
author:
  - commerceops.magento contributors (@commerceops)
extends_documentation_fragment:
  - commerceops.magento.connection
  - commerceops.magento.attributes.CHECK_MODE_EXACT
  - commerceops.magento.attributes.ACTION_GROUP
options:
  types:
    description:
      - Cache type ids, for example C(config), C(config_webservice), C(full_page). Every type when empty.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(refreshed) cleans the invalidated types among O(types).
      - V(cleaned) runs C(cache:clean); V(flushed) runs C(cache:flush), which empties the whole cache storage of those types.
      - V(enabled) and V(disabled) switch the types that are not yet so.
    type: str
    choices: [refreshed, cleaned, flushed, enabled, disabled]
    default: refreshed
seealso:
  - module: commerceops.magento.magento_config
'''

EXAMPLES = r'''
- name: Refresh what config saves invalidated (no change when nothing is)
  commerceops.magento.magento_cache:
    magento_root: /var/www/magento
    state: refreshed

- name: Clean the Web API configuration cache
  commerceops.magento.magento_cache:
    magento_root: /var/www/magento
    types: [config_webservice]
    state: cleaned

- name: Switch the full page cache off on a staging store
  commerceops.magento.magento_cache:
    magento_root: /var/www/magento
    types: [full_page]
    state: disabled
'''

RETURN = r'''
cache_types:
  description: The cache types acted on (or that would be, in check mode), in Magento's order.
  returned: always
  type: list
  elements: str
  sample: [config, config_webservice]
'''

from ansible_collections.commerceops.magento.plugins.module_utils._cache import Caches, cache_diff
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule
from ansible_collections.commerceops.magento.plugins.module_utils._plan import apply, pending


def main():
    module = MagentoModule(
        argument_spec=MagentoModule.generate_argspec(
            types=dict(type='list', elements='str', default=[]),
            state=dict(type='str', default='refreshed', choices=['refreshed', 'cleaned', 'flushed', 'enabled', 'disabled']),
        ),
        supports_check_mode=True,
    )
    state = module.params['state']
    caches = Caches(module.transport)
    try:
        known = caches.status()
        requested = caches.check_types(module.params['types'], known)
        steps = caches.plan(state, requested, known)
        # With no types asked, clean/flush run without arguments, as Magento's "all" (SPEC §9.3).
        apply(steps, caches.writer(state, all_types=not requested and state in ('cleaned', 'flushed')),
              module.check_mode)
    except MagentoError as error:
        module.fail_from(error)
    targets = [step['key'] for step in pending(steps)]
    result = dict(changed=bool(targets), cache_types=targets)
    if module._diff:
        result['diff'] = cache_diff(state, targets)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
