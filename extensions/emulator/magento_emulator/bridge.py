"""The bridge executor: answers docs/bridge-protocol.md requests from Python instead of PHP."""

import json
import os
import sys

from magento_emulator import MAGENTO_EDITION, MAGENTO_VERSION, acl, integrations, store
from magento_emulator.integrations import MagentoError

PROTOCOL = 1
MARKER = 'commerceops-magento-bridge protocol='

EXC_RUNTIME = 'RuntimeException'
EXC_INVALID_ARGUMENT = 'InvalidArgumentException'


class BridgeError(Exception):
    def __init__(self, kind, message, exception=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exception = exception or (EXC_INVALID_ARGUMENT if kind in ('input', 'protocol') else EXC_RUNTIME)


def _input(action, name, what):
    return BridgeError('input', 'Parameter "%s" of %s %s.' % (name, action, what))


class _Params(object):
    def __init__(self, action):
        self.action = action
        self.name = action.get('action')

    def has(self, key):
        return key in self.action and self.action[key] is not None

    def string(self, key, required=True, default=''):
        if not self.has(key):
            if required:
                raise _input(self.name, key, 'is missing')
            return default
        value = self.action[key]
        if not isinstance(value, str):
            raise _input(self.name, key, 'must be a string')
        return value

    def boolean(self, key, required=False, default=False):
        if not self.has(key):
            if required:
                raise _input(self.name, key, 'is missing')
            return default
        value = self.action[key]
        if not isinstance(value, bool):
            raise _input(self.name, key, 'must be a boolean')
        return value

    def integer(self, key, required=True):
        if not self.has(key):
            if required:
                raise _input(self.name, key, 'is missing')
            return None
        value = self.action[key]
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.isdigit():
                return int(value)
            raise _input(self.name, key, 'must be an integer')
        return value

    def string_list(self, key, required=True):
        if not self.has(key):
            if required:
                raise _input(self.name, key, 'is missing')
            return None
        value = self.action[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _input(self.name, key, 'must be a list of strings')
        return value

    def items(self):
        value = self.action.get('items')
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _input(self.name, 'items', 'must be a list of {"path", "scope", "scope_code"} objects')
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


class Executor(object):
    def __init__(self, root):
        self.root = root
        self._conn = None

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
        all_resources = p.boolean('all_resources', required=True)
        resources = p.string_list('resources', required=not all_resources) or []
        return dict(name=p.string('name'), email=p.string('email', required=False),
                    endpoint=p.string('endpoint', required=False),
                    identity_link_url=p.string('identity_link_url', required=False),
                    all_resources=all_resources, resources=resources)

    # -- actions
    def system_info(self, p):
        return {'magento_version': MAGENTO_VERSION, 'edition': MAGENTO_EDITION, 'mode': _env_mode(self.root),
                'base_url': store.get_config(self.conn, 'web/unsecure/base_url'),
                'secure_base_url': store.get_config(self.conn, 'web/secure/base_url')}

    def acl_resources(self, p):
        return {'resources': acl.resources()}

    def integration_list(self, p):
        names = p.string_list('names', required=False)
        return {'integrations': integrations.list_integrations(self.conn, names)}

    def integration_get(self, p):
        if p.has('integration_id'):
            row = integrations.load(self.conn, p.integer('integration_id'))
        elif p.has('name'):
            row = integrations.find_by_name(self.conn, p.string('name'))
        else:
            raise _input(p.name, 'name', 'or "integration_id" is missing')
        result = {'integration': integrations.normalise(self.conn, row) if row is not None else None}
        if row is not None and p.boolean('with_secrets'):
            result['credentials'] = integrations.credentials(self.conn, self.root, row)
        return result

    def integration_create(self, p):
        return {'integration': integrations.create(self.conn, self.root, **self._fields(p))}

    def integration_update(self, p):
        integration_id = p.integer('integration_id')
        return {'integration': integrations.update(self.conn, self.root, integration_id, **self._fields(p))}

    def integration_delete(self, p):
        return {'deleted': integrations.delete(self.conn, self.root, p.integer('integration_id'))}

    def integration_activate(self, p):
        return integrations.activate(self.conn, self.root, p.integer('integration_id'), p.boolean('reauthorize'))

    def integration_prepare_exchange(self, p):
        verifier, row, _, _ = integrations.prepare_exchange(self.conn, self.root, p.integer('integration_id'),
                                                            p.boolean('reauthorize'))
        return {'oauth_verifier': verifier, 'integration': integrations.normalise(self.conn, row),
                'credentials': integrations.credentials(self.conn, self.root, row)}

    def integration_post_to_consumer(self, p):
        _, row = integrations.post_to_consumer(self.conn, self.root, p.integer('integration_id'),
                                               p.boolean('reauthorize'))
        return {'integration': integrations.normalise(self.conn, integrations.load(self.conn, row['integration_id']))}

    def integration_revoke(self, p):
        revoked, row = integrations.revoke(self.conn, p.integer('integration_id'))
        return {'revoked': revoked, 'integration': integrations.normalise(self.conn, row)}

    def config_get(self, p):
        from magento_emulator import config
        return {'items': config.get_items(self.root, p.items())}

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
    'config.delete': Executor.config_delete,
    'cache.status': Executor.cache_status,
}


def _response(results, error=None):
    response = {'protocol': PROTOCOL, 'ok': error is None, 'magento_version': MAGENTO_VERSION, 'results': results}
    if error is not None:
        response['error'] = error
    return response


def _error(index, action, kind, message, exception):
    return {'index': index, 'action': action, 'kind': kind, 'exception': exception, 'message': message}


def _bootstrap_problem(root):
    if not isinstance(root, str) or not root:
        return BridgeError('input', 'Parameter "magento_root" of the request is missing.')
    bootstrap = os.path.join(root, 'app', 'bootstrap.php')
    if not os.path.isfile(bootstrap):
        return BridgeError('bootstrap', 'Failed opening required \'%s\': No such file or directory' % bootstrap,
                           'Error')
    env = os.path.join(root, 'app', 'etc', 'env.php')
    if not os.access(env, os.R_OK):
        return BridgeError('bootstrap', 'The configuration file "%s" is not readable.' % env,
                           'Magento\\Framework\\Exception\\FileSystemException')
    if not os.path.isfile(store.db_path(root)):
        return BridgeError('bootstrap', 'SQLSTATE[HY000] [2002] No such file or directory',
                           'Zend_Db_Adapter_Exception')
    return None


def execute(request, request_protocol=None):
    """Answer one request (a JSON text or an already parsed dict). Returns (response_dict, exit_code).

    ``request_protocol`` is the version named by the bridge file's marker, if known.
    """
    if request_protocol is not None and request_protocol != PROTOCOL:
        msg = 'Bridge protocol %d cannot answer a request of protocol %s.' % (PROTOCOL, request_protocol)
        return _response([], _error(None, None, 'protocol', msg, EXC_INVALID_ARGUMENT)), 1
    if isinstance(request, (str, bytes)):
        try:
            request = json.loads(request)
        except ValueError as exc:
            return _response([], _error(None, None, 'protocol', 'The request is not valid JSON: %s' % exc,
                                        EXC_INVALID_ARGUMENT)), 1
    if not isinstance(request, dict):
        return _response([], _error(None, None, 'protocol', 'The request must be a JSON object.',
                                    EXC_INVALID_ARGUMENT)), 1
    if request.get('protocol') != PROTOCOL:
        msg = 'Bridge protocol %d cannot answer a request of protocol %s.' % (
            PROTOCOL, json.dumps(request.get('protocol')))
        return _response([], _error(None, None, 'protocol', msg, EXC_INVALID_ARGUMENT)), 1
    actions = request.get('actions')
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        return _response([], _error(None, None, 'protocol', 'The request needs "actions": a list of objects.',
                                    EXC_INVALID_ARGUMENT)), 1
    root = request.get('magento_root')
    problem = _bootstrap_problem(root)
    if problem is not None:
        return _response([], _error(None, None, problem.kind, problem.message, problem.exception)), 1
    executor = Executor(os.path.abspath(root))
    results = []
    try:
        for index, action in enumerate(actions):
            name = action.get('action')
            handler = ACTIONS.get(name)
            try:
                if handler is None:
                    raise BridgeError('protocol', 'Unknown bridge action %s.' % json.dumps(name))
                results.append(handler(executor, _Params(action)))
            except (BridgeError, MagentoError) as exc:
                return _response(results, _error(index, name, exc.kind, exc.message, exc.exception)), 1
            except Exception as exc:  # config/cache modules' own errors, or a bug
                kind = getattr(exc, 'kind', 'internal')
                exception = getattr(exc, 'exception', None) or type(exc).__name__
                message = getattr(exc, 'message', None) or str(exc)
                return _response(results, _error(index, name, kind, message, exception)), 1
    finally:
        executor.close()
    return _response(results), 0


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


def run(stdin=None, stdout=None, request_protocol=None):
    """Read a request on stdin, write the response on stdout; returns the exit code."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    response, code = execute(stdin.read(), request_protocol)
    stdout.write(json.dumps(response) + '\n')
    stdout.flush()
    return code
