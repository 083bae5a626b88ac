# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Config values: read through the bridge, written with bin/magento config:set. Internal to this collection.

Values are read from Magento's database through the bridge, not parsed from
``config:show`` (which hides stored ``0`` and empty values on some versions,
SPEC §8.3). Writes go through ``config:set`` so Magento's backend models,
validation, encryption and cache invalidation run.
"""

from __future__ import annotations

import re

from ansible_collections.commerceops.magento.plugins.module_utils._diff import MASK
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoInputError

SCOPES = {'default': 'default', 'website': 'websites', 'websites': 'websites', 'store': 'stores', 'stores': 'stores'}
PATH_PATTERN = re.compile(r'^[A-Za-z0-9_]+(/[A-Za-z0-9_]+){2,}$')
SCOPE_CODE_PATTERN = re.compile(r'^[a-z][a-z0-9_]*$', re.IGNORECASE)
LOCK_FILES = {'env': 'app/etc/env.php', 'config': 'app/etc/config.php'}
GUEST_ACCESS_PATH = 'webapi/webapisecurity/allow_insecure'
# Cache types a saved value invalidates besides config: Magento's WebapiSecurity plugin (its CacheInvalidator)
# invalidates config_webservice for its own path only (SPEC §7).
EXTRA_INVALIDATION = {GUEST_ACCESS_PATH: ('config_webservice',)}


def config_value(value):
    """Magento stores text: booleans become 1/0, numbers their decimal form, null an empty value."""
    if value is None:
        return ''
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        try:
            value.encode('utf-8')
        except UnicodeError:
            raise MagentoInputError('value of %r is not valid UTF-8 text.' % value)
        return value
    raise MagentoInputError('value must be text, a number or a boolean, not %s.' % type(value).__name__)


def normalise_setting(raw, where='settings'):
    """Validate one setting; returns {path, value, scope, scope_code, state, lock}."""
    path = raw.get('path')
    if not isinstance(path, str) or not PATH_PATTERN.match(path or ''):
        raise MagentoInputError('%s: path %r is not a config path: expected section/group/field, for example '
                                'webapi/webapisecurity/allow_insecure.' % (where, path))
    scope = raw.get('scope') or 'default'
    if scope not in SCOPES:
        raise MagentoInputError('%s: scope %r of %s is unknown: use default, website or store.' % (where, scope, path))
    scope = SCOPES[scope]
    code = raw.get('scope_code') or ''
    if scope == 'default' and code:
        raise MagentoInputError('%s: the "default" scope can\'t include a scope code (%s has scope_code %r): remove '
                                'scope_code or set scope to website or store.' % (where, path, code))
    if scope != 'default' and not code:
        raise MagentoInputError('%s: scope %s of %s needs scope_code, the website or store view code (for example '
                                'base or default).' % (where, scope, path))
    if code and not SCOPE_CODE_PATTERN.match(code):
        raise MagentoInputError('%s: scope_code %r of %s: the scope code can include only letters (a-z), numbers '
                                '(0-9) and underscores (_), and starts with a letter.' % (where, code, path))
    state = raw.get('state') or 'present'
    lock = raw.get('lock') or 'none'
    if state == 'present' and raw.get('value') is None:
        raise MagentoInputError('%s: value is required for %s with state=present (use state=absent to remove it, '
                                'or an empty string to store an empty value).' % (where, path))
    if state == 'absent' and lock != 'none':
        raise MagentoInputError('%s: lock is only used with state=present (%s).' % (where, path))
    return {'path': path, 'value': config_value(raw.get('value')) if state == 'present' else None,
            'scope': scope, 'scope_code': code, 'state': state, 'lock': lock}


def key(item):
    return '%s:%s' % (item['scope'] + ('/' + item['scope_code'] if item['scope_code'] else ''), item['path'])


def same(stored, wanted):
    """Magento stores '' as NULL (SPEC §1.7)."""
    return (stored or '') == (wanted or '')


def check_option(setting, field):
    """A field with a dropdown in the admin (a source model) takes only its options; config:set does not check them."""
    options = field.get('options')
    if options is None or field.get('type') not in ('select', 'multiselect'):
        return
    allowed = [option['value'] for option in options]
    wanted = setting['value'].split(',') if field['type'] == 'multiselect' and setting['value'] else [setting['value']]
    unknown = [value for value in wanted if value not in allowed]
    if unknown:
        shown = ', '.join('%s (%s)' % (option['value'], option['label']) for option in options)
        raise MagentoInputError('%s: %s is not among the options of this %s field: %s.' % (
            key(setting), ', '.join(repr(value) for value in unknown),
            'multiple-choice' if field['type'] == 'multiselect' else 'drop-down', shown))


class ConfigPlan(object):
    """What to do for each setting, decided from one read; every check runs before any write."""

    def __init__(self, settings, current_items):
        self.steps = []
        for setting, current in zip(settings, current_items):
            self.steps.append(self._decide(setting, current))

    @staticmethod
    def _decide(setting, current):
        if not current.get('declared'):
            raise MagentoInputError('The "%s" path doesn\'t exist. Verify and try again. Magento accepts only paths '
                                    'declared as fields in its system.xml (not groups, sections, or config.xml-only '
                                    'paths).' % setting['path'])
        locked = current.get('locked')
        step = dict(setting, sensitive=bool(current.get('sensitive')), before=current.get('value'),
                    existed=bool(current.get('exists')), locked=locked, action=None)
        if setting['state'] == 'present':
            check_option(setting, current)
        if setting['state'] == 'absent':
            if locked:
                raise MagentoInputError('%s is locked in %s: remove it there; Magento cannot delete a locked value.'
                                        % (setting['path'], locked['source']))
            step['action'] = 'delete' if current.get('exists') else None
            return step
        if setting['lock'] != 'none':
            wanted_source = LOCK_FILES[setting['lock']]
            done = (locked and locked['source'] == wanted_source and locked['scope'] == setting['scope']
                    and same(locked.get('value'), setting['value']))
            step['before'] = locked.get('value') if locked else current.get('value')
            step['action'] = None if done else 'lock'
            return step
        if locked:
            if same(locked.get('value'), setting['value']):
                step['before'] = locked.get('value')
                return step
            raise MagentoInputError(
                '%s is locked in %s at %s scope, so Magento will not change it (config:set says "The value you set '
                'has already been locked."). Change it in that file, or set lock=%s to overwrite the locked value.'
                % (setting['path'], locked['source'], locked['scope'],
                   'config' if locked['source'].endswith('config.php') else 'env'))
        step['action'] = None if current.get('exists') and same(current.get('value'), setting['value']) else 'set'
        return step

    @property
    def changes(self):
        return [step for step in self.steps if step['action']]


def predicted_invalidation(plan):
    """The cache types the plan's writes would make Magento mark invalidated (what a check run reports)."""
    types = ['config'] if plan.changes else []
    for step in plan.changes:
        types.extend(extra for extra in EXTRA_INVALIDATION.get(step['path'], ()) if extra not in types)
    return types


