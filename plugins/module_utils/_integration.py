# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integrations: the documented view, input validation, and reads/writes through the bridge.

Internal to this collection.
"""

from __future__ import annotations

import difflib
import re

from ansible.module_utils.six.moves.urllib.parse import urlparse

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoInputError

ALL_RESOURCES = 'Magento_Backend::all'
ADMIN_RESOURCE = 'Magento_Backend::admin'
STATUS_WORDS = {0: 'inactive', 1: 'active', 2: 'recreated'}
SETUP_TYPE_WORDS = {0: 'manual', 1: 'config'}
# Column sizes of the integration table and the admin form's limits (SPEC §1.1, §2).
NAME_MAX = 255
EMAIL_MAX = 254
URL_MAX = 255
# The pattern of Magento's integration.xsd for e-mails, tightened to refuse blanks.
EMAIL_PATTERN = re.compile(r'^[^@\s]+@[^@\s.]+\.[^@\s]+$')
INSECURE_URL_WARNING = ('Warning! Integrations not using HTTPS are insecure and potentially expose private or '
                        'personally identifiable information')

MANAGED_FIELDS = ('name', 'email', 'callback_url', 'identity_link_url', 'resource_access', 'resources')


def resource_set(resources):
    """ACL resources as this collection compares and returns them: a set, given in one stable order, sorted by id.

    Magento reads an integration's rule rows back with no ORDER BY (SPEC §1.10): a store with a history answers by
    resource id, a near-empty one in ACL tree order. Lists in this form are equal exactly when they hold the same ids.
    """
    return sorted(set(resources or []))


def to_view(raw):
    """The documented, secret-free view of a bridge INTEGRATION."""
    if raw is None:
        return None
    return {
        'id': raw['integration_id'],
        'name': raw['name'],
        'email': raw.get('email') or '',
        'callback_url': raw.get('endpoint') or '',
        'identity_link_url': raw.get('identity_link_url') or '',
        'resource_access': 'all' if raw.get('all_resources') else 'custom',
        'resources': resource_set(raw.get('resources')),
        'status': STATUS_WORDS.get(raw.get('status'), str(raw.get('status'))),
        'setup_type': SETUP_TYPE_WORDS.get(raw.get('setup_type'), str(raw.get('setup_type'))),
    }


def token_view(raw):
    """The documented, secret-free state of an integration's token: type (``none`` without one), age, revoked."""
    token = raw.get('token') or {}
    return {'type': token.get('type') or 'none', 'created_at': token.get('created_at'),
            'revoked': bool(token.get('revoked'))}


def check_name(name):
    if name is None or not name.strip():
        raise MagentoInputError('name must not be empty: give the integration name shown in the admin grid.')
    if name != name.strip():
        raise MagentoInputError('name %r has leading or trailing spaces: remove them (Magento would store them as '
                                'part of the name).' % name)
    if len(name) > NAME_MAX:
        raise MagentoInputError('name is %d characters long; Magento stores at most %d.' % (len(name), NAME_MAX))
    if any(ord(char) < 32 for char in name):
        raise MagentoInputError('name %r contains control characters: use printable text only.' % name)
    return name


def check_item_names(items):
    """The names of list-mode items, each checked, the item named in any error; duplicates (case-insensitive) refused."""
    names, seen = [], {}
    for index, item in enumerate(items):
        name = item_error(index, item.get('name'), check_name, item.get('name'))
        key = name.lower()
        if key in seen:
            raise MagentoInputError(
                'integrations[%d] %r and integrations[%d] %r name the same integration (Magento compares names '
                'case-insensitively): list each integration once.' % (seen[key], names[seen[key]], index, name))
        seen[key] = index
        names.append(name)
    return names


def item_error(index, name, function, *args, **kwargs):
    """Run ``function``; a MagentoInputError it raises names the list item it is about."""
    try:
        return function(*args, **kwargs)
    except MagentoInputError as error:
        raise MagentoInputError('integrations[%d] %r: %s' % (index, name, error))


def check_email(email):
    if email == '':
        return email
    if len(email) > EMAIL_MAX or not EMAIL_PATTERN.match(email):
        raise MagentoInputError('email %r is not a valid e-mail address (expected name@domain.tld, at most %d '
                                'characters); leave it empty if the integration has no contact.' % (email, EMAIL_MAX))
    return email


