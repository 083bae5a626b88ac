"""Magento configuration (SPEC §1.7, §8): scopes, declared paths, core_config_data, locks, invalidation.

* Declared field paths, their flags and the module config.xml defaults: ``data/config-paths.json``.
* Saved values: table ``core_config_data`` (scope ``default``/``websites``/``stores`` + numeric id;
  ``''`` stored as NULL; encrypted-backend fields stored as ``0:3:…``).
* Locks: the ``system`` block of app/etc/env.php and app/etc/config.php
  (``system/default/<path>``, ``system/websites/<code>/<path>``, ``system/stores/<code>/<path>``).
  A lock at ``default`` makes the field read-only at every scope (SettingChecker).
* Invalidation: a save that changes the effective value flags cache type ``config`` (and
  ``config_webservice`` for ``webapi/webapisecurity/allow_insecure``); every save then cleans the
  ``config`` entries (``ScopeConfig::clean()``), which leaves the flags as they are.
"""

import hashlib
import json
import os
import re

from magento_emulator import cache, crypto, phparray, store

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'config-paths.json')

ENV_PHP = 'app/etc/env.php'
CONFIG_PHP = 'app/etc/config.php'

MSG_DEFAULT_WITH_CODE = "The \"default\" scope can't include a scope code. Try again without entering a scope code."
MSG_SCOPE_MISSING = 'A scope is missing. Enter a scope and try again.'
MSG_CODE_MISSING = 'A scope code is missing. Enter a code and try again.'
MSG_CODE_FORMAT = ('The scope code can include only letters (a-z), numbers (0-9) and underscores (_). '
                   'Also, the first character must be a letter.')
MSG_NOT_EXIST = "The \"%s\" value doesn't exist. Enter another value and try again."
MSG_PATH = "The \"%s\" path doesn't exist. Verify and try again."
MSG_LOCKED = 'The value you set has already been locked. To change the value, use the --lock-env option.'
MSG_SAVED = 'Value was saved.'
MSG_SAVED_LOCKED = 'Value was saved in %s and locked.'

_CODE_RE = re.compile(r'^[a-z]+[a-z0-9_]*$', re.I)

# scope names config:set/config:show accept (Magento's ScopeResolverPool) → what is stored
CLI_SCOPES = {'default': 'default', 'website': 'websites', 'websites': 'websites',
              'store': 'stores', 'stores': 'stores', 'group': 'groups'}
# the bridge protocol speaks default/websites/stores only
BRIDGE_SCOPES = {'default': 'default', 'website': 'websites', 'websites': 'websites',
                 'store': 'stores', 'stores': 'stores'}

# paths whose change also invalidates more than `config` (CacheInvalidator plugins)
EXTRA_INVALIDATION = {'webapi/webapisecurity/allow_insecure': ('config_webservice',)}

EXC_VALIDATOR = 'Magento\\Framework\\Exception\\ValidatorException'
EXC_COULD_NOT_SAVE = 'Magento\\Framework\\Exception\\CouldNotSaveException'


class InputError(Exception):
    """Bad input (bridge kind ``input``)."""

    kind = 'input'

    def __init__(self, message, exception=None):
        super().__init__(message)
        self.message = message
        self.exception = exception


class ScopeError(InputError):
    """An invalid scope or scope code, with config:set's message (bridge kind ``input``)."""

    def __init__(self, message, exception=EXC_VALIDATOR):
        super().__init__(message, exception)


class MagentoError(Exception):
    """Magento refused the operation (bridge kind ``magento``)."""

    kind = 'magento'

    def __init__(self, message, exception=EXC_COULD_NOT_SAVE):
        super().__init__(message)
        self.message = message
        self.exception = exception


class PathError(MagentoError):
    """The path is not a declared field."""

    def __init__(self, path):
        super().__init__(MSG_PATH % path, EXC_VALIDATOR)
        self.path = path


# ---------------------------------------------------------------------------------------------- declared paths

_DATA = None


def _data():
    global _DATA
    if _DATA is None:
        with open(DATA_FILE, encoding='utf-8') as handle:
            _DATA = json.load(handle)
    return _DATA


def field(path):
    """The declared field's flags, or None."""
    return _data()['fields'].get(path)


def is_declared(path):
    return isinstance(path, str) and path in _data()['fields']


