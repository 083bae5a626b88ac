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

from ansible_collections.commerceops.magento.plugins.module_utils._diff import build_diff, mask_secrets
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoInputError
from ansible_collections.commerceops.magento.plugins.module_utils._plan import pending, plan

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


def setting_action(current, setting):
    """The action one setting needs (set, lock, delete or None) given its stored CONFIG_ITEM; raises for what Magento
    would refuse, so every setting is checked before any is written."""
    if not current.get('declared'):
        raise MagentoInputError('The "%s" path doesn\'t exist. Verify and try again. Magento accepts only paths '
                                'declared as fields in its system.xml (not groups, sections, or config.xml-only '
                                'paths).' % setting['path'])
    locked = current.get('locked')
    if setting['state'] == 'present':
        check_option(setting, current)
    if setting['state'] == 'absent':
        if locked:
            raise MagentoInputError('%s is locked in %s: remove it there; Magento cannot delete a locked value.'
                                    % (setting['path'], locked['source']))
        return 'delete' if current.get('exists') else None
    if setting['lock'] != 'none':
        wanted_source = LOCK_FILES[setting['lock']]
        done = (locked and locked['source'] == wanted_source and locked['scope'] == setting['scope']
                and same(locked.get('value'), setting['value']))
        return None if done else 'lock'
    if locked:
        if same(locked.get('value'), setting['value']):
            return None
        raise MagentoInputError(
            '%s is locked in %s at %s scope, so Magento will not change it (config:set says "The value you set '
            'has already been locked."). Change it in that file, or set lock=%s to overwrite the locked value.'
            % (setting['path'], locked['source'], locked['scope'],
               'config' if locked['source'].endswith('config.php') else 'env'))
    return None if current.get('exists') and same(current.get('value'), setting['value']) else 'set'


def plan_settings(settings, current_items):
    """The engine's steps for the settings and their stored CONFIG_ITEMs (one read); ``desired`` is the setting."""
    return plan(((key(setting), item, setting) for setting, item in zip(settings, current_items)),
                setting_action)


def stored_value(step):
    """The value in effect before the step: a locked value wins over the database's."""
    locked = step['current'].get('locked')
    return locked.get('value') if locked else step['current'].get('value')


def value_after(step):
    return None if step['action'] == 'delete' else step['desired']['value']


def is_sensitive(step):
    return bool(step['current'].get('sensitive'))


def predicted_invalidation(steps):
    """The cache types the steps' writes would make Magento mark invalidated (what a check run reports)."""
    changes = pending(steps)
    types = ['config'] if changes else []
    for step in changes:
        types.extend(extra for extra in EXTRA_INVALIDATION.get(step['desired']['path'], ()) if extra not in types)
    return types


BEARER_PATH = 'oauth/consumer/enable_integration_as_bearer'
BEARER_WARNING = (
    'This run turns integration-as-bearer on (%s = 1): every integration access token alone is now a working '
    'Bearer credential, and Magento itself logs each new access token in plain text to var/log/system.log and '
    'var/log/debug.log at every activation, rotation and exchange. Keep var/log readable only by the owner of '
    "Magento's files, rotate and purge those logs, and rotate the tokens if the logs were shared "
    '(docs/security.md).' % BEARER_PATH)


def bearer_warning(steps):
    """The warning to give when ``steps`` turn integration-as-bearer on, or None (SPEC 4.7)."""
    for step in pending(steps):
        if step['desired']['path'] == BEARER_PATH and value_after(step) not in (None, '', '0'):
            return BEARER_WARNING
    return None


def config_set_args(step):
    setting = step['desired']
    args = ['config:set']
    if setting['scope'] != 'default':
        args += ['--scope=' + setting['scope'], '--scope-code=' + setting['scope_code']]
    if step['action'] == 'lock':
        args.append('--lock-env' if setting['lock'] == 'env' else '--lock-config')
    # '--' so that a value starting with '-' is not read as an option.
    return args + ['--', setting['path'], setting['value']]


class ConfigWriter(object):
    def __init__(self, transport):
        self.transport = transport
        self._status_after_write = None  # the cache types as the deletions' bridge call read them after writing

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

    def write(self, steps):
        """The engine's writer: first every value and lock with config:set (one process each, in the order of the
        settings), then all deletions in one bridge call, which also reads the cache status once everything is written
        (for ``invalidated``, without a Magento bootstrap of its own). A failure stops there: the earlier saves stay
        done."""
        deletions = [step['desired'] for step in steps if step['action'] == 'delete']
        for step in steps:
            if step['action'] in ('set', 'lock'):
                self.transport.magento(config_set_args(step), attempted='Saving config %s' % step['key'])
        if deletions:
            results = self.transport.bridge([{'action': 'config.delete', 'items': [
                {'path': s['path'], 'scope': s['scope'], 'scope_code': s['scope_code']} for s in deletions]},
                {'action': 'cache.status'}])
            self._status_after_write = results[1]['types']

    def invalidated(self):
        """The cache types Magento marks invalidated after ``write``."""
        types = self._status_after_write
        if types is None:
            types = self.transport.bridge([{'action': 'cache.status'}])[0]['types']
        return [cache_type['id'] for cache_type in types if cache_type['invalidated']]


def config_diff(steps):
    """The settings that change, keyed ``scope[/code]:path``: the value before (None when none was stored) and after
    (None when deleted), sensitive values masked. A lock of the same value is a change too, so the plan names the
    keys."""
    changes = pending(steps)
    before = dict((step['key'], stored_value(step) if step['current'].get('exists') or step['current'].get('locked')
                   else None) for step in changes)
    after = dict((step['key'], value_after(step)) for step in changes)
    return build_diff(before, after, secret_keys=[step['key'] for step in changes if is_sensitive(step)],
                      keys=[step['key'] for step in changes])


def change_report(steps):
    """Each change: its setting, its action and the values before and after, sensitive ones masked."""
    report = []
    for step in pending(steps):
        setting = step['desired']
        values = mask_secrets({'before': stored_value(step), 'after': value_after(step)},
                              ('before', 'after') if is_sensitive(step) else ())
        report.append(dict(path=setting['path'], scope=setting['scope'], scope_code=setting['scope_code'],
                           action=step['action'], **values))
    return report
