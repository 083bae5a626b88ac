#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_webapi_security
short_description: Switch Magento's "Allow Anonymous Guest Access" Web API setting
version_added: 0.1.0
description:
  - The setting of B(Stores > Configuration > Services > Magento Web API > Web API Security),
    C(webapi/webapisecurity/allow_insecure), at default scope. Magento reads it nowhere else.
  - When it is on, Magento opens about thirty C(GET) routes of the CMS, catalog and store APIs to anonymous callers.
    Examples are C(/V1/products), C(/V1/categories), C(/V1/cmsPage/:pageId) and C(/V1/store/storeConfigs).
    Switching it on emits a warning that names them.
  - Saved with C(bin/magento config:set), so Magento's own backend model and plugins run.
  - On Magento the change takes effect only when the C(config_webservice) cache type is cleaned. Cleaning C(config) is
    not enough. With O(refresh_cache=true) the module cleans C(config) and C(config_webservice) after a change.
  - With O(refresh_cache=true) and no change, it still cleans them when Magento marks C(config_webservice) invalidated,
    as an earlier run that saved the setting but failed or was stopped before cleaning leaves it. Otherwise the
    setting this module reports would not be in effect.
author:
  - commerceops.magento contributors (@commerceops)
extends_documentation_fragment:
  - commerceops.magento.connection
  - commerceops.magento.attributes.CHECK_MODE_EXACT
  - commerceops.magento.attributes.ACTION_GROUP
options:
  allow_anonymous_guest_access:
    description: Whether anonymous callers may use the CMS, catalog and store C(GET) routes. Magento's default is V(false).
    type: bool
    required: true
  refresh_cache:
    description:
      - After a change, clean the cache types that make it take effect. Without it, the change waits for the next cache clean.
      - Also cleans them without a change while Magento marks C(config_webservice) invalidated.
    type: bool
    default: true
seealso:
  - module: commerceops.magento.magento_config
'''

EXAMPLES = r'''
- name: Keep the Web API closed to anonymous callers
  commerceops.magento.magento_webapi_security:
    magento_root: /var/www/magento
    allow_anonymous_guest_access: false

- name: Open the catalog routes to a headless storefront, cache refresh left to a handler
  commerceops.magento.magento_webapi_security:
    magento_root: /var/www/magento
    allow_anonymous_guest_access: true
    refresh_cache: false
  notify: Refresh invalidated caches
'''

RETURN = r'''
allow_anonymous_guest_access:
  description: The setting afterwards (as it would be, in check mode).
  returned: always
  type: bool
cleaned_cache_types:
  description:
    - The cache types cleaned so that the setting takes effect (would be cleaned, in check mode).
    - Empty without a change, unless C(config_webservice) was still invalidated.
  returned: always
  type: list
  elements: str
  sample: [config, config_webservice]
'''

from ansible_collections.commerceops.magento.plugins.module_utils._cache import Caches
from ansible_collections.commerceops.magento.plugins.module_utils._config import (
    GUEST_ACCESS_PATH as PATH, ConfigWriter, normalise_setting, plan_settings,
)
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule
from ansible_collections.commerceops.magento.plugins.module_utils._plan import apply, pending

# config:set marks config and config_webservice invalidated; only the latter makes routes change (SPEC §7).
CACHE_TYPES = ['config', 'config_webservice']
OPENED = ('Allow Anonymous Guest Access is on: anonymous callers can now read products, categories, attributes, '
          'stock status, CMS pages and blocks, and store configuration through about thirty GET routes of the REST '
          'API (/V1/products, /V1/categories, /V1/cmsPage/:pageId, /V1/store/storeConfigs, ...) without a token.')


def main():
    module = MagentoModule(
        argument_spec=MagentoModule.generate_argspec(
            allow_anonymous_guest_access=dict(type='bool', required=True),
            refresh_cache=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    wanted = module.params['allow_anonymous_guest_access']
    setting = normalise_setting({'path': PATH, 'value': wanted})
    writer = ConfigWriter(module.transport)
    refresh = module.params['refresh_cache']
    try:
        current, cache_types = writer.read([setting], with_cache_status=refresh)
        # No stored row means Magento's config.xml default, 0.
        if not current[0].get('exists') and not current[0].get('locked') and not wanted:
            current[0] = dict(current[0], exists=True, value='0')
        steps = plan_settings([setting], current)
        saved = bool(pending(steps))
        # A value an earlier run saved but did not get to clean the caches for (it failed or was stopped) is not in
        # effect until config_webservice is cleaned: clean what is still invalidated.
        invalidated = [cache_type['id'] for cache_type in cache_types or [] if cache_type['invalidated']]
        stale = [cache_type for cache_type in CACHE_TYPES if cache_type in invalidated] \
            if 'config_webservice' in invalidated else []
        cleaned = (CACHE_TYPES if saved else stale) if refresh else []
        changed = saved or bool(cleaned)
        apply(steps, writer.write, module.check_mode)
        if cleaned and not module.check_mode:
            # Every type of ``cleaned``, whatever its status read before: the save has just invalidated them.
            Caches(module.transport).run('cleaned', cleaned)
    except MagentoError as error:
        module.fail_from(error)
    if wanted and saved:
        module.warn(OPENED)
    result = dict(changed=changed, allow_anonymous_guest_access=wanted, cleaned_cache_types=cleaned)
    if module._diff:
        result['diff'] = {'before': {'allow_anonymous_guest_access': not wanted},
                          'after': {'allow_anonymous_guest_access': wanted}} if saved else {'before': {}, 'after': {}}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
