"""The contract between the two bridges: the shipped PHP bridge (run by a real PHP over the emulator's PHP stand-ins)
and its Python copy (magento_emulator/bridge.py, the fallback when no PHP is there) answer the same requests alike.

Each scenario runs its steps on two fresh roots made the same way, one through each bridge, and compares every answer
and then what each store holds (rows, decrypted secrets, cache files), once random keys, secrets and clock times are
masked. A difference is a bug on one side: the PHP is what the collection ships, and Magento (SPEC.md) decides.
"""

import json
import os
import re
import socket
import urllib.parse

import pytest

from conftest import ConsumerEndpoint, bridge_source
from magento_emulator import bridge, cli, crypto, faults, phparray, realphp, store

PHP = realphp.find()
pytestmark = pytest.mark.skipif(PHP is None, reason='no PHP 7.4+ with pdo_sqlite and sodium (scripts/bootstrap.sh installs them)')

PRODUCTS = 'Magento_Catalog::products'
SECRET_KEYS = ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret', 'oauth_verifier')
TIME = re.compile(r'\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?')


def create(name='Acme ERP', **fields):
    action = {'action': 'integration.create', 'name': name, 'email': 'ops@acme.example', 'endpoint': '',
              'identity_link_url': '', 'all_resources': False, 'resources': [PRODUCTS]}
    action.update(fields)
    return action


def update(integration_id, name='Acme ERP', **fields):
    return dict(create(name, **fields), action='integration.update', integration_id=integration_id)


def act(action, integration_id=1, **fields):
    return dict({'action': 'integration.' + action, 'integration_id': integration_id}, **fields)


def items(*entries):
    return [{'path': path, 'scope': scope, 'scope_code': code} for path, scope, code in entries]


# --- the two sides ---------------------------------------------------------------------------------------------

class Side(object):
    def __init__(self, root, script=None):
        self.root = root
        self.script = script

    def ask(self, actions, raw=None):
        """(exit code, response or the raw stdout when it is not JSON) for one request."""
        text = raw if raw is not None else json.dumps({'protocol': 1, 'magento_root': self.root, 'actions': actions})
        if self.script is None:
            try:
                response, code = bridge.execute(text)
            except faults.ProcessExit as ended:
                return ended.code, ended.stdout
            return code, response
        code, stdout, dummy = realphp.run(PHP, self.script, text)
        try:
            return code, json.loads(stdout)
        except ValueError:
            return code, stdout


def masked_text(text, root):
    """A file's text without what is random (32-character keys and tokens) or the clock's (times)."""
    return TIME.sub('<time>', re.sub(r'\b[0-9a-z]{32}\b', '<random>', text.replace(root, '<root>')))


def masked(value, root):
    """Random secrets as <secret:LENGTH>, clock times as <time>, the root's path as <root>."""
    if isinstance(value, dict):
        return {key: ('<secret:%d>' % len(item) if key in SECRET_KEYS and isinstance(item, str) else masked(item, root))
                for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, root) for item in value]
    if isinstance(value, str):
        return TIME.sub('<time>', value.replace(root, '<root>'))
    return value


def store_state(root):
    """What the store holds, without what is random or depends on the clock."""
    state = {}
    if os.path.exists(store.db_path(root)):
        state = tables(root)
    for folder in ('var/cache', 'var/log', 'generated'):
        files = []
        for base, dirs, names in os.walk(os.path.join(root, folder)):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(base, name)
                with open(path, encoding='utf-8', errors='replace') as handle:
                    files.append((os.path.relpath(path, root), masked_text(handle.read(), root)))
        state[folder] = files
    env = phparray.load_file(os.path.join(root, 'app', 'etc', 'env.php')) or {}
    env.pop('crypt', None)
    env.pop('install', None)
    state['env.php'] = env
    return state


