#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_config
short_description: Save Magento configuration values, like the admin's Save Config
version_added: 0.1.0
description:
  - Sets or removes values of B(Stores > Configuration) at default, website or store view scope.
  - Reads the stored values from Magento's database through its own services. It does not parse C(bin/magento config:show),
    which reports a stored C(0) or empty value as missing on some versions.
  - Writes with C(bin/magento config:set), Magento's own path, so backend models, validation and encryption run.
  - Values locked in C(app/etc/env.php) or C(app/etc/config.php) are detected. A change to one fails before anything is
    written, unless O(lock) asks to overwrite the lock.
  - Several values in one task (O(settings)) cost one read. Every value is checked before the first write.
  - A field with a drop-down in the admin (a source model, for example Yes/No) takes only one of its options (for a
    multiple-choice field, a comma-separated list of them). Another value fails before any write, listing the options,
    although C(bin/magento config:set) would save it.
  - The module does not clean caches. It returns the cache types Magento now marks invalidated; refresh them once,
    for example with M(commerceops.magento.magento_cache) and O(commerceops.magento.magento_cache#module:state=refreshed) in a handler.
  - Values of encrypted or sensitive fields (for example payment credentials) are masked in the result, the diff and the log.
author:
  - commerceops.magento contributors (@commerceops)
extends_documentation_fragment:
  - commerceops.magento.connection
  - commerceops.magento.attributes.CHECK_MODE_EXACT
  - commerceops.magento.attributes.ACTION_GROUP
options:
  path:
    description: The config path, C(section/group/field). Mutually exclusive with O(settings).
    type: str
  value:
    description:
      - The value to store. Booleans are stored as C(1)/C(0). An empty string stores an empty value.
      - Required with O(state=present).
    type: raw
  scope:
    description: V(default), V(website) or V(store) (store view).
    type: str
    choices: [default, website, websites, store, stores]
    default: default
  scope_code:
    description: The website or store view code (for example C(base), C(default)), for O(scope=website) or O(scope=store).
    type: str
  state:
    description: V(present) stores the value; V(absent) removes the value stored at that scope, so it is inherited again.
    type: str
    choices: [present, absent]
    default: present
  lock:
    description:
      - V(env) or V(config) store the value in C(app/etc/env.php) or C(app/etc/config.php) and lock the field in the admin,
        as C(config:set --lock-env) / C(--lock-config) do.
      - V(none) stores it in the database.
    type: str
    choices: [none, env, config]
    default: none
  settings:
    description: Several values at once; each item takes the options above.
    type: list
    elements: dict
    suboptions:
      path:
        description: The config path.
        type: str
        required: true
      value:
        description: The value.
        type: raw
      scope:
        description: The scope.
        type: str
        choices: [default, website, websites, store, stores]
        default: default
      scope_code:
        description: The website or store view code.
        type: str
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      lock:
        description: V(none), V(env) or V(config).
        type: str
        choices: [none, env, config]
        default: none
seealso:
  - module: commerceops.magento.magento_cache
  - module: commerceops.magento.magento_webapi_security
'''

EXAMPLES = r'''
- name: Let connectors that still send Bearer tokens use the integration's access token
  commerceops.magento.magento_config:
    magento_root: /var/www/magento
    path: oauth/consumer/enable_integration_as_bearer
    value: true
  notify: Refresh invalidated caches

- name: Several values in one read
  commerceops.magento.magento_config:
    magento_root: /var/www/magento
    settings:
      - path: oauth/consumer/expiration_period
        value: 600
      - path: general/locale/code
        scope: store
        scope_code: default
        value: en_GB
      - path: oauth/cleanup/cleanup_probability
        state: absent
  notify: Refresh invalidated caches

- name: Lock a value in app/etc/env.php
  commerceops.magento.magento_config:
    magento_root: /var/www/magento
    path: web/seo/use_rewrites
    value: 1
    lock: env
'''

RETURN = r'''
changes:
  description: What changed (or would change, in check mode). Sensitive values are masked.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The config path.
      type: str
    scope:
      description: V(default), V(websites) or V(stores), as Magento stores it.
      type: str
    scope_code:
      description: The website or store view code, empty for default.
      type: str
    action:
      description: V(set), V(lock) or V(delete).
      type: str
    before:
      description: The value before; V(null) when none was stored.
      type: str
    after:
      description: The value after; V(null) when removed.
      type: str
invalidated_cache_types:
  description:
    - The cache types Magento marks invalidated after the change, to refresh once. Empty when nothing changed.
    - This is the store's whole list, so it also holds types that an earlier change left invalidated and nobody refreshed.
    - In check mode, the types such a change invalidates (C(config), plus C(config_webservice) for
      C(webapi/webapisecurity/allow_insecure), the one path whose change Magento's Web API security plugin invalidates it for).
  returned: always
  type: list
  elements: str
  sample: [config]
'''

from ansible_collections.commerceops.magento.plugins.module_utils._config import (
    ConfigWriter, bearer_warning, change_report, config_diff, is_sensitive, normalise_setting, plan_settings,
    predicted_invalidation,
)
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule
from ansible_collections.commerceops.magento.plugins.module_utils._plan import apply, pending

SETTING_OPTIONS = dict(
    path=dict(type='str', required=True),
    value=dict(type='raw'),
    scope=dict(type='str', default='default', choices=['default', 'website', 'websites', 'store', 'stores']),
    scope_code=dict(type='str'),
    state=dict(type='str', default='present', choices=['present', 'absent']),
    lock=dict(type='str', default='none', choices=['none', 'env', 'config']),
)


def main():
    single = dict((name, dict(spec, required=False)) for name, spec in SETTING_OPTIONS.items())
    module = MagentoModule(
        argument_spec=MagentoModule.generate_argspec(
            settings=dict(type='list', elements='dict', options=SETTING_OPTIONS), **single),
        mutually_exclusive=[('path', 'settings')],
        required_one_of=[('path', 'settings')],
        supports_check_mode=True,
    )
    params = module.params
    raw_settings = params['settings'] or [dict((name, params[name]) for name in SETTING_OPTIONS)]
    try:
        settings = [normalise_setting(raw, where='settings[%d]' % index if params['settings'] else params['path'])
                    for index, raw in enumerate(raw_settings)]
        writer = ConfigWriter(module.transport)
        current, _cache = writer.read(settings)
        steps = plan_settings(settings, current)
        # Values of encrypted or sensitive fields are masked everywhere Ansible prints this task.
        module.no_log_values.update(step['desired']['value'] for step in steps
                                    if is_sensitive(step) and step['desired']['value'])
        warning = bearer_warning(steps)
        if warning:
            module.warn(warning)
        apply(steps, writer.write, module.check_mode)
        if pending(steps) and not module.check_mode:
            invalidated = writer.invalidated()
        else:
            invalidated = predicted_invalidation(steps)
    except MagentoError as error:
        module.fail_from(error)
    result = dict(changed=bool(pending(steps)), changes=change_report(steps), invalidated_cache_types=invalidated)
    if module._diff:
        result['diff'] = config_diff(steps)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