def check_url(option, url, warnings):
    """Absolute http(s) URL or ''. Plain http is allowed, with Magento's own warning."""
    if url == '':
        return url
    parsed = urlparse(url)
    if parsed.scheme not in ('http', 'https') or not parsed.netloc or any(c.isspace() for c in url):
        raise MagentoInputError('%s %r is not a valid URL: give an absolute https:// URL (or an empty string for '
                                'none).' % (option, url))
    if len(url) > URL_MAX:
        raise MagentoInputError('%s is %d characters long; Magento stores at most %d.' % (option, len(url), URL_MAX))
    if parsed.scheme == 'http':
        warnings.append('%s %s uses plain http. %s.' % (option, url, INSECURE_URL_WARNING))
    return url


def check_resources(resources, acl_ids):
    """Known ACL ids as Magento grants a Custom list (``resource_set``)."""
    known = set(acl_ids)
    unknown = [resource for resource in resources if resource not in known]
    if unknown:
        hints = []
        for resource in unknown:
            close = difflib.get_close_matches(resource, acl_ids, n=3, cutoff=0.6)
            hints.append('%r%s' % (resource, ' (did you mean %s?)' % ', '.join(repr(c) for c in close) if close else ''))
        raise MagentoInputError(
            'resources: unknown ACL resource%s %s. This store knows %d ACL resources; list them with '
            'commerceops.magento.magento_integration_info and acl_resources=true.'
            % ('s' if len(unknown) > 1 else '', ', '.join(hints), len(acl_ids)))
    if ALL_RESOURCES in resources:
        raise MagentoInputError('resources: %s means every resource: set resource_access=all instead of listing it.'
                                % ALL_RESOURCES)
    if not resources:
        return []
    # Magento adds Magento_Backend::admin to every non-empty Custom list (SPEC §1.10).
    return resource_set(list(resources) + [ADMIN_RESOURCE])


def desired_view(params, current, acl_ids, warnings):
    """The fields the task asks for, validated; fields it leaves out keep their current value."""
    desired = {'name': current['name'] if current else params['name']}
    if current and current['name'] != params['name']:
        warnings.append('Integration %r is stored as %r; Magento compares names case-insensitively and cannot '
                        'rename by case only, so the stored name is kept.' % (params['name'], current['name']))
    for option in ('email', 'callback_url', 'identity_link_url'):
        value = params[option]
        if value is None:
            if current is None:
                desired[option] = ''
            continue
        value = value.strip()
        desired[option] = check_email(value) if option == 'email' else check_url(option, value, warnings)

    access, resources = params['resource_access'], params['resources']
    if access is None and resources is not None:
        access = 'custom'
    if access == 'all':
        if resources:
            raise MagentoInputError('resources is only used with resource_access=custom: remove resources, or set '
                                    'resource_access=custom to grant only those.')
        desired.update(resource_access='all', resources=[ALL_RESOURCES])
    elif access == 'custom':
        if resources is None:
            if current is None or current['resource_access'] != 'custom':
                raise MagentoInputError('resources is required with resource_access=custom: list the ACL resource ids '
                                        'to grant (an empty list grants nothing).')
            resources = [r for r in current['resources'] if r != ADMIN_RESOURCE]
        desired.update(resource_access='custom', resources=check_resources(resources, acl_ids))
    elif current is None:
        raise MagentoInputError('Creating integration %r needs its API resource access: set resource_access=all, or '
                                'resources (with resource_access=custom) to grant only those.' % params['name'])
    return desired


def overwrite_warning(name, first, second, after):
    """After a lost race (the bridge answered ``conflict`` and the run read again): the warning that this run then
    replaced what the other run had set, or None.

    ``first`` is the integration as this run first read it, ``second`` as it read it again (the other run's write),
    ``after`` as this run left it. The last writer wins, but not silently: the other run has already reported success
    for values that are gone now.
    """
    if second is None or after is None:
        return None
    theirs = [key for key in MANAGED_FIELDS[1:] if first is None or first.get(key) != second.get(key)]
    replaced = [key for key in theirs if second.get(key) != after.get(key)]
    if not replaced:
        return None
    return ('Integration %r was written by another run at the same time (%s), and this run then replaced what that '
            'run had set: %s. The last writer wins; make both runs ask for the same %s.' % (
                name, 'it created it' if first is None else 'after this run read it',
                '; '.join('%s %r -> %r' % (key, second.get(key), after.get(key)) for key in replaced),
                ' and '.join(replaced)))


