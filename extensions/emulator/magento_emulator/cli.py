"""``magento-emulator start|stop|status --root DIR`` (extensions/emulator/DESIGN.md), and the test fixtures
``token-age`` and ``config-integration`` (docs/emulator.md)."""

import argparse
import datetime
import re
import json
import os
import signal
import subprocess
import sys
import time

from magento_emulator import cache, crypto, realphp, store

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


MODULES = ('Magento_Store', 'Magento_Directory', 'Magento_Config', 'Magento_Backend', 'Magento_Authorization',
           'Magento_Customer', 'Magento_Eav', 'Magento_User', 'Magento_Integration', 'Magento_Webapi',
           'Magento_WebapiSecurity', 'Magento_Catalog', 'Magento_Sales', 'Magento_PageCache',
           'Magento_Translation', 'Magento_GraphQlResolverCache', 'Magento_JwtUserToken')

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def _php_quote(value):
    return "'" + value.replace('\\', '\\\\').replace("'", "\\'") + "'"


def env_php_text(crypt_key, install_date):
    """env.php as Magento's PhpFormatter writes it (short arrays, 4-space indent)."""
    cache_types = ',\n'.join("        '%s' => 1" % t for t in cache.TYPE_IDS)
    return """<?php
return [
    'backend' => [
        'frontName' => 'admin'
    ],
    'remote_storage' => [
        'driver' => 'file'
    ],
    'cache' => [
        'graphql' => [
            'id_salt' => 'emulatoremulatoremulatoremulator'
        ],
        'frontend' => [
            'default' => [
                'id_prefix' => '69d_'
            ],
            'page_cache' => [
                'id_prefix' => '69d_'
            ]
        ],
        'allow_parallel_generation' => false
    ],
    'config' => [
        'async' => 0
    ],
    'queue' => [
        'consumers_wait_for_messages' => 1
    ],
    'crypt' => [
        'key' => %s
    ],
    'db' => [
        'table_prefix' => '',
        'connection' => [
            'default' => [
                'host' => 'localhost',
                'dbname' => 'var/magento.sqlite',
                'username' => 'emulator',
                'password' => '',
                'model' => 'mysql4',
                'engine' => 'innodb',
                'initStatements' => 'SET NAMES utf8;',
                'active' => '1',
                'note' => 'magento-emulator: the data lives in SQLite at var/magento.sqlite'
            ]
        ]
    ],
    'resource' => [
        'default_setup' => [
            'connection' => 'default'
        ]
    ],
    'x-frame-options' => 'SAMEORIGIN',
    'MAGE_MODE' => 'default',
    'session' => [
        'save' => 'files'
    ],
    'lock' => [
        'provider' => 'db'
    ],
    'directories' => [
        'document_root_is_pub' => true
    ],
    'cache_types' => [
%s
    ],
    'downloadable_domains' => [
        '127.0.0.1'
    ],
    'install' => [
        'date' => %s
    ]
];
""" % (_php_quote(crypt_key), cache_types, _php_quote(install_date))


def config_php_text():
    modules = ',\n'.join("        '%s' => 1" % m for m in MODULES)
    return "<?php\nreturn [\n    'modules' => [\n%s\n    ]\n];\n" % modules


BOOTSTRAP_PHP = """<?php
/**
 * magento-emulator: Magento's app/bootstrap.php for this emulated root. The bridge requires it and gets
 * the emulator's PHP stand-ins of the Magento classes it calls (see extensions/emulator/DESIGN.md).
 */
define('BP', dirname(__DIR__));
require {stand_ins};
"""

_BIN_PHP = """#!{python}
# magento-emulator: fake `php` for this Magento root (see extensions/emulator/DESIGN.md).
import os
import sys

sys.path.insert(0, {package_parent!r})
from magento_emulator import fakephp
{coverage}
# The PHP that runs the commerceops bridge here; None: the bridge's Python copy (no usable PHP was found).
sys.exit(fakephp.main(sys.argv[1:], real_php={real_php!r}))
"""

_BIN_MAGENTO = """#!{python}
# magento-emulator: stub of bin/magento; `php bin/magento ...` and `bin/magento ...` both land here.
import os
import sys

sys.path.insert(0, {package_parent!r})
from magento_emulator import cli_magento

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.exit(cli_magento.main(ROOT, sys.argv[1:]))
"""


def is_root(root):
    return all(os.path.exists(os.path.join(root, p)) for p in
               ('app/bootstrap.php', 'app/etc/env.php', store.DB_RELATIVE))


