#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_integration_info
short_description: Read Magento integrations and the store's ACL resource tree
version_added: 0.1.0
description:
  - Returns one integration by name, or all of them, with their resource access and status, as the admin's
    B(System > Extensions > Integrations) grid shows them, and the type, age and revoked flag of their token.
    Never returns a secret.
  - Optionally returns the store's ACL resource tree, the ids that
    M(commerceops.magento.magento_integration) accepts in O(commerceops.magento.magento_integration#module:resources).
author:
  - commerceops.magento contributors (@commerceops)
extends_documentation_fragment:
  - commerceops.magento.connection
  - commerceops.magento.attributes.CHECK_MODE_READ_ONLY
  - commerceops.magento.attributes.ACTION_GROUP
options:
  name:
    description:
      - The integration to read (case-insensitive). All integrations when not given.
    type: str
  acl_resources:
    description:
      - Also return the store's ACL resource tree in RV(acl_resources).
    type: bool
    default: false
  preflight:
    description:
      - Before anything else, check every prerequisite of the collection's modules on this host, and fail once,
        listing everything missing. Checked are the Magento root, the PHP CLI, the owner of Magento's files and the
        user PHP runs as (see O(magento_user)), that this user may write C(var/) and C(generated/), and a Magento
        bootstrap.
      - Nothing is written. On success the facts are in RV(preflight) and the integrations are read as usual.
    type: dict
    suboptions:
      http:
        description:
          - Also check what the token exchange and the token proof need where the modules run, the Python libraries
            C(requests) and C(requests-oauthlib), and the store answering at O(base_url) (or Magento's own base URL).
        type: bool
        default: true
seealso:
  - module: commerceops.magento.magento_integration
'''

EXAMPLES = r'''
- name: Read one integration
  commerceops.magento.magento_integration_info:
    magento_root: /var/www/magento
    name: Acme ERP
  register: erp

- name: Fail when it is not active
  ansible.builtin.assert:
    that: erp.integrations | length == 1 and erp.integrations[0].status == 'active'

- name: Show when its access token was made
  ansible.builtin.debug:
    msg: "{{ erp.integrations[0].token.type }} token made {{ erp.integrations[0].token.created_at }}"

- name: Check every prerequisite before the first write (fails once, listing what is missing)
  commerceops.magento.magento_integration_info:
    magento_root: /var/www/magento
    preflight:
      http: true
  register: host

- name: List every integration and the ACL ids this store knows
  commerceops.magento.magento_integration_info:
    magento_root: /var/www/magento
    acl_resources: true
  register: store
'''

RETURN = r'''
integrations:
  description: The integrations found, ordered by id; empty when O(name) matches none.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Magento's integration id.
      type: int
    name:
      description: The name as stored.
      type: str
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
    resources:
      description:
        - The resources Magento grants, including C(Magento_Backend::admin) (Magento adds it to every non-empty custom list),
          or V([Magento_Backend::all]) for all access.
        - A set, sorted by id. Magento reads them back in no fixed order, so the collection compares them as sets and
          always returns them sorted.
      type: list
      elements: str
    status:
      description: V(inactive), V(active) or V(recreated).
      type: str
    setup_type:
      description: V(manual) or V(config).
      type: str
    token:
      description:
        - The state of the integration's token, the one Magento's services use. No token, secret or verifier.
      type: dict
      contains:
        type:
          description:
            - V(access) once activated; V(request) or V(verifier) while a token exchange is unfinished; V(none)
              when the integration has no token (never activated, or revoked).
          type: str
          sample: access
        created_at:
          description:
            - When Magento made the token, ISO 8601 in UTC; V(null) without a token. A reauthorization (rotation)
              makes a new one. M(commerceops.magento.magento_integration_auth) rotates tokens older than its
              O(commerceops.magento.magento_integration_auth#module:max_token_age).
          type: str
          sample: '2026-11-30T12:00:00Z'
        revoked:
          description: Magento's C(revoked) flag of the token; Magento refuses a revoked token.
          type: bool
          sample: false
preflight:
  description: What the preflight found. Only with O(preflight).
  returned: when O(preflight) is set and every check passed
  type: dict
  contains:
    owner:
      description: The owner of Magento's files (or O(magento_user)).
      type: str
      sample: www-data
    php_user:
      description: The user PHP runs as.
      type: str
      sample: www-data
    magento_version:
      description: The version the bootstrapped Magento reports.
      type: str
      sample: 2.4.7-p3
    base_url:
      description: Magento's own C(web/unsecure/base_url).
      type: str
      sample: https://shop.example.com/
acl_resources:
  description: The store's ACL tree, flat, in Magento's order. Only with O(acl_resources=true).
  returned: when O(acl_resources=true)
  type: list
  elements: dict
  contains:
    id:
      description: The resource id to use in O(commerceops.magento.magento_integration#module:resources).
      type: str
      sample: Magento_Catalog::products
    title:
      description: The title the admin's tree shows.
      type: str
      sample: Products
    parent:
      description: The parent's id, V(null) for the roots.
      type: str
      sample: Magento_Catalog::inventory
'''

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._integration import (
    Integrations, check_name, to_view, token_view,
)
from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule


def main():
    module = MagentoModule(
        argument_spec=MagentoModule.generate_argspec(
            name=dict(type='str'),
            acl_resources=dict(type='bool', default=False),
            preflight=dict(type='dict', options=dict(http=dict(type='bool', default=True))),
        ),
        supports_check_mode=True,
    )
    name = module.params['name']
    with_acl = module.params['acl_resources']
    facts = results = None
    try:
        if name is not None:
            check_name(name)
    except MagentoError as error:
        module.fail_from(error)
    reads = Integrations.list_actions([name] if name is not None else None, with_acl)
    if module.params['preflight'] is not None:
        # The integrations are read in the preflight's own Magento bootstrap: one PHP process for the task.
        problems, facts, results = module.preflight(module.params['preflight']['http'], reads)
        if problems:
            module.fail_json(msg='The preflight found %d problem%s on this host; fix %s before running the collection: %s'
                             % (len(problems), '' if len(problems) == 1 else 's', 'it' if len(problems) == 1 else 'them',
                                ' '.join('(%d) %s' % (number, problem) for number, problem in enumerate(problems, 1))),
                             problems=problems)
    try:
        if results is None:
            results = module.transport.bridge(reads)
    except MagentoError as error:
        module.fail_from(error)
    found, acl = Integrations.list_results(results, with_acl)
    result = dict(changed=False, integrations=[dict(to_view(raw), token=token_view(raw)) for raw in found])
    if acl is not None:
        result['acl_resources'] = acl
    if facts is not None:
        result['preflight'] = facts
    module.exit_json(**result)


if __name__ == '__main__':
    main()
