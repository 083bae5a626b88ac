#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_integration_auth
short_description: Activate a Magento integration (OAuth 1.0a), reauthorize or revoke it, and prove its tokens
version_added: 0.1.0
description:
  - Does what the admin's B(Activate) and B(Reauthorize) links do, on the Magento host, then proves the access token
    with a signed REST call.
  - O(flow=direct) is B(Activate) without a token exchange. Magento mints the access token itself and the integration becomes active.
  - O(flow=exchange) plays the third party. Magento prepares the exchange (it restarts the consumer's expiry window
    and makes a verifier, without posting anywhere). Then the module asks C(/oauth/token/request) and
    C(/oauth/token/access) over HTTP, signed with HMAC-SHA256. This proves the store's OAuth endpoints end to end.
  - O(flow=callback) is B(Activate) for an integration with a callback URL and an identity link URL. Magento posts the
    consumer key, consumer secret, store base URL and verifier to the callback URL, and the third party completes the
    exchange. The module waits up to O(wait_timeout) seconds for the integration to become active.
  - An integration that is already active with an access token is left alone unless O(rotate=true), or its access
    token is older than O(max_token_age). Nothing is minted, posted or exchanged then.
  - Token rows left by an unfinished activation are detected and cleared before activating again.
    Magento's own B(Activate) would silently do nothing in that case.
  - "The result holds the credentials. Give the task C(no_log: true) so that they never reach a log."
author:
  - commerceops.magento contributors (@commerceops)
extends_documentation_fragment:
  - commerceops.magento.connection
  - commerceops.magento.attributes.ACTION_GROUP
  - ansible.builtin.files
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode reads the integration and reports whether it would be activated, rotated or revoked. Nothing is
        minted, posted or exchanged, and the token proof is skipped.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff shows the status, token type and token creation time, and why tokens are rotated; tokens are masked.
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and avoid data corruption.
    support: full
    details: O(credentials_file) is written to a private temporary file and renamed over the target.