def tables(root):
    conn = store.connect(root)
    try:
        def rows(sql):
            return [dict(row) for row in conn.execute(sql)]
        state = {
            'integration': rows('SELECT integration_id, name, email, endpoint, status, consumer_id, setup_type, '
                                'identity_link_url, created_at <= updated_at AS ordered FROM integration ORDER BY 1'),
            'oauth_consumer': [dict(row, secret=len(crypto.decrypt(root, row['secret'])), touched=row['touched'] != 0)
                               for row in rows("SELECT entity_id, name, secret, callback_url, rejected_callback_url, "
                                               "updated_at != '0000-00-00 00:00:00' AS touched FROM oauth_consumer "
                                               'ORDER BY 1')],
            'oauth_token': [dict(row, secret=len(crypto.decrypt(root, row['secret']) if row['type'] == 'access'
                                                 else row['secret']))
                            for row in rows('SELECT entity_id, consumer_id, admin_id, customer_id, type, secret, '
                                            'length(token) AS token, length(verifier) AS verifier, callback_url, '
                                            'revoked, authorized, user_type FROM oauth_token ORDER BY 1')],
            'oauth_nonce': rows('SELECT * FROM oauth_nonce ORDER BY 1, 2'),
            'authorization_role': rows('SELECT * FROM authorization_role ORDER BY 1'),
            'authorization_rule': rows('SELECT * FROM authorization_rule ORDER BY 1'),
            'core_config_data': [dict(row, value=crypto.decrypt(root, row['value']) if crypto.is_encrypted(row['value'])
                                      else row['value'])
                                 for row in rows('SELECT config_id, scope, scope_id, path, value FROM core_config_data '
                                                 'ORDER BY 1')],
        }
    finally:
        conn.close()
    return state


def differences(first, second, where=''):
    """Where two JSON values differ: ['path: first != second', ...]."""
    if isinstance(first, dict) and isinstance(second, dict):
        out = []
        for key in list(first) + [k for k in second if k not in first]:
            out += differences(first.get(key, '<absent>'), second.get(key, '<absent>'), '%s.%s' % (where, key))
        return out
    if isinstance(first, (list, tuple)) and isinstance(second, (list, tuple)) and len(first) == len(second):
        out = []
        for index, (a, b) in enumerate(zip(first, second)):
            out += differences(a, b, '%s[%d]' % (where, index))
        return out
    return [] if first == second else ['%s: %r != %r' % (where or '.', first, second)]


class Pair(object):
    """Two roots made alike: ``python`` answered by bridge.py, ``php`` by the shipped bridge."""

    def __init__(self, tmp_path):
        script = tmp_path / 'commerceops-magento-bridge.php'
        script.write_text(bridge_source(), encoding='utf-8')
        self.python = Side(cli.create_root(str(tmp_path / 'python' / 'magento'), base_url='http://127.0.0.1:8080/'))
        self.php = Side(cli.create_root(str(tmp_path / 'php' / 'magento'), base_url='http://127.0.0.1:8080/'),
                        str(script))
        self.answers = []

    @property
    def sides(self):
        return (self.python, self.php)

    def on_both(self, change):
        """Apply change(root) to both stores (a setup step)."""
        for side in self.sides:
            change(side.root)

    def ask(self, *actions, raw=None):
        """Both answers, masked; asserts they are the same and returns it."""
        answers = []
        for side in self.sides:
            code, response = side.ask(list(actions), raw=raw.replace('ROOT', side.root) if raw else None)
            answers.append((code, masked(response, side.root)))
        asked = raw or json.dumps(actions)
        assert not differences(answers[0], answers[1]), 'the Python copy and the PHP bridge answer %s differently:\n%s' % (
            asked, '\n'.join(differences(answers[0], answers[1])))
        stores = store_state(self.python.root), store_state(self.php.root)
        assert not differences(*stores), 'the stores differ after %s (Python copy != PHP bridge):\n%s' % (
            asked, '\n'.join(differences(*stores)))
        self.answers.append(answers[0])
        return answers[0]


@pytest.fixture
def pair(tmp_path):
    return Pair(tmp_path)


def sql(statement, *args):
    def change(root):
        conn = store.connect(root)
        try:
            conn.execute(statement, args)
        finally:
            conn.close()
    return change


# --- scenarios -------------------------------------------------------------------------------------------------

