# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canned Magento answers for unit tests: an ACL excerpt, integrations, and a fake host."""

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._transport import CommandResult

ACL = [
    {'id': 'Magento_Backend::all', 'title': 'Allow everything', 'parent': None},
    {'id': 'Magento_Backend::admin', 'title': 'Magento Admin', 'parent': None},
    {'id': 'Magento_Catalog::catalog', 'title': 'Catalog', 'parent': 'Magento_Backend::admin'},
    {'id': 'Magento_Catalog::catalog_inventory', 'title': 'Inventory', 'parent': 'Magento_Catalog::catalog'},
    {'id': 'Magento_Catalog::products', 'title': 'Products', 'parent': 'Magento_Catalog::catalog_inventory'},
    {'id': 'Magento_Sales::sales', 'title': 'Sales', 'parent': 'Magento_Backend::admin'},
    {'id': 'Magento_Backend::store', 'title': 'Stores', 'parent': 'Magento_Backend::admin'},
]

YES_NO = [{'value': '1', 'label': 'Yes'}, {'value': '0', 'label': 'No'}]
# The admin's dropdowns of a few fields (config.options); any other path is a text field.
FIELD_OPTIONS = {
    'web/seo/use_rewrites': ('select', YES_NO),
    'webapi/webapisecurity/allow_insecure': ('select', YES_NO),
    'web/url/redirect_to_base': ('select', [{'value': '0', 'label': 'No'}, {'value': '1', 'label': 'Yes (302 Found)'},
                                            {'value': '301', 'label': 'Yes (301 Moved Permanently)'}]),
    'general/country/allow': ('multiselect', [{'value': code, 'label': code} for code in ('DE', 'FR', 'GB', 'US')]),
}


def field_options(action):
    items = []
    for item in action['items']:
        kind, options = FIELD_OPTIONS.get(item['path'], ('text', None))
        items.append({'path': item['path'], 'declared': True, 'type': kind, 'source_model': 'Canned' if options else None,
                      'options': options})
    return {'items': items}


def integration(**fields):
    """A bridge INTEGRATION with sensible defaults."""
    raw = {
        'integration_id': 7, 'name': 'Acme ERP', 'email': 'ops@acme.example', 'endpoint': None,
        'identity_link_url': None, 'status': 0, 'setup_type': 0, 'consumer_id': 9,
        'created_at': '2026-11-28 10:00:00', 'updated_at': '2026-11-28 10:00:00',
        'all_resources': False, 'resources': ['Magento_Backend::admin', 'Magento_Catalog::products'],
        'token': {'type': None, 'rows': 0},
    }
    raw.update(fields)
    return raw


class FakeHost(object):
    """Canned answers per bridge action; records every call so tests can assert on writes."""

    def __init__(self):
        self.handlers = {'acl.resources': lambda action: {'resources': ACL},
                         'cache.status': lambda action: {'types': []},
                         'config.options': field_options}
        self.calls = []
        self.batches = []  # the actions of each bridge call: one PHP process each
        self.answers = []
        self.commands = []
        self.command_results = {}

    def on(self, action, answer):
        self.handlers[action] = answer if callable(answer) else (lambda _action, _answer=answer: _answer)

    def bridge(self, transport, actions):
        self.batches.append([action['action'] for action in actions])
        results = []
        for action in actions:
            self.calls.append(action)
            answer = self.handlers[action['action']](action)
            if isinstance(answer, MagentoError):
                raise answer
            self.answers.append(answer)
            results.append(answer)
        return results

    def access_tokens(self):
        """Every access token this store handed out in an answer: the ones its REST API accepts."""
        found = set()
        for answer in self.answers:
            credentials = answer.get('credentials') if isinstance(answer, dict) else None
            if credentials and credentials.get('access_token'):
                found.add(credentials['access_token'])
        return found

    def magento(self, transport, args, attempted=None):
        self.commands.append(list(args))
        answer = self.command_results.get(args[0], CommandResult(0, '', ''))
        if isinstance(answer, MagentoError):
            raise answer
        return answer

    @property
    def actions(self):
        return [call['action'] for call in self.calls]
