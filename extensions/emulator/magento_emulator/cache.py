"""Magento's cache types (SPEC §9): enabled flags, invalidated flags, entries, clean/flush/enable/disable.

State on disk (extensions/emulator/DESIGN.md):

* enabled flags: ``cache_types`` of app/etc/env.php (a type missing there counts as disabled);
* invalidated flags: ``var/cache/invalidated.json`` (the ``core_cache_invalidate`` entry of the default
  cache frontend: ``{"config": 1, ...}``; absent = nothing invalidated);
* entries: ``var/cache/<type>/<key>.json``.

As on the real store, every type but ``full_page`` shares the default cache storage, so flushing any
of them wipes that whole storage (all their entries and the invalidated list); ``full_page`` lives in
the separate page-cache storage.
"""

import json
import os
import re
import shutil
import tempfile

from magento_emulator import phparray

# id, label: cache-config order (SPEC §9.1, as `cache:status` lists them); shared with the PHP stand-ins (php/)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'cache-types.json'), encoding='utf-8') as _handle:
    TYPES = tuple((entry['id'], entry['label']) for entry in json.load(_handle))
TYPE_IDS = tuple(type_id for type_id, label in TYPES)
LABELS = dict(TYPES)
PAGE_CACHE_TYPES = ('full_page',)  # the only type outside the default cache storage

INVALIDATED_FILE = 'invalidated.json'


class UnsupportedTypesError(ValueError):
    """Requested ids that are not cache types (AbstractCacheManageCommand's InvalidArgumentException)."""

    kind = 'input'
    exception = 'InvalidArgumentException'

    def __init__(self, unsupported):
        self.unsupported = list(unsupported)
        self.message = ("The following requested cache types are not supported: '%s'.\nSupported types: %s"
                        % ("', '".join(self.unsupported), ', '.join(TYPE_IDS)))
        super().__init__(self.message)


# ---------------------------------------------------------------------------------------------- paths

def cache_dir(root):
    return os.path.join(str(root), 'var', 'cache')


def env_php_path(root):
    return os.path.join(str(root), 'app', 'etc', 'env.php')


def invalidated_path(root):
    return os.path.join(cache_dir(root), INVALIDATED_FILE)


def _safe_key(key):
    key = str(key)
    if re.fullmatch(r'[A-Za-z0-9_.-]+', key) and key not in ('.', '..'):
        return key
    return re.sub(r'[^A-Za-z0-9_.-]', lambda m: '%%%02X' % ord(m.group(0)) if ord(m.group(0)) < 256
                  else '%%u%04X' % ord(m.group(0)), key).replace('..', '%2E%2E')


def entry_path(root, type_id, key):
    return os.path.join(cache_dir(root), type_id, _safe_key(key) + '.json')


def _write_json(path, data):
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---------------------------------------------------------------------------------------------- requested ids

def requested(type_ids):
    """``getRequestedTypes``: none → all; else validate, then config order without duplicates."""
    ids = [t.strip() for t in (type_ids or []) if t is not None and t.strip() != '']
    if not ids:
        return list(TYPE_IDS)
    unsupported = [t for t in ids if t not in LABELS]
    if unsupported:
        raise UnsupportedTypesError(unsupported)
    return [t for t in TYPE_IDS if t in ids]


# ---------------------------------------------------------------------------------------------- enabled flags

def _env(root):
    return phparray.load_file(env_php_path(root), default={}) or {}


def enabled_map(root):
    """{type id: bool} from env.php ``cache_types`` (missing → disabled)."""
    flags = _env(root).get('cache_types') or {}
    if not isinstance(flags, dict):
        flags = {}
    return {t: bool(flags.get(t)) for t in TYPE_IDS}


def is_enabled(root, type_id):
    return enabled_map(root).get(type_id, False)


