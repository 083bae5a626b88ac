"""The files Magento itself writes under its root when a PHP process boots it (SPEC §15, §4.7).

Every PHP process (``bin/magento``, the bridge) bootstraps Magento, and a bootstrap writes, with the
owner of the process:

* the generated classes it lacks under ``generated/code`` (interceptors, factories, proxies): after a
  deploy has emptied ``generated/``, the first process writes them all; each file is written to
  ``<file>.<pid>`` and renamed, as Magento's code generator does;
* cache entries under ``var/cache`` (the merged configuration it loads).

A process that cannot write ``var/cache`` fails in the cache frontend's constructor, before anything
else, with Zend_Cache's message; one that cannot write ``generated/code`` fails with the file
driver's message. Both are what a process run as the wrong user meets on a real store.

Magento's own log lines go to ``var/log/system.log`` and ``var/log/debug.log`` (Monolog's line format).
"""

import datetime
import json
import os

from magento_emulator import cache

# data/bootstrap-files.json, shared with the PHP stand-ins: the classes a bootstrap in the adminhtml area
# generates first (a sample of the real list; the first ones a web request needs, so a root-owned copy of them
# breaks every page), and its config cache entry.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'bootstrap-files.json'),
          encoding='utf-8') as _handle:
    _DATA = json.load(_handle)
GENERATED_CLASSES = tuple(_DATA['generated_classes'])
BOOTSTRAP_CACHE_TYPE = _DATA['cache_type']
BOOTSTRAP_CACHE_KEY = _DATA['cache_key']

EXC_CACHE = 'Zend_Cache_Exception'
EXC_FILESYSTEM = 'Magento\\Framework\\Exception\\FileSystemException'


class BootstrapError(Exception):
    """Magento failed while booting; nothing ran."""

    kind = 'bootstrap'

    def __init__(self, message, exception):
        super().__init__(message)
        self.message = message
        self.exception = exception


def boot(root):
    """What a bootstrap writes (see the module docstring); raises BootstrapError as Magento fails."""
    root = str(root)
    cache_dir = cache.cache_dir(root)
    try:
        os.makedirs(cache_dir, exist_ok=True)
    except OSError:
        pass
    if not os.path.isdir(cache_dir):
        raise BootstrapError('cache_dir "%s/" must be a directory' % cache_dir, EXC_CACHE)
    if not os.access(cache_dir, os.W_OK | os.X_OK):
        raise BootstrapError('cache_dir "%s/" is not writable' % cache_dir, EXC_CACHE)
    _generate(os.path.join(root, 'generated', 'code'))
    try:
        cache.save(root, BOOTSTRAP_CACHE_TYPE, BOOTSTRAP_CACHE_KEY, json.loads(_DATA['cache_entry']))
    except OSError as exc:
        raise BootstrapError('The specified "%s" file couldn\'t be written. Warning!%s' % (
            cache.entry_path(root, BOOTSTRAP_CACHE_TYPE, BOOTSTRAP_CACHE_KEY), exc.strerror), EXC_FILESYSTEM)


def _generate(code_dir):
    for relative in GENERATED_CLASSES:
        path = os.path.join(code_dir, relative)
        if os.path.exists(path):
            continue
        directory = os.path.dirname(path)
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise BootstrapError('Directory "%s" cannot be created Warning!mkdir(): %s' % (directory, exc.strerror),
                                 EXC_FILESYSTEM)
        partial = '%s.%d' % (path, os.getpid())
        try:
            with open(partial, 'w', encoding='utf-8') as handle:
                handle.write(_DATA['generated_text'])
            os.replace(partial, path)
        except OSError as exc:
            raise BootstrapError('The specified "%s" file couldn\'t be written. Warning!file_put_contents(%s): Failed '
                                 'to open stream: %s' % (partial, partial, exc.strerror), EXC_FILESYSTEM)


def log(root, message, level='INFO'):
    """A Magento log line, in var/log/system.log and var/log/debug.log (Monolog's LineFormatter)."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f+00:00')
    line = '[%s] main.%s: %s [] []\n' % (stamp, level, message)
    directory = os.path.join(str(root), 'var', 'log')
    os.makedirs(directory, exist_ok=True)
    for name in ('system.log', 'debug.log'):
        with open(os.path.join(directory, name), 'a', encoding='utf-8') as handle:
            handle.write(line)