def is_encrypted(path):
    return bool((field(path) or {}).get('encrypted'))


def is_sensitive(path):
    flags = field(path) or {}
    return bool(flags.get('encrypted') or flags.get('sensitive') or flags.get('environment'))


def options_of(path):
    """(type, source model, [{value, label}] or None) of a declared field: the admin's dropdown, if it has one."""
    flags = field(path) or {}
    source = flags.get('source_model')
    options = _data()['source_models'][source] if source else None
    return flags.get('type', 'text'), source, [dict(option) for option in options] if options is not None else None


def xml_default(path):
    """The module config.xml default of a path, or None."""
    return _data()['defaults'].get(path)


def validate_path(path):
    if not is_declared(path):
        raise PathError(path)


# ---------------------------------------------------------------------------------------------- scopes

def _lookup_code(conn, scope, code):
    if scope == 'websites':
        row = conn.execute('SELECT website_id AS id, code FROM store_website WHERE code = ?', (code,)).fetchone()
    elif scope == 'stores':
        row = conn.execute('SELECT store_id AS id, code FROM store WHERE code = ?', (code,)).fetchone()
    else:
        row = None  # the group resolver finds nothing by code (observed)
    if row is None or row['code'] != code:  # codes are case-sensitive
        return None
    return int(row['id'])


def resolve_scope(conn, scope, code, names=None):
    """Validate (config:set's order and messages) and resolve: (scope as stored, code, scope id)."""
    names = CLI_SCOPES if names is None else names
    scope = 'default' if scope is None else scope
    code = '' if code is None else code
    if scope == 'default':
        if code != '':
            raise ScopeError(MSG_DEFAULT_WITH_CODE)
        return 'default', '', 0
    if scope == '':
        raise ScopeError(MSG_SCOPE_MISSING)
    if code == '':
        raise ScopeError(MSG_CODE_MISSING)
    if not _CODE_RE.match(code):
        raise ScopeError(MSG_CODE_FORMAT)
    if scope not in names:
        raise ScopeError(MSG_NOT_EXIST % scope)
    stored = names[scope]
    scope_id = _lookup_code(conn, stored, code)
    if scope_id is None:
        raise ScopeError(MSG_NOT_EXIST % code)
    return stored, code, scope_id


def scope_code_of(conn, scope, scope_id):
    """The code of a website/store id ('' for default, None when unknown)."""
    if scope == 'default':
        return ''
    if scope in ('websites', 'website'):
        row = conn.execute('SELECT code FROM store_website WHERE website_id = ?', (scope_id,)).fetchone()
    elif scope in ('stores', 'store'):
        row = conn.execute('SELECT code FROM store WHERE store_id = ?', (scope_id,)).fetchone()
    else:
        row = None
    return None if row is None else row['code']


# ---------------------------------------------------------------------------------------------- deployed values

def _file(root, rel):
    return os.path.join(str(root), rel)


def _load(root, rel):
    data = phparray.load_file(_file(root, rel), default={})
    return data if isinstance(data, dict) else {}


def _dig(data, keys):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return False, None
        data = data[key]
    return True, data


def _scope_keys(scope, code):
    if scope == 'default':
        return [['default']]
    return [[scope, code], [scope.rstrip('s'), code]]  # Magento writes the plural; accept the singular too


def php_string(value):
    """A deployed (PHP) value as the string the config model sees."""
    if value is None:
        return None
    if value is True:
        return '1'
    if value is False:
        return ''
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def deployed_value(root, path, scope, code, files=None, raw=False):
    """(source, value) of the value deployed for ``path`` at exactly that scope, or None.

    env.php wins over config.php (its values are merged last). ``raw``: the PHP value as loaded,
    else as the string the config model sees."""
    parts = path.strip('/').split('/')
    files = files or {ENV_PHP: _load(root, ENV_PHP), CONFIG_PHP: _load(root, CONFIG_PHP)}
    for rel in (ENV_PHP, CONFIG_PHP):
        data = files[rel]
        for keys in _scope_keys(scope, code):
            found, value = _dig(data, ['system'] + keys + parts)
            if found and value is not None and not isinstance(value, (dict, list)):
                return rel, value if raw else php_string(value)
    return None


