# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: module_items
short_description: The items of an integration list that one module's integrations option takes
version_added: 1.0.0
author: commerceops.magento contributors
description:
  - Takes a list of integration items that carry the options of several modules (as the role
    C(integration_onboarding)'s C(integration_onboarding_integrations) does) and returns the items as the
    C(integrations) option of one module takes them, with only that module's item options and without the options
    whose value is null, so that the module applies its own default.
  - For M(commerceops.magento.magento_integration_auth), items with C(state=absent) are left out, since an
    integration that is removed has nothing to authorize.
  - The option names come from the modules' own argument specs, so a module's new item option reaches it without a
    change here.
options:
  _input:
    description: The integration items, each a dictionary with at least C(name).
    type: list
    elements: dict
    required: true
  module:
    description: The module the items are for.
    type: str
    required: true
    choices: [magento_integration, magento_integration_auth]
'''

EXAMPLES = r'''
- name: Create the integrations, then authorize those that stay
  vars:
    integrations:
      - {name: ERP Sync, email: erp@example.com, resource_access: all, flow: direct, rotate: false}
      - {name: Old Feed, state: absent}
  block:
    - name: Create or remove the integrations
      commerceops.magento.magento_integration:
        magento_root: /var/www/magento
        integrations: "{{ integrations | commerceops.magento.module_items('magento_integration') }}"

    - name: Authorize them
      commerceops.magento.magento_integration_auth:
        magento_root: /var/www/magento
        # [{name: ERP Sync, flow: direct, rotate: false}]
        integrations: "{{ integrations | commerceops.magento.module_items('magento_integration_auth') }}"
'''

RETURN = r'''
_value:
  description: The items, in the order given, each with only the module's item options that are not null.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence

from ansible_collections.commerceops.magento.plugins.module_utils._items import ITEM_OPTIONS


def module_items(items, module):
    if module not in ITEM_OPTIONS:
        raise AnsibleFilterError('module_items: module must be one of %s, not %r.' % (', '.join(sorted(ITEM_OPTIONS)), module))
    if not is_sequence(items) or not all(isinstance(item, dict) and item.get('name') for item in items):
        raise AnsibleFilterError('module_items: expects a list of integration items, each a dictionary with a name.')
    options = ITEM_OPTIONS[module]
    names = set(options).union(*(spec.get('aliases', ()) for spec in options.values()))
    if module == 'magento_integration_auth':
        items = [item for item in items if item.get('state') != 'absent']
    return [dict((key, value) for key, value in item.items() if key in names and value is not None) for item in items]


class FilterModule(object):
    def filters(self):
        return {'module_items': module_items}