def _write(path, text, mode=0o644, overwrite=True):
    if not overwrite and os.path.exists(path):
        return
    tmp = path + '.tmp%d' % os.getpid()
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def create_root(root, base_url=None):
    """Create (or complete) a fake Magento root. Existing env.php, config.php and database are kept."""
    root = os.path.abspath(str(root))
    for sub in ('bin', 'app/etc', 'var/cache', 'var/log', 'pub', 'generated'):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    install_date = datetime.datetime.now(datetime.timezone.utc).strftime('%a, %d %b %Y %H:%M:%S +0000')
    _write(os.path.join(root, 'app/etc/env.php'), env_php_text(crypto.generate_key_string(), install_date),
           mode=0o640, overwrite=False)
    _write(os.path.join(root, 'app/etc/config.php'), config_php_text(), overwrite=False)
    _write(os.path.join(root, 'app/bootstrap.php'),
           BOOTSTRAP_PHP.format(stand_ins=_php_quote(os.path.join(realphp.PHP_DIR, 'bootstrap.php'))))
    coverage = os.environ.get(realphp.ENV_COVERAGE)
    fmt = {'python': sys.executable, 'package_parent': PACKAGE_PARENT, 'real_php': realphp.find(),
           # a coverage directory given when the root was made holds for its runs (ansible-test drops the environment)
           'coverage': ('os.environ.setdefault(%r, %r)\n' % (realphp.ENV_COVERAGE, os.path.abspath(coverage))
                        if coverage else '')}
    _write(os.path.join(root, 'bin/php'), _BIN_PHP.format(**fmt), mode=0o755)
    _write(os.path.join(root, 'bin/magento'), _BIN_MAGENTO.format(**fmt), mode=0o755)
    store.init(root, base_url)
    return root


# --- server state ---------------------------------------------------------------------------

def state_path(root):
    return os.path.join(root, 'var', 'emulator.json')


def read_state(root):
    try:
        with open(state_path(root), encoding='utf-8') as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _write_state(root, state):
    _write(state_path(root), json.dumps(state, indent=2) + '\n')


def _alive(pid):
    if not pid:
        return False
    try:
        done, dummy = os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child
        if done == pid:
            return False
    except ChildProcessError:
        pass
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie nobody reaps (e.g. PID 1 of a container) is gone for our purposes
        with open('/proc/%d/stat' % pid) as handle:
            if handle.read().rsplit(')', 1)[-1].split()[0] == 'Z':
                return False
    except (OSError, IndexError):
        pass
    return True


def running(root):
    """The state of the server of ``root`` if it is running, else None."""
    state = read_state(root)
    return state if _alive(state.get('pid')) else None


def _info(root, state):
    return {'magento_root': root, 'base_url': state.get('base_url'),
            'php_executable': os.path.join(root, 'bin', 'php')}


def _server_command(root, host, port, ready_file):
    code = ('import sys; sys.path.insert(0, %r); from magento_emulator import http_server; '
            'http_server.serve(%r, %r, %d, %r)' % (PACKAGE_PARENT, root, host, port, ready_file))
    return [sys.executable, '-c', code]


def _parse_ready(text):
    """The ready file's content: JSON ``{"port": N, "host": ...}``, a JSON number, ``PORT`` or ``HOST:PORT``."""
    text = text.strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, int) and not isinstance(data, bool):
        return {'port': data}
    if isinstance(data, dict) and data.get('port'):
        return data
    host, dummy, port = text.rpartition(':')
    if port.isdigit():
        return {'port': int(port), 'host': host or None} if host else {'port': int(port)}
    return None


def _read_ready(ready_file):
    """Parse the ready file once it is complete (same content on two reads 50 ms apart)."""
    def read():
        try:
            with open(ready_file, encoding='utf-8') as handle:
                return handle.read()
        except OSError:
            return None
    first = read()
    if not first or _parse_ready(first) is None:
        return None
    time.sleep(0.05)
    if read() != first:
        return None
    return _parse_ready(first)


def start(root, host='127.0.0.1', port=0):
    """Create/keep the root, start the HTTP server in the background; returns the info dict."""
    root = os.path.abspath(str(root))
    create_root(root)
    state = running(root)
    if state:
        return _info(root, state)
    ready_file = os.path.join(root, 'var', 'emulator.ready')
    if os.path.exists(ready_file):
        os.unlink(ready_file)
    log = open(os.path.join(root, 'var', 'log', 'emulator.log'), 'ab')
    try:
        proc = subprocess.Popen(_server_command(root, host, int(port), ready_file), stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True, close_fds=True, cwd=root)
    finally:
        log.close()
    deadline = time.time() + START_TIMEOUT
    ready = None
    while time.time() < deadline:
        ready = _read_ready(ready_file)
        if ready or proc.poll() is not None:
            break
        time.sleep(0.05)
    if not ready:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise RuntimeError('The emulator HTTP server did not start; see %s'
                           % os.path.join(root, 'var', 'log', 'emulator.log'))
    real_host = ready.get('host') or host
    base_url = 'http://%s:%d/' % (real_host, int(ready['port']))
    store.set_base_url(root, base_url)
    state = {'pid': proc.pid, 'host': real_host, 'port': int(ready['port']), 'base_url': base_url}
    _write_state(root, state)
    return _info(root, state)