def lock_of(root, path, scope, code, files=None):
    """``locked`` of a CONFIG_ITEM: the deployed value at ``default`` (wins) or at the item's scope."""
    files = files or {ENV_PHP: _load(root, ENV_PHP), CONFIG_PHP: _load(root, CONFIG_PHP)}
    candidates = [('default', '')] + ([] if scope == 'default' else [(scope, code)])
    for lock_scope, lock_code in candidates:
        found = deployed_value(root, path, lock_scope, lock_code, files, raw=True)
        if found is not None:
            value = found[1]
            value = ('1' if value else '0') if isinstance(value, bool) else php_string(value)
            return {'source': found[0], 'scope': lock_scope, 'value': value}
    return None


def _write_lock(root, rel, path, scope, code, value):
    data = _load(root, rel)
    node = data.setdefault('system', {})
    keys = _scope_keys(scope, code)[0] + path.strip('/').split('/')
    for key in keys[:-1]:
        child = node.get(key) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value
    phparray.dump_file(_file(root, rel), data)


def _update_config_hash(root, conn):
    """``flag.config_hash``: a sha1 of the deployed ``system`` sections (what app:config:import compares)."""
    merged = {rel: _load(root, rel).get('system') for rel in (CONFIG_PHP, ENV_PHP)}
    digest = hashlib.sha1(json.dumps(merged, sort_keys=True, default=str).encode('utf-8')).hexdigest()
    flag_data = json.dumps({'system': digest}, separators=(',', ':'))
    row = conn.execute("SELECT flag_id FROM flag WHERE flag_code = 'config_hash'").fetchone()
    if row is None:
        conn.execute("INSERT INTO flag (flag_code, state, flag_data) VALUES ('config_hash', 0, ?)", (flag_data,))
    else:
        conn.execute('UPDATE flag SET flag_data = ? WHERE flag_id = ?', (flag_data, row['flag_id']))


# ---------------------------------------------------------------------------------------------- database

def db_row(conn, path, scope, scope_id):
    """(exists, raw value) of the core_config_data row at exactly (scope, scope_id, path)."""
    row = conn.execute('SELECT value FROM core_config_data WHERE scope = ? AND scope_id = ? AND path = ?',
                       (scope, scope_id, path)).fetchone()
    if row is None:
        return False, None
    return True, None if row['value'] is None else str(row['value'])


def _decrypt_if_needed(root, path, value):
    if value in (None, '') or not is_encrypted(path):
        return value
    return crypto.decrypt(root, value)


# ---------------------------------------------------------------------------------------------- effective value

def _chain(conn, scope, scope_id):
    """Scope levels from the broadest to ``scope``: [(scope, id, code)]."""
    scope = BRIDGE_SCOPES.get(scope, scope)
    levels = [('default', 0, '')]
    if scope == 'websites':
        levels.append(('websites', int(scope_id), scope_code_of(conn, 'websites', scope_id) or ''))
    elif scope == 'stores':
        row = conn.execute('SELECT website_id, code FROM store WHERE store_id = ?', (scope_id,)).fetchone()
        if row is not None:
            website_id = int(row['website_id'])
            levels.append(('websites', website_id, scope_code_of(conn, 'websites', website_id) or ''))
            levels.append(('stores', int(scope_id), row['code']))
        else:
            levels.append(('stores', int(scope_id), ''))
    return levels


def read_value(root, path, scope='default', scope_id=0, conn=None):
    """The value Magento's scope config returns: config.xml default < DB < config.php < env.php at each
    level, narrower levels (website, store view) over broader ones; encrypted fields decrypted."""
    own = conn is None
    conn = conn or store.connect(root)
    try:
        files = {ENV_PHP: _load(root, ENV_PHP), CONFIG_PHP: _load(root, CONFIG_PHP)}
        value = xml_default(path)
        for level, level_id, code in _chain(conn, scope, scope_id):
            exists, raw = db_row(conn, path, level, level_id)
            if exists:
                value = raw
            if level == 'default' or code:
                found = deployed_value(root, path, level, code, files)
                if found is not None:
                    value = found[1]
        return _decrypt_if_needed(root, path, value)
    finally:
        if own:
            conn.close()