options:
  name:
    description:
      - The integration's name (case-insensitive).
      - Exactly one of O(name) and O(integrations) is required.
    type: str
  integrations:
    description:
      - Several integrations in one task, instead of O(name). One PHP process reads them all (with their credentials
        and the store's base URL), and one more runs every activation, exchange preparation and revocation needed with
        O(flow=direct) or O(flow=exchange). The O(flow=callback) activations run one integration at a time, as with O(name).
        The token exchanges and proofs go over HTTP, with no PHP process.
      - O(state), O(verify), O(verify_route) and O(verify_bearer) apply to every item.
      - Two items naming the same integration (names compared case-insensitively) fail the task before anything is read.
      - Cannot be combined with O(credentials_file); the results are in RV(results). The role
        C(commerceops.magento.integration_onboarding) writes one private file per integration with its
        C(integration_onboarding_credentials_dir).
    type: list
    elements: dict
    suboptions:
      name:
        description: The integration's name (case-insensitive).
        type: str
        required: true
      flow:
        description: As O(flow); defaults to O(flow).
        type: str
        choices: [auto, direct, exchange, callback]
      rotate:
        description: As O(rotate); defaults to O(rotate).
        type: bool
      max_token_age:
        description: As O(max_token_age); defaults to O(max_token_age).
        type: str
      wait_timeout:
        description: As O(wait_timeout); defaults to O(wait_timeout).
        type: int
  state:
    description:
      - V(authorized) activates the integration if it is not active with an access token.
      - V(revoked) deletes its tokens and sets it inactive. Its consumer key and secret stay.
    type: str
    choices: [authorized, revoked]
    default: authorized
  flow:
    description:
      - How to activate; see the description. V(auto) uses V(callback) when the integration has both a callback URL and
        an identity link URL, as the admin does, and V(direct) otherwise.
    type: str
    choices: [auto, direct, exchange, callback]
    default: auto
  rotate:
    description:
      - Reauthorize even an active integration. It gets a new access token and secret; its consumer key and secret do
        not change.
      - With O(flow=callback) Magento first deletes the old token and sets the integration inactive, as the admin's
        B(Reauthorize) does. It stays so until the third party completes the exchange.
    type: bool
    default: false
  max_token_age:
    description:
      - Rotate on a schedule. An active integration whose access token is older than this is reauthorized, as with
        O(rotate=true). Its new access token and secret replace the old ones, which Magento then refuses.
      - Whole days, hours or minutes, for example V(90d), V(12h) or V(30m), or combined, V(1d12h).
      - The age is the time since Magento made the token (C(token.created_at) of
        M(commerceops.magento.magento_integration_info)), by the clock of the host the module runs on.
      - A rotated token is new, so the next run changes nothing until it is older than O(max_token_age) in turn.
      - Check mode and diff mode report which integrations would be rotated, and why, in RV(rotation).
      - Not set by default, so tokens are not rotated by age.
    type: str
  wait_timeout:
    description: Seconds to wait for the third party to complete the exchange with O(flow=callback).
    type: int
    default: 60
  verify:
    description:
      - Prove the access token with an OAuth 1.0a-signed C(GET) of O(verify_route). A refused token fails the task.
      - If O(verify_route) is refused but the token works on C(/V1/modules), the module reports that the integration
        lacks the route's ACL resources. Magento answers both cases with the same 401.
    type: bool
    default: true
  verify_route:
    description:
      - The REST route to prove the token with, without C(/rest). The default, C(/V1/modules), needs only
        C(Magento_Backend::admin). Magento grants that resource to every integration with some access.
    type: str
    default: /V1/modules
  verify_bearer:
    description:
      - Also try the access token as a C(Bearer) token and report the answer in RV(verification.bearer).
      - Magento 2.4.4+ accepts this only while C(oauth/consumer/enable_integration_as_bearer) is C(1).
    type: bool
    default: false
  credentials_file:
    description:
      - Write the credentials as JSON to this file on the managed node, with mode C(0600) unless O(mode) says
        otherwise. The file is written only when its content changes.
      - Only with O(name).
    type: path
requirements:
  - requests and requests-oauthlib where the module runs, for O(flow=exchange) and O(verify).
seealso:
  - module: commerceops.magento.magento_integration
  - name: Magento OAuth-based authentication
    description: How Magento's integrations use OAuth 1.0a.
    link: https://developer.adobe.com/commerce/webapi/get-started/authentication/gs-authentication-oauth/
'''

EXAMPLES = r'''
- name: Activate the ERP integration and prove its tokens
  commerceops.magento.magento_integration_auth:
    magento_root: /var/www/magento
    name: Acme ERP
  no_log: true
  register: erp_auth

- name: Run the OAuth 1.0a exchange against the store's own endpoints, and keep the credentials
  commerceops.magento.magento_integration_auth:
    magento_root: /var/www/magento
    name: Acme ERP
    flow: exchange
    base_url: https://shop.example.com/
    credentials_file: /etc/acme-erp/magento.json
    owner: acme
  no_log: true

- name: Give the connector new access tokens
  commerceops.magento.magento_integration_auth:
    magento_root: /var/www/magento
    name: Acme ERP
    rotate: true
  no_log: true

- name: Rotate the access token when it is older than 90 days (each run checks; a rotation happens once)
  commerceops.magento.magento_integration_auth:
    magento_root: /var/www/magento
    name: Acme ERP
    max_token_age: 90d
  no_log: true

- name: Take the integration's access away but keep it
  commerceops.magento.magento_integration_auth:
    magento_root: /var/www/magento
    name: Acme ERP
    state: revoked

- name: Activate several integrations at once (two PHP processes in all) and prove their tokens
  commerceops.magento.magento_integration_auth:
    magento_root: /var/www/magento
    integrations:
      - name: Acme ERP
      - name: Reporting
        flow: exchange
  no_log: true
  register: auth
'''

RETURN = r'''
credentials:
  description: The integration's OAuth credentials. Secrets; give the task C(no_log). Tokens are V(null) when revoked.
  returned: when O(name) is given
  type: dict
  contains:
    consumer_key:
      description: The consumer key.
      type: str
    consumer_secret:
      description: The consumer secret.
      type: str
    access_token:
      description: The access token.
      type: str
    access_token_secret:
      description: The access token secret.
      type: str
status:
  description: The integration's status afterwards (as it would be, in check mode).
  returned: when O(name) is given
  type: str
  sample: active
flow:
  description: The flow chosen (V(direct), V(exchange) or V(callback)).
  returned: when O(name) is given
  type: str
  sample: direct
verified:
  description: Whether the access token was accepted; V(null) when not tried (O(verify=false), check mode, revoked).
  returned: when O(name) is given
  type: bool
verification:
  description: How the token was proven; V(null) when not tried.
  returned: when O(name) is given
  type: dict
  contains:
    verified:
      description: Whether the token was accepted.
      type: bool
    route:
      description: The route asked.
      type: str
      sample: GET /V1/modules
    status:
      description: The HTTP status of that call.
      type: int
      sample: 200
    message:
      description: V(OK) or Magento's message.
      type: str
    route_authorized:
      description: V(false) when the token works but the integration lacks the resources of O(verify_route).
      type: bool
      returned: when O(verify_route) was refused
    bearer:
      description:
        - The same call with the token as Bearer (O(verify_bearer=true)), with RV(verification.verified),
          RV(verification.status) and RV(verification.message).
      type: dict
rotation:
  description:
    - Why the tokens were replaced (in check mode, would be), V(null) when they were not. V(rotate=true), the age
      of the access token beyond O(max_token_age), or an access token Magento marks revoked. The diff shows it too.
  returned: when O(name) is given
  type: str
  sample: the access token is 121d 3h old (made 2026-08-01T09:00:00Z), older than max_token_age 90d
integration:
  description: The integration, as M(commerceops.magento.magento_integration) returns it. No secrets.
  returned: when O(name) is given
  type: dict
results:
  description:
    - With O(integrations), one result per integration, in the order of O(integrations). Each holds the integration's
      C(name) and the keys returned with O(name) (RV(credentials), RV(status), RV(flow), RV(verified),
      RV(verification), RV(rotation), RV(integration)), and C(changed).
    - The credentials are secrets; give the task C(no_log). In diff mode the diff holds only the integrations that
      change, keyed by name, tokens masked.
  returned: when O(integrations) is given
  type: list
  elements: dict
  sample:
    - name: Acme ERP
      changed: true
      flow: direct
      status: active
      verified: true
      credentials: {consumer_key: '...', consumer_secret: '...', access_token: '...', access_token_secret: '...'}
      verification: {verified: true, route: GET /V1/modules, status: 200, message: OK, bearer: null}
      integration: {id: 12, name: Acme ERP, status: active}
'''

from ansible_collections.commerceops.magento.plugins.module_utils._authorization import Authorizer
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._items import AUTHORIZATION_ITEM_OPTIONS, FLOWS
from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule


def main():
    module = MagentoModule(
        argument_spec=MagentoModule.generate_argspec(
            name=dict(type='str'),
            integrations=dict(type='list', elements='dict', options=AUTHORIZATION_ITEM_OPTIONS),
            state=dict(type='str', default='authorized', choices=['authorized', 'revoked']),
            flow=dict(type='str', default='auto', choices=FLOWS),
            rotate=dict(type='bool', default=False),
            max_token_age=dict(type='str', no_log=False),  # an age, not a secret
            wait_timeout=dict(type='int', default=60),
            verify=dict(type='bool', default=True),
            verify_route=dict(type='str', default='/V1/modules'),
            verify_bearer=dict(type='bool', default=False),
            credentials_file=dict(type='path'),
        ),
        mutually_exclusive=[('name', 'integrations'), ('integrations', 'credentials_file')],
        required_one_of=[('name', 'integrations')],
        supports_check_mode=True,
        add_file_common_args=True,
    )
    authorizers = []

    def attempt():
        # Each attempt reads afresh: another run may have activated, rotated or revoked meanwhile.
        authorizers.append(Authorizer(module))
        return authorizers[-1].run() if module.params['integrations'] is None else authorizers[-1].run_many()
    try:
        result, retried = module.run_converging(attempt)
    except MagentoError as error:
        module.fail_from(error)
    if retried and module.params['integrations'] is not None:
        # The refused batch committed its earlier actions (activations, revocations) before the conflict, and the
        # second attempt finds them done: the task still changed the store.
        result['changed'] = True
    for warning in authorizers[-1].warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