def stop(root):
    """SIGTERM the server, wait for it, drop the pid from var/emulator.json. True if one was running."""
    root = os.path.abspath(str(root))
    state = read_state(root)
    pid = state.get('pid')
    was_running = _alive(pid)
    if was_running:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.time() + STOP_TIMEOUT
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.time() + 5
            while _alive(pid) and time.time() < deadline:
                time.sleep(0.05)
    if state:
        state.pop('pid', None)
        _write_state(root, state)
    return was_running


AGE_UNITS = {'d': 86400, 'h': 3600, 'm': 60}


def _age(text):
    """``100d``, ``12h``, ``30m`` (or combined, ``1d12h``) as a timedelta."""
    match = re.match(r'^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$', text or '')
    if not text or not match:
        raise ValueError('--age %r is not an age: give days, hours or minutes, for example 100d, 12h or 30m.' % text)
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return datetime.timedelta(days=days, hours=hours, minutes=minutes)


def token_age(root, name, age=None, created_at=None):
    """Backdate the integration's token: made ``age`` ago, or at ``created_at`` (ISO 8601 UTC)."""
    from magento_emulator import integrations
    if created_at is not None:
        when = datetime.datetime.strptime(created_at, '%Y-%m-%dT%H:%M:%SZ')
    else:
        when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - _age(age)
    conn = store.connect(root)
    try:
        stored, rows = integrations.set_token_created_at(conn, name, when)
    finally:
        conn.close()
    return {'name': stored, 'tokens': rows, 'created_at': when.strftime('%Y-%m-%dT%H:%M:%SZ')}


def config_integration(root, name, email='', resources=None, remove=False):
    """Declare an integration as a module's etc/integration.xml does after setup:upgrade, or remove it again."""
    from magento_emulator import integrations
    conn = store.connect(root)
    try:
        if remove:
            stored = integrations.remove_config_integration(conn, name)
            return {'name': stored or name, 'declared': False}
        return {'name': integrations.declare_config_integration(conn, root, name, email, resources)['name'],
                'declared': True}
    finally:
        conn.close()


def _print(info, as_json, stream=None):
    stream = stream or sys.stdout
    if as_json:
        stream.write(json.dumps(info) + '\n')
    else:
        for key, value in info.items():
            stream.write('%s=%s\n' % (key, '' if value is None else value))
    stream.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(prog='magento-emulator', description='A Magento 2.4.7 emulator for tests.')
    sub = parser.add_subparsers(dest='command')
    sub.required = True
    for name in ('start', 'stop', 'status'):
        p = sub.add_parser(name)
        p.add_argument('--root', required=True, help='the fake Magento root')
        p.add_argument('--json', action='store_true', help='print one JSON object')
        if name == 'start':
            p.add_argument('--host', default='127.0.0.1')
            p.add_argument('--port', type=int, default=0)
    p = sub.add_parser('token-age', help='test fixture: backdate an integration\'s token')
    p.add_argument('--root', required=True, help='the fake Magento root')
    p.add_argument('--name', required=True, help='the integration (case-insensitive)')
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument('--age', help='how old the token is to be: 100d, 12h, 30m')
    when.add_argument('--created-at', help='when the token was made, ISO 8601 UTC (2026-01-02T03:04:05Z)')
    p.add_argument('--json', action='store_true', help='print one JSON object')
    p = sub.add_parser('config-integration', help='test fixture: an integration declared in a module\'s '
                                                  'etc/integration.xml, as setup:upgrade creates it')
    p.add_argument('--root', required=True, help='the fake Magento root')
    p.add_argument('--name', required=True)
    p.add_argument('--email', default='')
    p.add_argument('--resource', action='append', default=[], help='an ACL resource id (repeat for more)')
    p.add_argument('--remove', action='store_true', help='remove it again (test cleanup; Magento refuses to)')
    p.add_argument('--json', action='store_true', help='print one JSON object')
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    try:
        if args.command == 'token-age':
            _print(token_age(root, args.name, args.age, args.created_at), args.json)
            return 0
        if args.command == 'config-integration':
            _print(config_integration(root, args.name, args.email, args.resource, args.remove), args.json)
            return 0
        if args.command == 'start':
            _print(start(root, args.host, args.port), args.json)
            return 0
        if args.command == 'stop':
            was = stop(root)
            _print({'magento_root': root, 'stopped': was}, args.json)
            return 0
        state = running(root) if is_root(root) else None
        info = _info(root, state or read_state(root))
        info['running'] = bool(state)
        if state:
            info['pid'] = state['pid']
        _print(info, args.json)
        return 0 if state else 3
    except Exception as exc:  # no traceback for users
        sys.stderr.write('magento-emulator %s: %s\n' % (args.command, exc))
        return 1


if __name__ == '__main__':
    sys.exit(main())