def _php_loose_equal(a, b):
    """PHP 8 ``==`` between two config values (strings or null)."""
    a = '' if a is None else str(a)
    b = '' if b is None else str(b)
    if a == b:
        return True

    def num(text):
        try:
            return float(text.strip()) if re.fullmatch(r'\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*', text) else None
        except ValueError:
            return None
    na, nb = num(a), num(b)
    return na is not None and nb is not None and na == nb


# ---------------------------------------------------------------------------------------------- config:set

def _invalidate_for(root, path):
    cache.invalidate(root, ('config',) + EXTRA_INVALIDATION.get(path, ()))


def _backend_value(root, path, value):
    """Run the backend model: (value to store, save allowed). Encrypted fields are encrypted; a masked
    value (``******``) is not saved."""
    if value is None:
        value = ''
    if is_encrypted(path):
        if re.fullmatch(r'\*+', value):
            return None, False
        if value != '':
            return crypto.encrypt(root, value), True
    return value, True


def set_value(root, path, value, scope='default', scope_code=None, lock=None):
    """``bin/magento config:set``; returns the success message; raises ScopeError / MagentoError.

    ``lock``: None, ``'env'`` (--lock-env) or ``'config'`` (--lock-config)."""
    conn = store.connect(root)
    try:
        scope, code, scope_id = resolve_scope(conn, scope, scope_code)
        validate_path(path)
        files = {ENV_PHP: _load(root, ENV_PHP), CONFIG_PHP: _load(root, CONFIG_PHP)}
        old = read_value(root, path, scope, scope_id, conn=conn)
        if lock:
            rel = ENV_PHP if lock == 'env' else CONFIG_PHP
            stored, allowed = _backend_value(root, path, value)
            if allowed:
                _write_lock(root, rel, path, scope, code, stored)
                if is_encrypted(path) or not _php_loose_equal(value, old):
                    _invalidate_for(root, path)
            with store.transaction(conn):
                _update_config_hash(root, conn)
            cache.clean_entries(root, 'config')
            return MSG_SAVED_LOCKED % rel
        if deployed_value(root, path, scope, code, files) is not None:
            raise MagentoError(MSG_LOCKED)
        # the config model skips fields that are read-only here (a lock at default scope)
        if lock_of(root, path, scope, code, files) is None:
            stored, allowed = _backend_value(root, path, value)
            if allowed:
                with store.transaction(conn):
                    conn.execute('INSERT INTO core_config_data (scope, scope_id, path, value) VALUES (?, ?, ?, ?) '
                                 'ON CONFLICT (scope, scope_id, path) DO UPDATE SET value = excluded.value',
                                 (scope, scope_id, path, None if stored == '' else stored))
                    _update_config_hash(root, conn)
                if (is_encrypted(path) and value != '') or not _php_loose_equal(value, old):
                    _invalidate_for(root, path)
        cache.clean_entries(root, 'config')
        return MSG_SAVED
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- config:show

MASK = '******'


def _shown(path, value):
    if value is None:
        return ''
    if is_encrypted(path) and value != '':
        return MASK
    return value


def show(root, path=None, scope='default', scope_code=None):
    """``bin/magento config:show``: the lines to print (without newlines); raises ScopeError / PathError."""
    conn = store.connect(root)
    try:
        scope, code, scope_id = resolve_scope(conn, scope, scope_code)
        files = {ENV_PHP: _load(root, ENV_PHP), CONFIG_PHP: _load(root, CONFIG_PHP)}
        if path:
            validate_path(path)
            found = deployed_value(root, path, scope, code, files)
            if found is not None:
                return [_shown(path, found[1])]
            return [_shown(path, db_row(conn, path, scope, scope_id)[1])]
        tree = {}
        rows = conn.execute('SELECT path, value FROM core_config_data WHERE scope = ? AND scope_id = ? '
                            'ORDER BY config_id', (scope, scope_id)).fetchall()
        for row in rows:
            _tree_set(tree, row['path'].split('/'), None if row['value'] is None else str(row['value']))
        for rel in (CONFIG_PHP, ENV_PHP):
            for keys in reversed(_scope_keys(scope, code)):
                found, block = _dig(files[rel], ['system'] + keys)
                if found and isinstance(block, dict):
                    _tree_merge(tree, block)
        lines = []
        _flatten(tree, [], lines)
        return lines
    finally:
        conn.close()