def test_system_acl_and_cache_state(pair):
    code, response = pair.ask({'action': 'system.info'}, {'action': 'acl.resources'}, {'action': 'cache.status'})
    assert code == 0 and len(response['results'][1]['resources']) == 271

    def flag_and_disable(root):
        with open(os.path.join(root, 'var', 'cache', 'invalidated.json'), 'w') as handle:
            json.dump({'config': 1, 'full_page': 1, 'layout': 1, 'nonsense': 1}, handle)
        env = phparray.load_file(os.path.join(root, 'app', 'etc', 'env.php'))
        env['cache_types']['layout'] = 0
        env['MAGE_MODE'] = 'production'
        env['system'] = {'default': {'web': {'unsecure': {'base_url': 'http://locked.example/'}}}}
        phparray.dump_file(os.path.join(root, 'app', 'etc', 'env.php'), env)
    pair.on_both(flag_and_disable)
    code, response = pair.ask({'action': 'system.info'}, {'action': 'cache.status'})
    assert response['results'][0]['mode'] == 'production'
    assert [t['id'] for t in response['results'][1]['types'] if t['invalidated']] == ['config', 'full_page']


def test_integration_lifecycle(pair):
    code, response = pair.ask(create(), create('Everything', all_resources=True, resources=[]),
                              create('Nothing', resources=[], email='', endpoint='https://n.example/cb',
                                     identity_link_url='https://n.example/login'),
                              {'action': 'integration.list'}, {'action': 'integration.list', 'names': ['acme erp', 'nope']},
                              {'action': 'integration.get', 'name': 'EVERYTHING', 'with_secrets': True},
                              {'action': 'integration.get', 'integration_id': '3'},
                              {'action': 'integration.get', 'integration_id': 99, 'with_secrets': True})
    assert code == 0 and response['results'][7] == {'integration': None}
    pair.ask(update(1, 'Acme ERP v2', email='', resources=['Magento_Backend::store', PRODUCTS, 'Vendor_Nope::x']),
             update(2, 'Everything', resources=[]), update(3, 'nothing', all_resources=True))
    code, response = pair.ask(act('activate', reauthorize=False), act('activate', reauthorize=False),
                              act('activate', reauthorize=True), act('activate', 2, reauthorize=False))
    assert [r['token_created'] for r in response['results']] == [True, False, True, True]
    pair.ask(act('prepare_exchange', 3, reauthorize=False), act('prepare_exchange', 3, reauthorize=False),
             act('prepare_exchange', 1, reauthorize=False), act('prepare_exchange', 2, reauthorize=True))
    code, response = pair.ask(act('revoke'), act('revoke'), act('revoke', 3), act('delete', 2), act('delete', 3),
                              {'action': 'integration.list'})
    assert [r.get('revoked') for r in response['results'][:3]] == [True, False, True]


def test_refusals(pair):
    pair.ask(create(), create('Other'))
    pair.ask(create('ACME erp'))                            # duplicate name, case-insensitive
    pair.ask(update(2, 'acme ERP'))                          # renamed onto another
    pair.ask(update(1, 'acme erp'))                          # a case-only rename meets itself
    pair.on_both(sql('UPDATE integration SET setup_type = 1 WHERE integration_id = 2'))
    pair.ask(update(2, 'Other'))
    pair.ask(act('delete', 2))
    for action in ('update', 'delete', 'activate', 'prepare_exchange', 'post_to_consumer', 'revoke'):
        pair.ask(dict(update(42), action='integration.' + action, reauthorize=False))
    pair.on_both(sql('DELETE FROM authorization_role WHERE user_type = ?', '1'))
    code, response = pair.ask({'action': 'integration.get', 'integration_id': 1})
    assert response['results'][0]['integration']['resources'] == []
    # An integration whose consumer is gone (only a hand-edited database has one).
    pair.on_both(sql('UPDATE integration SET consumer_id = NULL WHERE integration_id = 1'))
    pair.ask({'action': 'integration.get', 'integration_id': 1, 'with_secrets': True})
    pair.ask(act('prepare_exchange', reauthorize=False))
    pair.ask(act('post_to_consumer', reauthorize=False))


def test_fatal_error_in_magento_is_answered_by_the_bridge(pair):
    pair.on_both(lambda root: faults.write(root, {'bridge_fatal': {'actions': 'integration.activate', 'caught': True,
                                                                   'count': 1}}))
    code, response = pair.ask(create(), act('activate', reauthorize=False), {'action': 'integration.list'})
    assert code == 1 and response['error']['kind'] == 'internal' and response['error']['index'] == 1
    assert response['error']['message'] == faults.FATAL_MESSAGE and len(response['results']) == 1
    pair.ask(act('activate', reauthorize=False))