def expected_fields(view):
    """The integration as this run read it, in the bridge's terms: a write is refused if it changed since."""
    return {'email': view['email'] or None, 'endpoint': view['callback_url'] or None, 'identity_link_url': view['identity_link_url'] or None,
            'all_resources': view['resource_access'] == 'all', 'resources': view['resources']}


def bridge_fields(view):
    """The integration.create / integration.update parameters for a view (always every field)."""
    return {
        'name': view['name'],
        'email': view['email'],
        'endpoint': view['callback_url'],
        'identity_link_url': view['identity_link_url'],
        'all_resources': view['resource_access'] == 'all',
        'resources': [] if view['resource_access'] == 'all' else [r for r in view['resources'] if r != ADMIN_RESOURCE],
    }


class Integrations(object):
    """Integration reads and writes over one host transport."""

    def __init__(self, transport):
        self.transport = transport

    def read(self, name, with_acl=False, with_info=False, with_secrets=False):
        """One bridge call: the integration (or None), and optionally the ACL ids and system info."""
        actions = [{'action': 'integration.get', 'name': name, 'with_secrets': with_secrets}]
        if with_acl:
            actions.append({'action': 'acl.resources'})
        if with_info:
            actions.append({'action': 'system.info'})
        results = self.transport.bridge(actions)
        found = dict(integration=results[0].get('integration'), credentials=results[0].get('credentials'))
        if with_acl:
            found['acl'] = results[1]['resources']
        if with_info:
            found['info'] = results[-1]
        return found

    @staticmethod
    def list_actions(names=None, with_acl=False):
        """The bridge actions of ``list``, for a caller that batches them with its own (one PHP process)."""
        actions = [{'action': 'integration.list'}]
        if names:
            actions[0]['names'] = names
        if with_acl:
            actions.append({'action': 'acl.resources'})
        return actions

    @staticmethod
    def list_results(results, with_acl=False):
        """(integrations, ACL ids or None) from the results of ``list_actions``."""
        return results[0]['integrations'], (results[1]['resources'] if with_acl else None)

    def list(self, names=None, with_acl=False):
        return self.list_results(self.transport.bridge(self.list_actions(names, with_acl)), with_acl)

    def read_many(self, names, with_acl=False, with_info=False, with_secrets=False, with_all=False):
        """One bridge call for several integrations: one found dict per name (as ``read`` returns), in order,
        and the ACL ids, system info and every integration of the store (``all``) once (on every found dict)."""
        actions = [{'action': 'integration.get', 'name': name, 'with_secrets': with_secrets} for name in names]
        extras = [(key, action, field) for key, wanted, action, field in (
            ('acl', with_acl, 'acl.resources', 'resources'), ('info', with_info, 'system.info', None),
            ('all', with_all, 'integration.list', 'integrations')) if wanted]
        actions.extend({'action': extra[1]} for extra in extras)
        results = self.transport.bridge(actions)
        extra = dict((key, result[field] if field else result)
                     for (key, _action, field), result in zip(extras, results[len(names):]))
        return [dict(extra, integration=result.get('integration'), credentials=result.get('credentials'))
                for result in results[:len(names)]]

    @staticmethod
    def create_action(view):
        return dict(bridge_fields(view), action='integration.create')

    @staticmethod
    def update_action(current, view):
        return dict(bridge_fields(view), action='integration.update', integration_id=current['id'], expect=expected_fields(current))

    @staticmethod
    def delete_action(current):
        return {'action': 'integration.delete', 'integration_id': current['id'], 'context': {'name': current['name']}}

    def write(self, actions):
        """Several create/update/delete actions in one bridge call; their results in order."""
        return self.transport.bridge(actions)