def _tree_set(tree, parts, value):
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _tree_merge(tree, block):
    for key, value in block.items():
        key = str(key)
        if isinstance(value, dict):
            child = tree.get(key)
            if not isinstance(child, dict):
                child = {}
                tree[key] = child
            _tree_merge(child, value)
        elif not isinstance(value, list):
            tree[key] = php_string(value)


def _flatten(tree, prefix, lines):
    for key, value in tree.items():
        parts = prefix + [key]
        if isinstance(value, dict):
            _flatten(value, parts, lines)
        else:
            path = '/'.join(parts)
            lines.append('%s - %s' % (path, _shown(path, value)))


# ---------------------------------------------------------------------------------------------- bridge

def _item_path(item):
    if not isinstance(item, dict):
        raise InputError('The parameter "items" must be a list of {"path", "scope", "scope_code"} objects.')
    path = item.get('path')
    if path is None:
        raise InputError('The parameter "path" is missing.')
    if not isinstance(path, str):
        raise InputError('The parameter "path" must be a string.')
    if path.strip() == '':
        raise InputError('The parameter "path" must not be empty.')
    return path


def _item_fields(conn, item):
    path = _item_path(item)
    scope = item.get('scope')
    code = item.get('scope_code')
    if (scope is not None and not isinstance(scope, str)) or (code is not None and not isinstance(code, str)):
        raise InputError('The parameters "scope" and "scope_code" must be strings.')
    scope = 'default' if scope is None else scope
    code = '' if code is None else code
    # The PHP bridge's guard (the client checks scope and code first, with its own messages); unknown codes are
    # Magento's answer.
    if scope not in BRIDGE_SCOPES or (scope == 'default') != (code == '') or (code and not _CODE_RE.match(code)):
        raise InputError('Invalid scope "%s" with scope code "%s".' % (scope, code))
    try:
        scope, code, scope_id = resolve_scope(conn, scope, code, BRIDGE_SCOPES)
    except ScopeError as exc:   # an unknown code: Magento's answer, through the bridge
        raise ScopeError(exc.message, exception=None)
    return path, scope, code, scope_id


def get_items(root, items):
    """Bridge ``config.get``: [CONFIG_ITEM] (docs/bridge-protocol.md)."""
    conn = store.connect(root)
    try:
        files = {ENV_PHP: _load(root, ENV_PHP), CONFIG_PHP: _load(root, CONFIG_PHP)}
        out = []
        for item in items:
            path, scope, code, scope_id = _item_fields(conn, item)
            declared = is_declared(path)
            exists, value = db_row(conn, path, scope, scope_id)
            out.append({'path': path, 'scope': scope, 'scope_code': code, 'scope_id': scope_id,
                        'declared': declared, 'sensitive': is_sensitive(path), 'exists': exists,
                        'value': _decrypt_if_needed(root, path, value),
                        'locked': lock_of(root, path, scope, code, files)})
        return out
    finally:
        conn.close()


def options_items(items):
    """Bridge ``config.options``: each item's field type and source-model options (null without a dropdown)."""
    out = []
    for item in items:
        path = _item_path(item)
        kind, source, options = options_of(path) if is_declared(path) else (None, None, None)
        out.append({'path': path, 'declared': is_declared(path), 'type': kind, 'source_model': source,
                    'options': options})
    return out


def delete_items(root, items):
    """Bridge ``config.delete``: delete each row (validated and lock-checked first), then clean the
    ``config`` cache entries. [{path, scope, scope_code, deleted}]."""
    conn = store.connect(root)
    try:
        files = {ENV_PHP: _load(root, ENV_PHP), CONFIG_PHP: _load(root, CONFIG_PHP)}
        plan = []
        for item in items:
            path, scope, code, scope_id = _item_fields(conn, item)
            if lock_of(root, path, scope, code, files) is not None:
                raise InputError('Config path "%s" is locked at %s scope: not deleted.' % (path, scope))
            plan.append((path, scope, code, scope_id))
        out = []
        with store.transaction(conn):
            for path, scope, code, scope_id in plan:
                cursor = conn.execute('DELETE FROM core_config_data WHERE scope = ? AND scope_id = ? AND path = ?',
                                      (scope, scope_id, path))
                out.append({'path': path, 'scope': scope, 'scope_code': code, 'deleted': cursor.rowcount > 0})
        cache.clean_entries(root, 'config')
        return out
    finally:
        conn.close()