def set_enabled(root, type_ids, enabled):
    """``Manager::setEnabled``: the ids whose state changed (config order); env.php rewritten if any."""
    env = _env(root)
    flags = env.get('cache_types')
    if not isinstance(flags, dict):
        flags = {}
    value = 1 if enabled else 0
    changed = [t for t in requested(type_ids) if bool(flags.get(t)) != bool(enabled)]
    if changed:
        for type_id in changed:
            flags[type_id] = value
        env['cache_types'] = flags
        phparray.dump_file(env_php_path(root), env)
    return changed


# ---------------------------------------------------------------------------------------------- invalidated flags

def invalidated_raw(root):
    """The raw invalidated entry as a dict (every flagged type, enabled or not); {} when absent."""
    try:
        with open(invalidated_path(root), encoding='utf-8') as handle:
            data = json.load(handle)
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def invalidated(root):
    """``TypeList::getInvalidated()``: flagged types that are declared and enabled, config order."""
    raw = invalidated_raw(root)
    enabled = enabled_map(root)
    return [t for t in TYPE_IDS if raw.get(t) and enabled[t]]


def invalidate(root, type_ids):
    """``TypeList::invalidate``: add ``{type: 1}`` for each id."""
    if isinstance(type_ids, str):
        type_ids = [type_ids]
    raw = invalidated_raw(root)
    missing = [t for t in type_ids if not raw.get(t)]
    if missing:
        for type_id in missing:
            raw[type_id] = 1
        _write_json(invalidated_path(root), raw)


def _unflag(root, type_ids):
    path = invalidated_path(root)
    if not os.path.exists(path):
        return
    raw = invalidated_raw(root)
    for type_id in type_ids:
        raw.pop(type_id, None)
    _write_json(path, raw)


# ---------------------------------------------------------------------------------------------- entries

def clean_entries(root, type_id):
    """Remove a type's entries (its folder); the invalidated flag is left alone."""
    shutil.rmtree(os.path.join(cache_dir(root), type_id), ignore_errors=True)


def load(root, type_id, key):
    """A cached object, or None when it is not cached (cleaned, never saved) or the type is disabled."""
    if type_id not in LABELS or not is_enabled(root, type_id):
        return None
    try:
        with open(entry_path(root, type_id, key), encoding='utf-8') as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return None


def save(root, type_id, key, obj):
    """Cache ``obj`` (JSON-serialisable) under a type; not stored (returns False) when the type is disabled."""
    if type_id not in LABELS:
        raise UnsupportedTypesError([type_id])
    if not is_enabled(root, type_id):
        return False
    _write_json(entry_path(root, type_id, key), obj)
    return True


# ---------------------------------------------------------------------------------------------- commands

def clean(root, type_ids=None):
    """``cache:clean``: each requested type's entries go and its invalidated flag is cleared."""
    types = requested(type_ids)
    for type_id in types:
        clean_entries(root, type_id)
    _unflag(root, types)
    return types


def flush(root, type_ids=None):
    """``cache:flush``: flush the storage of the requested types (the default storage takes the
    invalidated list and every entry of the types sharing it with it)."""
    types = requested(type_ids)
    if any(t not in PAGE_CACHE_TYPES for t in types):
        for type_id in TYPE_IDS:
            if type_id not in PAGE_CACHE_TYPES:
                clean_entries(root, type_id)
        try:
            os.unlink(invalidated_path(root))
        except FileNotFoundError:
            pass
    for type_id in PAGE_CACHE_TYPES:
        if type_id in types:
            clean_entries(root, type_id)
    return types


def enable(root, type_ids=None):
    """``cache:enable``: the changed ids (config order); those are cleaned as well."""
    changed = set_enabled(root, type_ids, True)
    if changed:
        clean(root, changed)
    return changed


def disable(root, type_ids=None):
    """``cache:disable``: the changed ids (config order)."""
    return set_enabled(root, type_ids, False)


def status(root):
    """[{id, label, enabled, invalidated}] in cache-config order (bridge action ``cache.status``)."""
    enabled = enabled_map(root)
    flagged = set(invalidated(root))
    return [{'id': t, 'label': label, 'enabled': enabled[t], 'invalidated': t in flagged} for t, label in TYPES]