@pytest.mark.parametrize('action', [
    {'action': 'integration.create', 'email': 'x'},
    create(name='  '),
    create(name=7),
    {'action': 'integration.create', 'name': 'x', 'email': '', 'endpoint': '', 'identity_link_url': ''},
    {'action': 'integration.create', 'name': 'x', 'email': '', 'endpoint': '', 'identity_link_url': '',
     'all_resources': True},
    create(resources='Magento_Backend::store'),
    create(resources=['a', 3]),
    create(resources={'a': 'b'}),
    create(all_resources='yes'),
    create(email=None),
    act('activate', 'x'),
    act('activate', '12'),
    act('revoke', 0),
    act('revoke', -1),
    act('revoke', 1.5),
    act('revoke', True),
    act('activate', 1, reauthorize='no'),
    {'action': 'integration.get'},
    {'action': 'integration.get', 'name': 5},
    {'action': 'integration.list', 'names': 'x'},
    {'action': 'integration.list', 'names': None},
    {'action': 'config.get'},
    {'action': 'config.get', 'items': 'x'},
    {'action': 'config.get', 'items': ['x']},
    {'action': 'config.get', 'items': [{'scope': 'default'}]},
    {'action': 'config.get', 'items': [{'path': ''}]},
    {'action': 'config.get', 'items': [{'path': 5}]},
    {'action': 'config.get', 'items': [{'path': 'a/b/c', 'scope': 5}]},
    {'action': 'config.delete', 'items': [{'path': 'a/b/c', 'scope': 'stores'}, {}]},
], ids=json.dumps)
def test_input_errors(pair, action):
    pair.ask(create('First'), action)


@pytest.mark.parametrize('raw', [
    'not json',
    '[1, 2]',
    '"a string"',
    json.dumps({'protocol': 2, 'magento_root': 'ROOT', 'actions': []}),
    json.dumps({'protocol': '1', 'magento_root': 'ROOT', 'actions': []}),
    json.dumps({'protocol': None, 'magento_root': 'ROOT', 'actions': []}),
    json.dumps({'protocol': 1, 'actions': []}),
    json.dumps({'protocol': 1, 'magento_root': '', 'actions': []}),
    json.dumps({'protocol': 1, 'magento_root': 'ROOT'}),
    json.dumps({'protocol': 1, 'magento_root': 'ROOT', 'actions': 'x'}),
    json.dumps({'protocol': 1, 'magento_root': 'ROOT', 'actions': [{'action': 'system.info'}, {'action': 'nope.x'}]}),
    json.dumps({'protocol': 1, 'magento_root': 'ROOT', 'actions': [{'action': 'system.info'}, 'x']}),
    json.dumps({'protocol': 1, 'magento_root': 'ROOT', 'actions': []}),
    json.dumps({'protocol': 1, 'magento_root': 'ROOT/nowhere', 'actions': [{'action': 'system.info'}]}),
])
def test_protocol_and_bootstrap_errors(pair, raw):
    pair.ask(raw=raw)


def test_store_that_cannot_boot(pair):
    pair.on_both(lambda root: os.unlink(os.path.join(root, 'app', 'etc', 'env.php')))
    pair.ask({'action': 'system.info'})


def test_store_without_database(pair):
    def drop(root):
        for suffix in ('', '-wal', '-shm'):
            if os.path.exists(store.db_path(root) + suffix):
                os.unlink(store.db_path(root) + suffix)
    pair.on_both(drop)
    code, response = pair.ask({'action': 'system.info'})
    assert response['error']['exception'] == 'PDOException'


def test_expect_guard(pair):
    code, response = pair.ask(create('Guarded', email=''))
    read = response['results'][0]['integration']
    expect = {key: read[key] for key in ('email', 'endpoint', 'identity_link_url', 'all_resources', 'resources',
                                         'status', 'token')}
    pair.ask(update(1, 'Guarded', email='a@acme.example', expect=dict(expect, email=None)))
    pair.ask(update(1, 'Guarded', email='b@acme.example', expect=expect))                    # stale e-mail
    pair.ask(act('activate', reauthorize=False, expect={'token': read['token'], 'status': 0}))
    pair.ask(act('activate', reauthorize=False, expect={'token': read['token'], 'status': 0}))  # stale, two keys
    pair.ask(act('revoke', 99, expect={'status': 1}))                                           # not found
    pair.ask(act('revoke', expect={'status': 1, 'token': {'type': 'access', 'rows': 1}}))


