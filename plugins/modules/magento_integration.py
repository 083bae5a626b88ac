#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_integration
short_description: Create, update or remove a Magento integration and its API resource access
version_added: 0.1.0
description:
  - Manages an integration as the admin's B(System > Extensions > Integrations) page does it
    (name, contact e-mail, callback URL, identity link URL, and B(API) resource access B(All) or B(Custom)),
    through Magento's own integration service on the Magento host.
  - Only the fields the task gives are compared and changed; an update always sends the full resource set,
    so Magento never drops the integration's permissions by accident.
  - Creating an integration does not activate it; use M(commerceops.magento.magento_integration_auth) for that.
  - "How Magento stores Custom access: it writes one allow or deny rule for every resource of its ACL tree and
    checks each resource on its own. Selecting a parent does B(not) grant its children, nor does a child grant
    its parent; list every resource the integration needs. Magento adds C(Magento_Backend::admin) to every
    non-empty Custom list, and the module reports it among O(resources) as Magento reads them back.
    The admin's tree also ticks the ancestors of what is ticked; list them too if the admin should show the same tree."
author:
  - commerceops.magento contributors (@commerceops)
extends_documentation_fragment:
  - commerceops.magento.connection
  - commerceops.magento.attributes.CHECK_MODE_EXACT
  - commerceops.magento.attributes.ACTION_GROUP