BEARER_PATH = 'oauth/consumer/enable_integration_as_bearer'
BEARER_WARNING = (
    'This run turns integration-as-bearer on (%s = 1): every integration access token alone is now a working '
    'Bearer credential, and Magento itself logs each new access token in plain text to var/log/system.log and '
    'var/log/debug.log at every activation, rotation and exchange. Keep var/log readable only by the owner of '
    "Magento's files, rotate and purge those logs, and rotate the tokens if the logs were shared "
    '(docs/security.md).' % BEARER_PATH)


def bearer_warning(plan):
    """The warning to give when ``plan`` turns integration-as-bearer on, or None (SPEC 4.7)."""
    for step in plan.changes:
        if step['path'] == BEARER_PATH and step['action'] in ('set', 'lock') and step['value'] not in (None, '', '0'):
            return BEARER_WARNING
    return None


def config_set_args(step):
    args = ['config:set']
    if step['scope'] != 'default':
        args += ['--scope=' + step['scope'], '--scope-code=' + step['scope_code']]
    if step['action'] == 'lock':
        args.append('--lock-env' if step['lock'] == 'env' else '--lock-config')
    # '--' so that a value starting with '-' is not read as an option.
    return args + ['--', step['path'], step['value']]


def public(step, value_key):
    value = step[value_key]
    return MASK if step['sensitive'] and value not in (None, '') else value


class ConfigWriter(object):
    def __init__(self, transport):
        self.transport = transport

    def read(self, settings, with_cache_status=False):
        """(each setting's CONFIG_ITEM with its field's ``type`` and ``options``, cache types): one bridge call."""
        actions = [{'action': 'config.get', 'items': [
            {'path': s['path'], 'scope': s['scope'], 'scope_code': s['scope_code']} for s in settings]},
            {'action': 'config.options', 'items': [{'path': s['path']} for s in settings]}]
        if with_cache_status:
            actions.append({'action': 'cache.status'})
        results = self.transport.bridge(actions)
        items = [dict(item, type=field['type'], options=field['options'])
                 for item, field in zip(results[0]['items'], results[1]['items'])]
        return items, (results[2]['types'] if with_cache_status else None)

    def write(self, plan):
        """Apply the plan's changes: first every value and lock with config:set (one process each, in the order of the
        settings), then all deletions in one bridge call. A failure stops there: the earlier saves stay done."""
        deletions = [step for step in plan.changes if step['action'] == 'delete']
        for step in plan.changes:
            if step['action'] in ('set', 'lock'):
                self.transport.magento(config_set_args(step), attempted='Saving config %s' % key(step))
        if deletions:
            self.transport.bridge([{'action': 'config.delete', 'items': [
                {'path': s['path'], 'scope': s['scope'], 'scope_code': s['scope_code']} for s in deletions]}])

    def invalidated(self):
        return [t['id'] for t in self.transport.bridge([{'action': 'cache.status'}])[0]['types'] if t['invalidated']]


def diff_of(plan):
    before, after = {}, {}
    for step in plan.changes:
        before[key(step)] = public(step, 'before') if step['existed'] or step['locked'] else None
        after[key(step)] = None if step['action'] == 'delete' else public(step, 'value')
    return {'before': before, 'after': after}


def change_report(plan):
    return [{'path': s['path'], 'scope': s['scope'], 'scope_code': s['scope_code'], 'action': s['action'],
             'before': public(s, 'before'), 'after': None if s['action'] == 'delete' else public(s, 'value')}
            for s in plan.changes]
