#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only: one OAuth 1.0a-signed REST GET with given credentials, to prove that Magento accepts or refuses them."""

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_ci_rest
short_description: Test-only signed REST GET with given OAuth credentials
description:
  - Signs C(GET /rest<route>) with the given consumer and access token (HMAC-SHA256) and returns Magento's answer.
    Used to show that rotated-away tokens are refused. Not shipped for use.
options:
  base_url:
    description: The store's base URL.
    type: str
    required: true
  credentials:
    description: C(consumer_key), C(consumer_secret), C(access_token), C(access_token_secret).
    type: dict
    required: true
  route:
    description: The REST route without C(/rest).
    type: str
    default: /V1/modules
author: commerceops.magento contributors
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.commerceops.magento.plugins.module_utils import _oauth


def main():
    module = AnsibleModule(argument_spec=dict(
        base_url=dict(type='str', required=True),
        credentials=dict(type='dict', required=True, no_log=True),
        route=dict(type='str', default='/V1/modules'),
    ), supports_check_mode=True)
    client = _oauth.OAuthClient(module.params['base_url'], True, 30, retries=0)
    status, body = client.rest_get(module.params['route'], credentials=module.params['credentials'])
    module.exit_json(changed=False, status=status, message='OK' if status == 200 else _oauth.rest_message(body))


if __name__ == '__main__':
    main()