options:
  name:
    description:
      - The integration's name, its identity. Magento compares names case-insensitively.
      - Exactly one of O(name) and O(integrations) is required.
    type: str
  integrations:
    description:
      - Several integrations in one task, instead of O(name) and its options. This costs one PHP process to read
        them all (with the ACL tree once) and, when something changes, one more that writes every create, update
        and removal, whatever the number of integrations.
      - Every item is checked before anything is written; a bad item fails the task, naming the item, and nothing is
        written. Two items naming the same integration (names compared case-insensitively) fail the task.
      - Each item takes the options of a single integration; an item without O(integrations[].state) uses O(state).
      - Cannot be combined with O(name), O(email), O(callback_url), O(identity_link_url), O(resource_access) or O(resources).
    type: list
    elements: dict
    suboptions:
      name:
        description: The integration's name, as O(name).
        type: str
        required: true
      email:
        description: As O(email).
        type: str
      callback_url:
        description: As O(callback_url).
        type: str
        aliases: [endpoint]
      identity_link_url:
        description: As O(identity_link_url).
        type: str
      resource_access:
        description: As O(resource_access).
        type: str
        choices: [all, custom]
      resources:
        description: As O(resources).
        type: list
        elements: str
      state:
        description: As O(state); defaults to O(state).
        type: str
        choices: [present, absent]
  email:
    description:
      - Contact e-mail. An empty string clears it. Left as it is when not given.
    type: str
  callback_url:
    description:
      - The B(Callback URL) where Magento posts the OAuth credentials on activation.
      - An empty string clears it. Plain C(http://) works but Magento warns that it is insecure; so does this module.
    type: str
    aliases: [endpoint]
  identity_link_url:
    description:
      - The B(Identity link URL) the admin opens in a pop-up on activation.
      - With O(callback_url), activation goes through the third party's OAuth token exchange.
    type: str
  resource_access:
    description:
      - V(all) grants every API resource; V(custom) grants only O(resources).
      - Defaults to V(custom) when O(resources) is given. Required, directly or through O(resources), to create.
    type: str
    choices: [all, custom]
  resources:
    description:
      - ACL resource ids to grant with O(resource_access=custom), for example C(Magento_Catalog::products).
      - Checked against the store's own ACL tree before anything is written; an unknown id fails with the closest known ids.
      - An empty list grants nothing.
      - A set. The order and repeated ids do not matter. A rerun that lists the same ids in another order changes nothing,
        and so does Magento reading them back in another order.
    type: list
    elements: str
  state:
    description:
      - V(present) creates or updates the integration, V(absent) removes it with its OAuth consumer and tokens.
      - Integrations declared in a module's C(etc/integration.xml) cannot be edited or removed this way, as in the admin.
      - With O(integrations), the state of the items that do not give their own.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(integrations), make the list the whole set of the store's integrations. Every integration on the
        store that no item names is removed, with its OAuth consumer and tokens, as O(state=absent) does. Only with
        O(integrations).
      - Integrations declared in a module's C(etc/integration.xml) (RV(integration.setup_type) V(config)) are never
        removed. Magento refuses to delete them. They are kept and named in a warning and in RV(kept_integrations).
      - The integrations on the store are read in the same PHP process as the items, and removed in the same one as
        the other writes. Check mode and diff mode show what would be removed, and RV(removed_integrations) names it.
      - An empty O(integrations) with O(exclusive=true) removes every integration that is not declared in a module.
    type: bool
    default: false
seealso:
  - module: commerceops.magento.magento_integration_info
  - module: commerceops.magento.magento_integration_auth
'''

EXAMPLES = r'''
- name: Give the ERP connector catalog and order access
  commerceops.magento.magento_integration:
    magento_root: /var/www/magento
    name: Acme ERP
    email: integrations@acme.example
    callback_url: https://erp.acme.example/magento/callback
    identity_link_url: https://erp.acme.example/magento/login
    resources:
      - Magento_Catalog::catalog
      - Magento_Catalog::products
      - Magento_Sales::sales
      - Magento_Sales::sales_order
  become: true
  become_user: www-data

- name: An integration with access to everything
  commerceops.magento.magento_integration:
    magento_root: /var/www/magento
    name: Reporting
    resource_access: all

- name: Remove an integration, its consumer and its tokens
  commerceops.magento.magento_integration:
    magento_root: /var/www/magento
    name: Old connector
    state: absent

- name: Several integrations in one task (two PHP processes in all)
  commerceops.magento.magento_integration:
    magento_root: /var/www/magento
    integrations:
      - name: Acme ERP
        email: integrations@acme.example
        resources: [Magento_Catalog::products, Magento_Sales::sales]
      - name: Reporting
        resource_access: all
      - name: Old connector
        state: absent
  diff: true

- name: Keep exactly these integrations; remove any other (those of modules' integration.xml stay)
  commerceops.magento.magento_integration:
    magento_root: /var/www/magento
    integrations:
      - name: Acme ERP
      - name: Reporting
    exclusive: true
  register: drift

- name: Say what was removed
  ansible.builtin.debug:
    msg: "Removed: {{ drift.removed_integrations | join(', ') or 'nothing' }}"
'''

RETURN = r'''
integration:
  description: The integration after the task (as it would be, in check mode); V(null) when absent. No secrets.
  returned: when O(name) is given
  type: dict
  contains:
    id:
      description: Magento's integration id (V(null) for an integration check mode would create).
      type: int
      sample: 12
    name:
      description: The name as stored.
      type: str
      sample: Acme ERP
    email:
      description: Contact e-mail, empty when none.
      type: str
    callback_url:
      description: The callback URL, empty when none.
      type: str
    identity_link_url:
      description: The identity link URL, empty when none.
      type: str
    resource_access:
      description: V(all) or V(custom).
      type: str
      sample: custom
    resources:
      description:
        - The resources Magento grants, including C(Magento_Backend::admin) (Magento adds it to every non-empty custom list),
          or V([Magento_Backend::all]) for all access.
        - A set, sorted by id. Magento reads them back in no fixed order, so the collection compares them as sets and
          always returns them sorted.
      type: list
      elements: str
      sample: [Magento_Backend::admin, Magento_Catalog::products]
    status:
      description: V(inactive), V(active) (activated) or V(recreated) (reset after its integration.xml changed).
      type: str
      sample: inactive
    setup_type:
      description: V(manual) (made in the admin or by this collection) or V(config) (from a module's integration.xml).
      type: str
      sample: manual
integrations:
  description:
    - With O(integrations), each integration after the task (as it would be, in check mode), in the order of
      O(integrations), each as RV(integration) (V(null) for an absent one). No secrets.
    - In diff mode the diff holds only the integrations that change, keyed by name.
  returned: when O(integrations) is given
  type: list
  elements: dict
  sample:
    - {id: 12, name: Acme ERP, email: integrations@acme.example, callback_url: '', identity_link_url: '',
       resource_access: custom, resources: [Magento_Backend::admin, Magento_Catalog::products],
       status: inactive, setup_type: manual}
    - null
changed_integrations:
  description: With O(integrations), the names of the integrations the task changed (would change, in check mode), in order.
  returned: when O(integrations) is given
  type: list
  elements: str
  sample: [Acme ERP]
removed_integrations:
  description:
    - With O(exclusive=true), the names of the integrations removed because no item names them (would be removed,
      in check mode), in id order. They are also in RV(changed_integrations). Empty without O(exclusive).
  returned: when O(integrations) is given
  type: list
  elements: str
  sample: [Old connector]
kept_integrations:
  description:
    - With O(exclusive=true), the integrations no item names that were kept because a module's
      C(etc/integration.xml) declares them (Magento refuses to delete them). Empty without O(exclusive).
  returned: when O(integrations) is given
  type: list
  elements: str
  sample: [Vendor Sync]
'''

from ansible_collections.commerceops.magento.plugins.module_utils._diff import keyed_diff
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError, MagentoInputError
from ansible_collections.commerceops.magento.plugins.module_utils._integration import (
    Integrations, check_item_names, check_name, desired_view, item_error, overwrite_warning, to_view,
)
from ansible_collections.commerceops.magento.plugins.module_utils._items import INTEGRATION_ITEM_OPTIONS
from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule
from ansible_collections.commerceops.magento.plugins.module_utils._plan import (
    apply, ensure_state, pending, plan, step_diff,
)

SINGLE_ONLY = ('email', 'callback_url', 'identity_link_url', 'resource_access', 'resources')


def wanted(params, current, acl_ids, warnings):
    """The desired view of one integration (None for absent), refusing edits of config-file integrations."""
    if params['state'] == 'absent':
        desired = None
    else:
        desired = desired_view(params, current, acl_ids, warnings)
        if current is None:
            desired.update(id=None, status='inactive', setup_type='manual')

    if current is not None and current['setup_type'] == 'config':
        if params['state'] == 'absent':
            raise MagentoInputError("Uninstall the extension to remove integration '%s'. It is declared in a module's "
                                    "etc/integration.xml, and Magento refuses to delete it." % current['name'])
        if any(current[key] != desired[key] for key in desired if key in current):
            raise MagentoInputError("The integrations created in the config file can't be edited: %r comes from a "
                                    "module's etc/integration.xml. Change that file and run setup:upgrade instead."
                                    % current['name'])
    return desired


def writer(integrations):
    """The engine's writer: every create, update and delete in one bridge call; the integrations as written."""
    def write(steps):
        results = integrations.write([write_action(step) for step in steps])
        return [to_view(result.get('integration')) for result in results]
    return write


def write_action(step):
    if step['action'] == 'create':
        return Integrations.create_action(step['after'])
    if step['action'] == 'update':
        return Integrations.update_action(step['current'], step['after'])
    return Integrations.delete_action(step['current'])


def run(module, warnings, seen):
    params = module.params
    name = check_name(params['name'])
    integrations = Integrations(module.transport)
    found = integrations.read(name, with_acl=params['state'] == 'present')
    current = seen[name] = to_view(found['integration'])
    acl_ids = [resource['id'] for resource in found['acl']] if 'acl' in found else []
    desired = wanted(params, current, acl_ids, warnings)
    step = apply(plan([(name, current, desired)], ensure_state), writer(integrations), module.check_mode)[0]
    return dict(changed=bool(step['action']), diff=step_diff(step), object=step['after'])


def unlisted(store, found, warnings):
    """exclusive=true: the store's integrations that no item names (matched by id, as Magento matched the names), as
    ``(name, current, None)`` objects to remove, and the names of those kept because a module's integration.xml
    declares them."""
    listed = set(read['integration']['integration_id'] for read in found if read['integration'] is not None)
    removals, kept = [], []
    for view in (to_view(raw) for raw in store if raw['integration_id'] not in listed):
        if view['setup_type'] == 'config':
            kept.append(view['name'])
            warnings.append("exclusive: integration %r is not in integrations but is kept: a module's "
                            "etc/integration.xml declares it, and Magento refuses to delete it (uninstall that module "
                            "to remove it)." % view['name'])
        else:
            removals.append((view['name'], view, None))
    return removals, kept


def run_many(module, warnings, seen):
    """List mode: one bridge read for every integration, every item checked, then one bridge write for all."""
    items = [dict(item, state=item['state'] or module.params['state']) for item in module.params['integrations']]
    names = check_item_names(items)
    exclusive = module.params['exclusive']
    if not items and not exclusive:
        return dict(changed=False, diff={'before': {}, 'after': {}}, objects=[], changed_names=[], removed_names=[],
                    kept_names=[])
    integrations = Integrations(module.transport)
    if items:
        found = integrations.read_many(names, with_acl=any(item['state'] == 'present' for item in items),
                                       with_all=exclusive)
        store = found[0].get('all', [])
    else:
        found, store = [], integrations.list()[0]
    objects = []
    for index, (item, name, read) in enumerate(zip(items, names, found)):
        current = seen[name] = to_view(read['integration'])
        acl_ids = [resource['id'] for resource in read['acl']] if 'acl' in read else []
        item_warnings = []
        desired = item_error(index, name, wanted, dict(item, name=name), current, acl_ids, item_warnings)
        warnings.extend('integrations[%d] %r: %s' % (index, name, warning) for warning in item_warnings)
        objects.append((name, current, desired))
    removals, kept = unlisted(store, found, warnings) if exclusive else ([], [])
    steps = apply(plan(objects + removals, ensure_state), writer(integrations), module.check_mode)
    return dict(changed=bool(pending(steps)), changed_names=[step['key'] for step in pending(steps)],
                diff=keyed_diff((step['key'], step_diff(step)) for step in steps),
                objects=[step['after'] for step in steps[:len(items)]],
                removed_names=[name for name, _current, _desired in removals], kept_names=kept)


def main():
    module = MagentoModule(
        argument_spec=MagentoModule.generate_argspec(
            name=dict(type='str'),
            integrations=dict(type='list', elements='dict', options=INTEGRATION_ITEM_OPTIONS),
            email=dict(type='str'),
            callback_url=dict(type='str', aliases=['endpoint']),
            identity_link_url=dict(type='str'),
            resource_access=dict(type='str', choices=['all', 'custom']),
            resources=dict(type='list', elements='str'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            exclusive=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('name', 'integrations')] + [('integrations', option) for option in SINGLE_ONLY],
        required_one_of=[('name', 'integrations')],
        supports_check_mode=True,
    )
    many = module.params['integrations'] is not None
    if module.params['exclusive'] and not many:
        module.fail_json(msg='exclusive=true works only with integrations: list every integration the store is to '
                             'keep there (exclusive removes the others).')
    warnings = []
    reads = []

    def attempt():
        # A second attempt reads again: only its warnings count. In list mode the writes of the batch before the
        # refused one are done; the second attempt reports what is left.
        del warnings[:]
        reads.append({})
        return (run_many if many else run)(module, warnings, reads[-1])
    try:
        # A write refused because another run wrote the integration first (bridge kind conflict: an update guard or a
        # duplicate create) is met by reading again and converging.
        outcome, retried = module.run_converging(attempt)
    except MagentoError as error:
        module.fail_from(error)
    if retried:
        after = dict(zip(reads[-1], outcome['objects'] if many else [outcome['object']]))
        warnings.extend(filter(None, (overwrite_warning(name, reads[0].get(name), reads[1][name], after[name])
                                      for name in reads[1])))
    for warning in warnings:
        module.warn(warning)
    # After a lost race this run may have written before the refusal (list mode: the batch's earlier writes; a create
    # whose read-back failed): the second attempt cannot tell, so the task reports a change.
    if many:
        result = dict(changed=outcome['changed'] or retried, integrations=outcome['objects'],
                      changed_integrations=outcome['changed_names'], removed_integrations=outcome['removed_names'],
                      kept_integrations=outcome['kept_names'])
    else:
        result = dict(changed=outcome['changed'] or retried, integration=outcome['object'])
    if module._diff:
        result['diff'] = outcome['diff']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