def test_expect_names_a_key_the_integration_lacks(pair):
    """A misspelled key must not pass: the write is refused (issue 13: the copy ignored it, the PHP refused it)."""
    pair.ask(create('Guarded'))
    code, response = pair.ask(update(1, 'Guarded', email='new@acme.example', expect={'emial': None}))
    assert code == 1 and response['error']['kind'] == 'conflict'


def config_set(path, value, *options):
    def change(root):
        from magento_emulator import cli_magento
        import io
        out = io.StringIO()
        assert cli_magento.main(root, ['config:set'] + list(options) + [path, value], stdout=out, stderr=out) == 0, \
            out.getvalue()
    return change


def test_config_reads_and_deletes(pair):
    pair.on_both(config_set('carriers/dhl/id', 'dhl-secret-id'))
    pair.on_both(config_set('webapi/soap/charset', 'ISO', '--scope=websites', '--scope-code=base'))
    pair.on_both(config_set('webapi/soap/charset', 'UTF-16', '--scope=stores', '--scope-code=default'))
    pair.on_both(config_set('oauth/consumer/enable_integration_as_bearer', '1', '--lock-env'))
    pair.on_both(config_set('webapi/webapisecurity/allow_insecure', '1', '--lock-config'))
    pair.on_both(config_set('oauth/access_token_lifetime/admin', '4', '--scope=website', '--scope-code=base',
                            '--lock-env'))
    pair.on_both(sql("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES ('default', 0, 'x/y/z', NULL)"))
    code, response = pair.ask({'action': 'config.get', 'items': items(
        ('carriers/dhl/id', 'default', ''), ('carriers/dhl/id', None, None), ('webapi/soap/charset', 'websites', 'base'),
        ('webapi/soap/charset', 'website', 'base'), ('webapi/soap/charset', 'stores', 'default'),
        ('webapi/soap/charset', 'store', 'admin'), ('oauth/consumer/enable_integration_as_bearer', 'default', ''),
        ('oauth/consumer/enable_integration_as_bearer', 'stores', 'default'),
        ('webapi/webapisecurity/allow_insecure', 'websites', 'base'),
        ('oauth/access_token_lifetime/admin', 'websites', 'base'), ('oauth/access_token_lifetime/admin', 'default', ''),
        ('x/y/z', 'default', ''), ('web/unsecure/base_url', 'default', ''))})
    assert code == 0 and response['results'][0]['items'][0]['value'] == 'dhl-secret-id'
    # The admin's drop-downs: a Yes/No field, a select of its own, a text field, an undeclared path.
    code, response = pair.ask({'action': 'config.options', 'items': [{'path': path} for path in (
        'web/seo/use_rewrites', 'web/url/redirect_to_base', 'webapi/soap/charset', 'x/y/z')]})
    assert [item['options'] and [o['value'] for o in item['options']] for item in response['results'][0]['items']] == [
        ['1', '0'], ['0', '1', '301'], None, None]
    for scope, code_ in (('default', 'base'), ('', 'base'), ('websites', ''), ('websites', '1abc'), ('bogus', 'base'),
                         ('websites', 'nosuch'), ('stores', 'DEFAULT'), ('group', 'main_website_store')):
        pair.ask({'action': 'config.get', 'items': items(('webapi/soap/charset', scope, code_))})
    pair.ask({'action': 'config.delete', 'items': items(('webapi/soap/charset', 'websites', 'base'),
                                                        ('oauth/consumer/enable_integration_as_bearer', 'default', ''))})
    pair.on_both(lambda root: os.makedirs(os.path.join(root, 'var', 'cache', 'config'), exist_ok=True))
    pair.ask({'action': 'config.delete', 'items': items(('webapi/soap/charset', 'websites', 'base'),
                                                        ('webapi/soap/charset', 'stores', 'default'),
                                                        ('carriers/dhl/id', 'default', ''))},
             {'action': 'config.get', 'items': items(('webapi/soap/charset', 'websites', 'base'))})


