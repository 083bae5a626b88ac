# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module_items filter: the role's integration items split into each module's items."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.commerceops.magento.plugins.filter.module_items import FilterModule, module_items
from ansible_collections.commerceops.magento.plugins.module_utils._items import ITEM_OPTIONS

ROLE_SPEC = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..',
                         'roles', 'integration_onboarding', 'meta', 'argument_specs.yml')

ERP = {'name': 'ERP Sync', 'email': 'erp@example.com', 'callback_url': None, 'resource_access': 'custom',
       'resources': ['Magento_Sales::sales'], 'flow': 'direct', 'rotate': True, 'max_token_age': '90d',
       'wait_timeout': 30}


def test_each_module_gets_only_its_own_options_and_no_null():
    assert module_items([ERP], 'magento_integration') == [
        {'name': 'ERP Sync', 'email': 'erp@example.com', 'resource_access': 'custom',
         'resources': ['Magento_Sales::sales']}]
    assert module_items([ERP], 'magento_integration_auth') == [
        {'name': 'ERP Sync', 'flow': 'direct', 'rotate': True, 'max_token_age': '90d', 'wait_timeout': 30}]


def test_removed_integrations_are_not_authorized_and_order_is_kept():
    items = [{'name': 'B', 'state': 'absent'}, {'name': 'C', 'state': 'present'}, {'name': 'A'}]
    assert module_items(items, 'magento_integration') == items
    assert module_items(items, 'magento_integration_auth') == [{'name': 'C'}, {'name': 'A'}]


def test_an_alias_reaches_its_module():
    assert module_items([{'name': 'A', 'endpoint': 'https://erp.example/cb'}], 'magento_integration') == [
        {'name': 'A', 'endpoint': 'https://erp.example/cb'}]


@pytest.mark.parametrize('items, module, message', [
    ([{'name': 'A'}], 'magento_cache', 'module must be one of'),
    ({'name': 'A'}, 'magento_integration', 'expects a list'),
    ([{'email': 'a@example.com'}], 'magento_integration', 'each a dictionary with a name'),
])
def test_bad_input_is_refused(items, module, message):
    with pytest.raises(AnsibleFilterError, match=message):
        module_items(items, module)


def test_every_item_option_of_the_role_reaches_a_module():
    """A role item option no module takes would be dropped silently by the filter."""
    with open(ROLE_SPEC) as handle:
        spec = yaml.safe_load(handle)
    options = spec['argument_specs']['main']['options']['integration_onboarding_integrations']['options']
    taken = set().union(*ITEM_OPTIONS.values())
    assert set(options) - taken == set()
    # and each is documented with the module's type
    for name, role_option in options.items():
        module_specs = [specs[name] for specs in ITEM_OPTIONS.values() if name in specs]
        assert all(role_option.get('type', 'str') == module_spec['type'] for module_spec in module_specs), name


def test_the_filter_is_registered():
    assert FilterModule().filters()['module_items'] is module_items
