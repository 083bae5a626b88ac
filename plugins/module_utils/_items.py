# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of one item of the ``integrations`` list, per module. Internal to this collection.

Written once: the modules build their argument specs from them, and the ``module_items`` filter splits the role's
integration items (which carry every option) into the items each module takes.
"""

from __future__ import annotations

INTEGRATION_ITEM_OPTIONS = dict(
    name=dict(type='str', required=True),
    email=dict(type='str'),
    callback_url=dict(type='str', aliases=['endpoint']),
    identity_link_url=dict(type='str'),
    resource_access=dict(type='str', choices=['all', 'custom']),
    resources=dict(type='list', elements='str'),
    state=dict(type='str', choices=['present', 'absent']),
)

FLOWS = ['auto', 'direct', 'exchange', 'callback']
AUTHORIZATION_ITEM_OPTIONS = dict(
    name=dict(type='str', required=True),
    flow=dict(type='str', choices=FLOWS),
    rotate=dict(type='bool'),
    max_token_age=dict(type='str', no_log=False),  # an age, not a secret
    wait_timeout=dict(type='int'),
)

ITEM_OPTIONS = {
    'magento_integration': INTEGRATION_ITEM_OPTIONS,
    'magento_integration_auth': AUTHORIZATION_ITEM_OPTIONS,
}