@pytest.mark.parametrize('status, redirects', [(200, None), (302, None), (302, '1'), (500, '2')])
def test_post_to_consumer_sends_the_same_form(pair, consumer_endpoint, status, redirects):
    ConsumerEndpoint.status = status
    url = 'http://127.0.0.1:%d/endpoint?x=1' % consumer_endpoint.server_port
    if redirects:
        pair.on_both(sql("INSERT INTO core_config_data (path, value) VALUES ('oauth/consumer/post_maxredirects', ?)",
                         redirects))
    pair.ask(create('Exchanged', endpoint=url, identity_link_url=url))
    sent = []
    for side in pair.sides:
        ConsumerEndpoint.captured = []
        code, response = side.ask([act('post_to_consumer', reauthorize=False), act('post_to_consumer', reauthorize=True),
                                   {'action': 'integration.get', 'integration_id': 1, 'with_secrets': True}])
        assert code == 0, response
        credentials = response['results'][2]['credentials']
        port = str(consumer_endpoint.server_port)
        sent.append([(path, [(name, value.replace(port, 'PORT')) for name, value in headers],
                      re.sub(r'(oauth_consumer_key|oauth_consumer_secret|oauth_verifier)=[0-9a-z]{32}', r'\1=<secret>',
                             body))
                     for path, headers, body in ConsumerEndpoint.captured])
        assert credentials['consumer_secret'] in ConsumerEndpoint.captured[0][2]
    assert sent[1] == sent[0]
    assert len(sent[0]) == (4 if status == 302 and redirects else 2)
    assert store_state(pair.php.root) == store_state(pair.python.root)


def _deploy(system):
    def change(root):
        env = phparray.load_file(os.path.join(root, 'app', 'etc', 'env.php'))
        env['system'] = system
        phparray.dump_file(os.path.join(root, 'app', 'etc', 'env.php'), env)
    return change


def _rewrites(*rows):
    def change(root):
        for row in rows:
            sql("INSERT INTO core_config_data (scope, scope_id, path, value) VALUES (?, ?, 'web/seo/use_rewrites', ?)",
                *row)(root)
    return change


@pytest.mark.parametrize('setup, store_base_url', [
    (_rewrites(('default', 0, '1'), ('stores', 1, '0')), 'http://127.0.0.1:8080/index.php/'),
    (_rewrites(('default', 0, '0'), ('websites', 1, '1')), 'http://127.0.0.1:8080/'),
    (_rewrites(('default', 0, '1'), ('stores', 0, '0')), 'http://127.0.0.1:8080/'),   # the admin store is not asked
    (_deploy({'stores': {'default': {'web': {'seo': {'use_rewrites': 0}}}}, 'default': {'web': {'seo': {
        'use_rewrites': 1}}}}), 'http://127.0.0.1:8080/index.php/'),
    (_deploy({'default': {'web': {'seo': {'use_rewrites': True}, 'unsecure': {'base_url': 'http://locked.example/'}}}}),
     'http://locked.example/'),
], ids=['store-view-off', 'website-on', 'admin-store-off', 'env-php-store-view-off', 'env-php-locked-base-url'])
def test_store_base_url_is_the_default_store_views(pair, consumer_endpoint, setup, store_base_url):
    """SPEC 15: the URL of the default store view, with its Web Server Rewrites setting, at whichever level it is set."""
    url = 'http://127.0.0.1:%d/endpoint' % consumer_endpoint.server_port
    pair.ask(create('Exchanged', endpoint=url, identity_link_url=url))
    pair.on_both(setup)
    for side in pair.sides:
        ConsumerEndpoint.captured = []
        code, response = side.ask([act('post_to_consumer', reauthorize=False)])
        assert code == 0, response
        form = dict(urllib.parse.parse_qsl(ConsumerEndpoint.captured[0][2]))
        assert form['store_base_url'] == store_base_url, side.script or 'Python copy'


def test_post_to_consumer_transport_failure(pair):
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    url = 'http://127.0.0.1:%d/cb' % sock.getsockname()[1]
    sock.close()   # nothing listens there
    pair.ask(create('Unreachable', endpoint=url, identity_link_url=url), create('Nowhere', endpoint='not a url'))
    pair.ask(act('post_to_consumer', reauthorize=False))
    pair.ask(act('post_to_consumer', 2, reauthorize=False))
