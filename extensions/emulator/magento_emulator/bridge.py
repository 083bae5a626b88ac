"""The bridge executor: answers docs/bridge-protocol.md requests from Python instead of PHP."""

import json
import math
import os
import sys

from magento_emulator import MAGENTO_EDITION, MAGENTO_VERSION, acl, faults, files, integrations, store
from magento_emulator.integrations import MagentoError

PROTOCOL = 1
MARKER = 'commerceops-magento-bridge protocol='

EXC_RUNTIME = 'RuntimeException'
EXC_INVALID_ARGUMENT = 'InvalidArgumentException'


class BridgeError(Exception):
    """An error the bridge itself reports (the PHP bridge's CmbError): ``exception`` is null."""

    def __init__(self, kind, message, exception=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exception = exception
        self.version = None   # Magento's version, if the bridge had read it when this happened


def _input(message):
    return BridgeError('input', message)


class _Params(object):
    """Parameter checks with the PHP bridge's messages."""

    def __init__(self, action):
        self.action = action
        self.name = action.get('action')

    def has(self, key):
        return key in self.action and self.action[key] is not None

    def string(self, key, required=True, allow_empty=True):
        if not self.has(key):
            if required:
                raise _input('The parameter "%s" is missing.' % key)
            return ''
        value = self.action[key]
        if not isinstance(value, str):
            raise _input('The parameter "%s" must be a string.' % key)
        if not allow_empty and value.strip() == '':
            raise _input('The parameter "%s" must not be empty.' % key)
        return value

    def boolean(self, key, default=None):
        if key not in self.action:
            if default is None:
                raise _input('The parameter "%s" is missing.' % key)
            return default
        value = self.action[key]
        if not isinstance(value, bool):
            raise _input('The parameter "%s" must be true or false.' % key)
        return value

    def integer(self, key):
        value = self.action.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        if isinstance(value, str) and value.isdigit() and value.isascii() and int(value) > 0:
            return int(value)
        raise _input('The parameter "%s" must be a positive integer.' % key)

    def string_list(self, key, required=True):
        if key not in self.action:
            if required:
                raise _input('The parameter "%s" is missing.' % key)
            return []
        value = self.action[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _input('The parameter "%s" must be a list of strings.' % key)
        return value

    def items(self):
        """Config items: a list of objects, every path checked before any scope (the PHP bridge's order)."""
        value = self.action.get('items')
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _input('The parameter "items" must be a list of {path, scope, scope_code}.')
        for item in value:
            _Params(item).string('path', allow_empty=False)
        return value


def _env_mode(root):
    try:
        from magento_emulator import phparray
        with open(os.path.join(root, 'app', 'etc', 'env.php'), encoding='utf-8') as handle:
            return phparray.load(handle.read()).get('MAGE_MODE') or 'default'
    except Exception:
        import re
        try:
            with open(os.path.join(root, 'app', 'etc', 'env.php'), encoding='utf-8') as handle:
                match = re.search(r"'MAGE_MODE'\s*=>\s*'([^']*)'", handle.read())
            return match.group(1) if match else 'default'
        except OSError:
            return 'default'


def front_controller(root):
    """The script a web request runs: pub/index.php where the document root is pub/, else index.php."""
    public = os.path.join(root, 'pub', 'index.php')
    return public if os.path.isfile(public) else os.path.join(root, 'index.php')


class Executor(object):
    def __init__(self, root):
        self.root = root
        # Like the PHP bridge, present Magento's front controller as $_SERVER['SCRIPT_FILENAME'] before the
        # bootstrap, so that the URLs Magento builds are a web request's (SPEC 15), not the bridge file's.
        self.script_filename = front_controller(root)
        self._conn = None
        # A host fault's hook inside the running action (faults.py bridge_delay "within"), or None.
        self.window = None

    @property
    def conn(self):
        if self._conn is None:
            self._conn = store.connect(self.root)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- helpers
    def _fields(self, p):
        fields = dict(name=p.string('name', allow_empty=False), email=p.string('email'),
                      endpoint=p.string('endpoint'), identity_link_url=p.string('identity_link_url'))
        fields['all_resources'] = p.boolean('all_resources')
        resources = p.string_list('resources')
        fields['resources'] = [] if fields['all_resources'] else resources
        return fields

    # -- actions
    def system_info(self, p):
        from magento_emulator import config

        def effective(path):   # what ScopeConfig reads: a value deployed in env.php/config.php wins
            value = config.read_value(self.root, path, conn=self.conn)
            return '' if value is None else value
        return {'magento_version': MAGENTO_VERSION, 'edition': MAGENTO_EDITION, 'mode': _env_mode(self.root),
                'base_url': effective('web/unsecure/base_url'), 'secure_base_url': effective('web/secure/base_url')}

    def acl_resources(self, p):
        return {'resources': acl.resources()}

    def integration_list(self, p):
        names = p.string_list('names') if p.has('names') else None
        return {'integrations': integrations.list_integrations(self.conn, names)}

    def integration_get(self, p):
        if p.has('integration_id'):
            row = integrations.load(self.conn, p.integer('integration_id'))
        elif p.has('name'):
            row = integrations.find_by_name(self.conn, p.string('name'))
        else:
            raise _input('The parameter "name" or "integration_id" is required.')
        result = {'integration': integrations.normalise(self.conn, row) if row is not None else None}
        if row is not None and p.boolean('with_secrets', False):
            result['credentials'] = integrations.credentials(self.conn, self.root, row)
        return result

    def integration_create(self, p):
        fields = self._fields(p)
        try:
            return {'integration': integrations.create(self.conn, self.root, window=self.window, **fields)}
        except MagentoError as exc:
            # As the PHP bridge: whatever Magento said, a name that exists now was created by a concurrent run.
            if integrations.find_by_name(self.conn, fields['name']) is None:
                raise
            raise BridgeError('conflict', 'Integration "%s" exists now (Magento: %s): another process created it '
                                          'meanwhile.' % (fields['name'], exc.message))

    def _not_from_config_file(self, p, what):
        """The PHP bridge's guard: the client refuses config-file integrations before any write, with the fix."""
        row = integrations.load_or_fail(self.conn, p.integer('integration_id'))
        if int(row['setup_type']) == integrations.TYPE_CONFIG:
            raise BridgeError('input', 'Integration %d comes from a config file (setup_type 1): not %s.'
                              % (row['integration_id'], what))
        return row

    def integration_update(self, p):
        row = self._not_from_config_file(p, 'updated')
        return {'integration': integrations.update(self.conn, self.root, row['integration_id'], **self._fields(p))}

    def integration_delete(self, p):
        row = self._not_from_config_file(p, 'deleted')
        return {'deleted': integrations.delete(self.conn, self.root, row['integration_id'])}

    def integration_activate(self, p):
        return integrations.activate(self.conn, self.root, p.integer('integration_id'), p.boolean('reauthorize', False))

    def integration_prepare_exchange(self, p):
        verifier, row, dummy, dummy = integrations.prepare_exchange(self.conn, self.root, p.integer('integration_id'),
                                                                    p.boolean('reauthorize', False))
        return {'oauth_verifier': verifier, 'integration': integrations.normalise(self.conn, row),
                'credentials': integrations.credentials(self.conn, self.root, row)}

    def integration_post_to_consumer(self, p):
        dummy, row = integrations.post_to_consumer(self.conn, self.root, p.integer('integration_id'), self.script_filename,
                                                   p.boolean('reauthorize', False))
        return {'integration': integrations.normalise(self.conn, integrations.load(self.conn, row['integration_id']))}

    def integration_revoke(self, p):
        revoked, row = integrations.revoke(self.conn, p.integer('integration_id'))
        return {'revoked': revoked, 'integration': integrations.normalise(self.conn, row)}

    def config_get(self, p):
        from magento_emulator import config
        return {'items': config.get_items(self.root, p.items())}

    def config_options(self, p):
        from magento_emulator import config
        return {'items': config.options_items(p.items())}

    def config_delete(self, p):
        from magento_emulator import config
        return {'items': config.delete_items(self.root, p.items())}

    def cache_status(self, p):
        from magento_emulator import cache
        return {'types': cache.status(self.root)}


ACTIONS = {
    'system.info': Executor.system_info,
    'acl.resources': Executor.acl_resources,
    'integration.list': Executor.integration_list,
    'integration.get': Executor.integration_get,
    'integration.create': Executor.integration_create,
    'integration.update': Executor.integration_update,
    'integration.delete': Executor.integration_delete,
    'integration.activate': Executor.integration_activate,
    'integration.prepare_exchange': Executor.integration_prepare_exchange,
    'integration.post_to_consumer': Executor.integration_post_to_consumer,
    'integration.revoke': Executor.integration_revoke,
    'config.get': Executor.config_get,
    'config.options': Executor.config_options,
    'config.delete': Executor.config_delete,
    'cache.status': Executor.cache_status,
}


def _response(results, error=None, version=MAGENTO_VERSION):
    response = {'protocol': PROTOCOL, 'ok': error is None, 'magento_version': version, 'results': results}
    if error is not None:
        response['error'] = error
    return response


def _error(index, action, kind, message, exception=None):
    return {'index': index, 'action': action, 'kind': kind, 'exception': exception, 'message': message}


def _php_string(value):
    """PHP's (string) of a scalar, json_encode otherwise (the PHP bridge's protocol message)."""
    if isinstance(value, bool):
        return '1' if value else ''
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value).rstrip('0').rstrip('.') if not math.isnan(value) else 'NAN'
    return json.dumps(value)


def _bootstrap_problem(root):
    """Why Magento cannot boot, or None. The error's ``version``: a database failure comes after the bridge has read
    Magento's version (ProductMetadata needs no database), a missing file before."""
    root = root.rstrip('/') or '/'
    if not os.path.isfile(os.path.join(root, 'app', 'bootstrap.php')):
        return BridgeError('bootstrap', '%s/app/bootstrap.php does not exist: is magento_root a Magento '
                                        'installation?' % root)
    env = os.path.join(root, 'app', 'etc', 'env.php')
    if not os.access(env, os.R_OK):
        return BridgeError('bootstrap', 'The configuration file "%s" is not readable.' % env,
                           'Magento\\Framework\\Exception\\FileSystemException')
    if not os.path.isfile(store.db_path(root)):
        problem = BridgeError('bootstrap', 'SQLSTATE[HY000] [2002] No such file or directory', 'PDOException')
        problem.version = MAGENTO_VERSION
        return problem
    return None


def _read_request(request, request_protocol):
    """Validate the request like the PHP bridge's cmb_read_request; returns it or raises (index, action, error)."""
    if request_protocol is not None and request_protocol != PROTOCOL:
        raise _RequestError(BridgeError('protocol', 'Bridge protocol %d cannot answer a request of protocol %s.'
                                        % (PROTOCOL, request_protocol)))
    if isinstance(request, (str, bytes)):
        try:
            request = json.loads(request)
        except ValueError:
            raise _RequestError(BridgeError('protocol', 'The request is not a JSON object: Syntax error.'))
    if not isinstance(request, (dict, list)):
        raise _RequestError(BridgeError('protocol', 'The request is not a JSON object: No error.'))
    if isinstance(request, list):
        request = dict(enumerate(request))
    protocol = request.get('protocol')
    if protocol != PROTOCOL or isinstance(protocol, bool) or not isinstance(protocol, int):
        raise _RequestError(BridgeError('protocol', 'Bridge protocol %d cannot answer a request of protocol %s.'
                                        % (PROTOCOL, _php_string(protocol))))
    root = request.get('magento_root')
    if not isinstance(root, str) or root == '':
        raise _RequestError(BridgeError('protocol', 'The request has no "magento_root".'))
    actions = request.get('actions')
    if isinstance(actions, dict):
        actions = list(actions.values())
    if not isinstance(actions, list):
        raise _RequestError(BridgeError('protocol', 'The request has no "actions" list.'))
    for index, action in enumerate(actions):
        name = action.get('action') if isinstance(action, dict) else None
        if not isinstance(name, str) or name not in ACTIONS:
            raise _RequestError(BridgeError('protocol', 'Unknown bridge action %s.' % json.dumps(name)),
                                index, name if isinstance(name, str) else None)
    request['actions'] = actions
    return request


class _RequestError(Exception):
    def __init__(self, error, index=0, action=None):
        super().__init__(error.message)
        self.error, self.index, self.action = error, index, action


_SECRET_KEYS = ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret', 'oauth_verifier')


def _secrets_in(data, found):
    if isinstance(data, dict):
        for key, value in data.items():
            if key in _SECRET_KEYS and isinstance(value, str) and len(value) >= 8:
                found.add(value)
            else:
                _secrets_in(value, found)
    elif isinstance(data, list):
        for item in data:
            _secrets_in(item, found)
    return found


def _scrub(message, results):
    """Defence in depth, as the PHP bridge does: no secret of this batch in an error message."""
    for secret in _secrets_in(results, set()):
        message = message.replace(secret, '********')
    return message


class _HostFaults(object):
    """The host faults (faults.py) that apply to one bridge run, and where in the batch they strike."""

    def __init__(self, root, names):
        self.root = root
        self.total = len(names)
        self.down = faults.take_host(root, 'db_down', names)[0]
        self.output, self.output_at = faults.take_host(root, 'bridge_output', names)
        self.fatal, self.fatal_at = faults.take_host(root, 'bridge_fatal', names)
        self.delay, self.delay_at = faults.take_host(root, 'bridge_delay', names)

    def _strikes(self, rule, matched, index):
        return rule is not None and index == (self.total if rule.get('after') else matched)

    def reach(self, index):
        """The bridge is about to run action ``index`` (``total``: all ran, the response is next)."""
        if self._strikes(self.delay, self.delay_at, index) and not self.delay.get('within'):
            faults.sleep(self.delay)
        if self._strikes(self.fatal, self.fatal_at, index):
            if self.fatal.get('caught') and index < self.total:   # the bridge's fatal-error handler answers
                raise BridgeError('internal', faults.fatal_message(self.fatal))
            raise faults.php_fatal(self.fatal, self.root)
        if self._strikes(self.output, self.output_at, index) and not self.output.get('json'):
            raise faults.ProcessExit(faults.exit_code(self.output), faults.output_text(self.output),
                                     str(self.output.get('stderr') or ''))

    def window(self, index):
        """The hook action ``index`` runs where Magento leaves a concurrent writer a window (``within``), or None."""
        if self._strikes(self.delay, self.delay_at, index) and self.delay.get('within'):
            return lambda: faults.sleep(self.delay)
        return None

    def respond(self, response, code):
        """With ``bridge_output`` ``json``: the text comes first on stdout, then the real response."""
        if self.output is not None and self.output.get('json'):
            raise faults.ProcessExit(code, faults.output_text(self.output) + json.dumps(response) + '\n',
                                     str(self.output.get('stderr') or ''))
        return response, code


def _php_empty(value):
    """PHP's falsiness of a JSON value (what ``?:`` tests)."""
    return (value is None or value is False or value in ('', '0') or (isinstance(value, (list, dict)) and not value)
            or (type(value) in (int, float) and value == 0))


def _php_identical(first, second):
    """PHP's ``===`` of two JSON values decoded as arrays: same types, same keys in the same order."""
    if isinstance(first, dict) or isinstance(second, dict):
        first = first if isinstance(first, dict) else dict(enumerate(first)) if isinstance(first, list) else first
        second = second if isinstance(second, dict) else dict(enumerate(second)) if isinstance(second, list) else second
        if not (isinstance(first, dict) and isinstance(second, dict)) or list(first) != list(second):
            return False
        return all(_php_identical(first[key], second[key]) for key in first)
    if isinstance(first, list) and isinstance(second, list):
        return len(first) == len(second) and all(_php_identical(a, b) for a, b in zip(first, second))
    return type(first) is type(second) and first == second


def _expecting(action):
    """Whether the action is guarded (the PHP bridge's test: an array ``expect`` and an ``integration_id``)."""
    return isinstance(action.get('expect'), (dict, list)) and action.get('integration_id') is not None


def _as_read(key, current, value):
    """Whether the stored ``key`` is still ``value`` as the module read it (the PHP bridge's comparison: ``===``
    after ``?:``). A key the integration lacks is not (a misspelled key must not pass)."""
    if key not in current:
        return False
    now = current[key]
    if key == 'resources' and isinstance(now, list) and isinstance(value, list):
        # Magento reads rule rows back in no fixed order (SPEC §1.10): the same ids in another order are as read.
        now, value = sorted(set(map(str, now))), sorted(set(map(str, value)))
    # An empty string and NULL are the same stored e-mail or URL.
    return _php_identical(None if _php_empty(now) else now, None if _php_empty(value) else value)


def _check_expected(executor, action):
    row = integrations.load_or_fail(executor.conn, action['integration_id'])
    current = integrations.normalise(executor.conn, row)
    expect = action['expect']
    # The changed keys are named in the request's order.
    changed = [str(key) for key, value in (expect.items() if isinstance(expect, dict) else enumerate(expect))
               if not _as_read(key, current, value)]
    if changed:
        raise BridgeError('conflict', 'Integration "%s" changed since it was read (%s): another process wrote it meanwhile.'
                          % (row['name'], ', '.join(changed)))


def _run_actions(executor, actions, host):
    results = []
    for index, action in enumerate(actions):
        name = action['action']
        try:
            host.reach(index)
            executor.window = host.window(index)
            if _expecting(action):
                # Compare-and-write: the integration must still be as the module read it, checked and written in one
                # transaction (the PHP bridge: SELECT ... FOR UPDATE on the integration row, then the service call).
                with store.transaction(executor.conn):
                    _check_expected(executor, action)
                    results.append(ACTIONS[name](executor, _Params(action)))
            else:
                results.append(ACTIONS[name](executor, _Params(action)))
        except faults.ProcessExit:
            raise
        except (BridgeError, MagentoError) as exc:
            message = _scrub(exc.message, results)
            return _response(results, _error(index, name, exc.kind, message, exc.exception)), 1
        except Exception as exc:  # config/cache modules' own errors, or a bug
            kind = getattr(exc, 'kind', None) or 'internal'
            exception = getattr(exc, 'exception', None) if hasattr(exc, 'kind') else type(exc).__name__
            message = _scrub(getattr(exc, 'message', None) or str(exc), results)
            return _response(results, _error(index, name, kind, message, exception)), 1
    return _response(results), 0


def execute(request, request_protocol=None):
    """Answer one request (a JSON text or an already parsed dict). Returns (response_dict, exit_code).

    ``request_protocol`` is the version named by the bridge file's marker, if known. Errors before
    Magento is "bootstrapped" carry ``magento_version`` null, as the PHP bridge's do. A host fault
    (faults.py) that ends the PHP process raises ``faults.ProcessExit``.
    """
    try:
        request = _read_request(request, request_protocol)
    except _RequestError as exc:
        err = exc.error
        return _response([], _error(exc.index, exc.action, err.kind, err.message, err.exception), None), 1
    actions = request['actions']
    first = actions[0]['action'] if actions else None
    root = os.path.abspath(request['magento_root'])
    problem = _bootstrap_problem(root)
    if problem is not None and problem.version is None:   # Magento did not get to boot
        return _response([], _error(0, first, problem.kind, problem.message, problem.exception), None), 1
    try:
        files.boot(root)
    except files.BootstrapError as exc:
        return _response([], _error(0, first, exc.kind, exc.message, exc.exception), None), 1
    if problem is not None:   # the database fails after the bootstrap has written its files
        return _response([], _error(0, first, problem.kind, problem.message, problem.exception), problem.version), 1
    host = _HostFaults(root, [action['action'] for action in actions])
    if host.down is not None:
        message = str(host.down.get('message') or faults.DB_DOWN_MESSAGE)
        return _response([], _error(0, first, 'bootstrap', message, faults.DB_DOWN_EXCEPTION)), 1
    executor = Executor(root)
    try:
        response, code = _run_actions(executor, actions, host)
    finally:
        executor.close()
    host.reach(len(actions))
    return host.respond(response, code)


def marker_protocol(text):
    """The protocol number named by a bridge file's marker, or None when there is no marker."""
    pos = text.find(MARKER)
    if pos < 0:
        return None
    digits = ''
    for ch in text[pos + len(MARKER):]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else -1


def run(stdin=None, stdout=None, request_protocol=None, stderr=None):
    """Read a request on stdin, write the response on stdout; returns the exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        response, code = execute(stdin.read(), request_protocol)
    except faults.ProcessExit as ended:
        stdout.write(ended.stdout)
        stdout.flush()
        if ended.stderr:
            stderr.write(ended.stderr)
            stderr.flush()
        return ended.code
    stdout.write(json.dumps(response) + '\n')
    stdout.flush()
    return code
