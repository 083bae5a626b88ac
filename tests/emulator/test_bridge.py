"""The bridge executor (docs/bridge-protocol.md), directly and through the fake php."""

import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse

import pytest

from magento_emulator import bridge, store

PRODUCTS = 'Magento_Catalog::products'

NO_TOKEN = {'type': None, 'rows': 0, 'created_at': None, 'revoked': False}


def kind(token):
    """The token's type and row count (its created_at is the time of the test run)."""
    return token['type'], token['rows']


def req(root, *actions, protocol=1):
    return {'protocol': protocol, 'magento_root': root, 'actions': list(actions)}


def create_action(name='Acme ERP', **kw):
    action = {'action': 'integration.create', 'name': name, 'email': 'ops@acme.example', 'endpoint': '',
              'identity_link_url': '', 'all_resources': False, 'resources': [PRODUCTS]}
    action.update(kw)
    return action


def run(root, *actions):
    return bridge.execute(json.dumps(req(root, *actions)))


def test_system_info_and_acl(emulator_root):
    response, code = run(emulator_root, {'action': 'system.info'}, {'action': 'acl.resources'})
    assert code == 0 and response['ok'] is True and response['protocol'] == 1
    assert response['magento_version'] == '2.4.7-p3'
    info = response['results'][0]
    assert info == {'magento_version': '2.4.7-p3', 'edition': 'Community', 'mode': 'default',
                    'base_url': 'http://127.0.0.1:8080/', 'secure_base_url': 'http://127.0.0.1:8080/'}
    tree = response['results'][1]['resources']
    assert len(tree) == 271 and set(tree[0]) == {'id', 'title', 'parent'}


def test_integration_lifecycle(emulator_root):
    response, code = run(emulator_root, create_action(), {'action': 'integration.get', 'name': 'acme erp',
                                                          'with_secrets': True})
    assert code == 0
    integration = response['results'][0]['integration']
    assert list(integration) == ['integration_id', 'name', 'email', 'endpoint', 'identity_link_url', 'status',
                                 'setup_type', 'consumer_id', 'created_at', 'updated_at', 'all_resources',
                                 'resources', 'token']
    got = response['results'][1]
    assert got['integration'] == integration
    assert set(got['credentials']) == {'consumer_key', 'consumer_secret', 'access_token', 'access_token_secret'}
    assert got['credentials']['access_token'] is None
    iid = integration['integration_id']

    response, code = run(emulator_root, {'action': 'integration.activate', 'integration_id': iid, 'reauthorize': False},
                         {'action': 'integration.activate', 'integration_id': iid, 'reauthorize': False})
    first, second = response['results']
    assert first['token_created'] is True and second['token_created'] is False
    assert second['integration']['status'] == 1 and kind(second['integration']['token']) == ('access', 1)
    assert second['credentials'] == first['credentials']

    response, code = run(emulator_root, {'action': 'integration.list'},
                         {'action': 'integration.list', 'names': ['nope']},
                         {'action': 'integration.get', 'integration_id': 999})
    assert [i['name'] for i in response['results'][0]['integrations']] == ['Acme ERP']
    assert response['results'][1] == {'integrations': []}
    assert response['results'][2] == {'integration': None}

    response, code = run(emulator_root, dict(create_action(all_resources=True, resources=[]),
                                             action='integration.update', integration_id=iid))
    assert code == 0 and response['results'][0]['integration']['all_resources'] is True

    response, code = run(emulator_root, {'action': 'integration.revoke', 'integration_id': iid})
    assert response['results'][0]['revoked'] is True
    assert response['results'][0]['integration']['token'] == NO_TOKEN

    response, code = run(emulator_root, {'action': 'integration.prepare_exchange', 'integration_id': iid,
                                         'reauthorize': False})
    result = response['results'][0]
    assert len(result['oauth_verifier']) == 32 and result['integration']['token']['type'] == 'verifier'
    assert result['credentials']['consumer_key']

    response, code = run(emulator_root, {'action': 'integration.delete', 'integration_id': iid},
                         {'action': 'integration.list'})
    assert response['results'][0]['deleted']['name'] == 'Acme ERP'
    assert response['results'][1] == {'integrations': []}


def test_first_failure_stops_the_batch(emulator_root):
    response, code = run(emulator_root, create_action(), create_action('ACME ERP'), {'action': 'integration.list'})
    assert code == 1 and response['ok'] is False
    assert len(response['results']) == 1
    # A duplicate create is a lost race to the module (it read the name as absent): kind conflict, Magento's text kept.
    assert response['error'] == {'index': 1, 'action': 'integration.create', 'kind': 'conflict', 'exception': None,
                                 'message': 'Integration "ACME ERP" exists now (Magento: The integration with name '
                                            '"ACME ERP" exists.): another process created it meanwhile.'}


def test_not_found_and_input_errors(emulator_root):
    response, code = run(emulator_root, {'action': 'integration.delete', 'integration_id': 42})
    assert code == 1
    assert response['error'] == {'index': 0, 'action': 'integration.delete', 'kind': 'not_found', 'exception': None,
                                 'message': 'The integration with ID "42" doesn\'t exist.'}
    cases = [
        ({'action': 'integration.create', 'email': 'x'}, 'The parameter "name" is missing.'),
        (create_action(name='  '), 'The parameter "name" must not be empty.'),
        ({'action': 'integration.create', 'name': 'x', 'email': '', 'endpoint': '', 'identity_link_url': ''},
         'The parameter "all_resources" is missing.'),
        (create_action(resources='Magento_Backend::store'), 'The parameter "resources" must be a list of strings.'),
        (create_action(all_resources='yes'), 'The parameter "all_resources" must be true or false.'),
        (create_action(email=None), 'The parameter "email" is missing.'),
        ({'action': 'integration.activate', 'integration_id': 'x'},
         'The parameter "integration_id" must be a positive integer.'),
        ({'action': 'integration.revoke', 'integration_id': 0},
         'The parameter "integration_id" must be a positive integer.'),
        ({'action': 'integration.get'}, 'The parameter "name" or "integration_id" is required.'),
        ({'action': 'integration.list', 'names': 'x'}, 'The parameter "names" must be a list of strings.'),
    ]
    for action, message in cases:
        response, code = run(emulator_root, action)
        assert code == 1 and response['error']['kind'] == 'input', action
        assert response['error']['message'] == message
        assert response['error']['exception'] is None
    response, code = run(emulator_root, {'action': 'integration.get', 'integration_id': '1'})
    assert code == 0 and response['results'] == [{'integration': None}]


def test_protocol_errors(emulator_root):
    response, code = bridge.execute(json.dumps(req(emulator_root, {'action': 'system.info'}, protocol=2)))
    assert code == 1
    assert response == {'protocol': 1, 'ok': False, 'magento_version': None, 'results': [],
                        'error': {'index': 0, 'action': None, 'kind': 'protocol', 'exception': None,
                                  'message': 'Bridge protocol 1 cannot answer a request of protocol 2.'}}
    response, code = bridge.execute(json.dumps(req(emulator_root, protocol='1')))
    assert response['error']['message'] == 'Bridge protocol 1 cannot answer a request of protocol 1.'
    response, code = bridge.execute(json.dumps(req(emulator_root, protocol=None)))
    assert response['error']['message'] == 'Bridge protocol 1 cannot answer a request of protocol null.'
    response, code = bridge.execute(json.dumps(req(emulator_root)), request_protocol=7)
    assert response['error']['message'] == 'Bridge protocol 1 cannot answer a request of protocol 7.'
    response, code = bridge.execute('{not json')
    assert code == 1 and response['error']['kind'] == 'protocol'
    assert response['error']['message'] == 'The request is not a JSON object: Syntax error.'
    response, code = bridge.execute(json.dumps({'protocol': 1, 'actions': []}))
    assert response['error']['message'] == 'The request has no "magento_root".'
    response, code = bridge.execute(json.dumps({'protocol': 1, 'magento_root': emulator_root}))
    assert response['error']['message'] == 'The request has no "actions" list.'


def test_unknown_action_refused_before_anything_runs(emulator_root):
    response, code = run(emulator_root, create_action(), {'action': 'integration.frobnicate'})
    assert code == 1 and response['results'] == []
    assert response['error'] == {'index': 1, 'action': 'integration.frobnicate', 'kind': 'protocol',
                                 'exception': None, 'message': 'Unknown bridge action "integration.frobnicate".'}
    response, dummy = run(emulator_root, {'action': 'integration.list'})
    assert response['results'][0]['integrations'] == []  # the create did not run


def test_revoke_removes_stray_rows_too(emulator_root):
    run(emulator_root, create_action())
    for dummy in range(2):
        response, code = run(emulator_root, {'action': 'integration.prepare_exchange', 'integration_id': 1})
        assert code == 0
    from magento_emulator import integrations, store
    conn = store.connect(emulator_root)
    integrations.convert_to_request(conn, conn.execute('SELECT entity_id FROM oauth_token').fetchone()[0])
    response, code = run(emulator_root, {'action': 'integration.prepare_exchange', 'integration_id': 1})
    assert kind(response['results'][0]['integration']['token']) == ('request', 2)
    response, code = run(emulator_root, {'action': 'integration.revoke', 'integration_id': 1})
    assert response['results'][0]['revoked'] is True
    assert response['results'][0]['integration']['token'] == NO_TOKEN
    assert response['results'][0]['integration']['status'] == 0


def test_bootstrap_error(tmp_path):
    response, code = run(str(tmp_path), {'action': 'system.info'})
    assert code == 1 and response['error']['kind'] == 'bootstrap' and response['magento_version'] is None
    assert response['error']['message'] == ('%s/app/bootstrap.php does not exist: is magento_root a Magento '
                                            'installation?' % tmp_path)
    assert response['error']['index'] == 0 and response['error']['action'] == 'system.info'


def test_secrets_never_in_errors(emulator_root):
    response, dummy = run(emulator_root, create_action(), {'action': 'integration.activate', 'integration_id': 1,
                                                           'reauthorize': False})
    creds = response['results'][1]['credentials']
    response, code = run(emulator_root, {'action': 'integration.post_to_consumer', 'integration_id': 1,
                                         'reauthorize': False})
    assert code == 1 and response['error']['kind'] == 'magento'
    assert response['error']['message'] == ('The attempt to post data to consumer failed due to an unexpected '
                                            'error. Please try again later.')
    text = json.dumps(response)
    for secret in creds.values():
        assert secret not in text


def test_config_and_cache_actions(emulator_root):
    response, code = run(emulator_root,
                         {'action': 'config.get', 'items': [{'path': 'web/unsecure/base_url', 'scope': 'default',
                                                             'scope_code': ''}]},
                         {'action': 'config.options', 'items': [{'path': 'web/seo/use_rewrites'}, {'path': 'web/unsecure/base_url'}]},
                         {'action': 'cache.status'})
    assert code == 0, response
    item = response['results'][0]['items'][0]
    assert item['exists'] is True and item['value'] == 'http://127.0.0.1:8080/'
    options = response['results'][1]['items']
    assert [o['value'] for o in options[0]['options']] == ['1', '0'] and options[0]['type'] == 'select'
    assert options[1]['options'] is None and options[1]['type'] == 'text'
    types = response['results'][2]['types']
    assert len(types) == 15 and types[0]['id'] == 'config'
    response, code = run(emulator_root,
                         {'action': 'config.delete', 'items': [{'path': 'web/unsecure/base_url', 'scope': 'default',
                                                                'scope_code': ''}]})
    assert code == 0, response
    assert response['results'][0]['items'][0]['deleted'] is True


# --- through bin/php --------------------------------------------------------------------------

def php(root, *args, stdin=''):
    return subprocess.run([os.path.join(root, 'bin', 'php')] + list(args), input=stdin, check=False, capture_output=True,
                          text=True, timeout=60)


def test_fake_php_runs_the_bridge(emulator_root, bridge_script):
    done = php(emulator_root, bridge_script, stdin=json.dumps(req(emulator_root, {'action': 'system.info'})))
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    assert response['ok'] is True and response['results'][0]['edition'] == 'Community'
    done = php(emulator_root, bridge_script, stdin=json.dumps(req(emulator_root, create_action('x'), create_action('X'))))
    assert done.returncode == 1 and json.loads(done.stdout)['error']['kind'] == 'conflict'


def test_fake_php_marker_protocol_mismatch_in_the_python_copy(emulator_root, tmp_path, monkeypatch):
    # The Python copy answers for a script whose marker names another protocol (the real PHP reads its own constant).
    monkeypatch.setenv('MAGENTO_EMULATOR_PHP', 'none')
    path = tmp_path / 'commerceops-magento-bridge.php'
    path.write_text('<?php\n// commerceops-magento-bridge protocol=9\nexit(0);\n')
    done = php(emulator_root, str(path), stdin=json.dumps(req(emulator_root)))
    assert done.returncode == 1
    error = json.loads(done.stdout)['error']
    assert error['kind'] == 'protocol'
    assert error['message'] == 'Bridge protocol 1 cannot answer a request of protocol 9.'


def test_concurrent_duplicate_creates(emulator_root, bridge_script):
    script = bridge_script
    body = json.dumps(req(emulator_root, create_action('Racer')))
    procs = [subprocess.Popen([os.path.join(emulator_root, 'bin', 'php'), script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for dummy in range(4)]
    outs = [p.communicate(body, timeout=60) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1, 1, 1], outs
    for (out, err), p in zip(outs, procs):
        response = json.loads(out)
        if p.returncode:
            assert response['error']['kind'] == 'conflict', response
            assert response['error']['message'].startswith('Integration "Racer" exists now (Magento: ')
    response, dummy = run(emulator_root, {'action': 'integration.list'})
    assert len(response['results'][0]['integrations']) == 1


def test_expect_writes_only_when_the_integration_is_as_read(emulator_root):
    response, _code = run(emulator_root, create_action(name='Guarded', email=''))
    read = response['results'][0]['integration']
    iid = read['integration_id']
    expect = {'email': None, 'endpoint': read['endpoint'], 'identity_link_url': read['identity_link_url'],
              'all_resources': read['all_resources'], 'resources': read['resources']}
    # As read (an empty e-mail is stored as '' and expected as null: the same): the update runs.
    response, code = run(emulator_root, create_action(name='Guarded', email='a@acme.example', action='integration.update',
                                                      integration_id=iid, expect=expect))
    assert code == 0 and response['results'][0]['integration']['email'] == 'a@acme.example'
    # The same stale read again: refused, nothing written.
    response, code = run(emulator_root, create_action(name='Guarded', email='b@acme.example', action='integration.update',
                                                      integration_id=iid, expect=expect))
    assert code == 1 and response['error']['kind'] == 'conflict'
    assert response['error']['message'] == ('Integration "Guarded" changed since it was read (email): another process '
                                            'wrote it meanwhile.')
    response, _code = run(emulator_root, {'action': 'integration.get', 'integration_id': iid})
    assert response['results'][0]['integration']['email'] == 'a@acme.example'
    # A token action expecting the inactive state it read is refused once another run activated it.
    run(emulator_root, {'action': 'integration.activate', 'integration_id': iid, 'reauthorize': False})
    response, code = run(emulator_root, {'action': 'integration.activate', 'integration_id': iid, 'reauthorize': False,
                                         'expect': {'status': 0, 'token': NO_TOKEN}})
    assert code == 1 and response['error']['kind'] == 'conflict' and '(status, token)' in response['error']['message']
    response, _code = run(emulator_root, {'action': 'integration.get', 'integration_id': iid})
    assert kind(response['results'][0]['integration']['token']) == ('access', 1)


def test_token_metadata_created_at_in_utc_and_revoked_without_secrets(emulator_root):
    """INTEGRATION.token carries the integration token row's age (oauth_token.created_at, ISO 8601 UTC) and its
    revoked flag: what a rotation schedule needs, and nothing secret."""
    response, dummy = run(emulator_root, create_action())
    iid = response['results'][0]['integration']['integration_id']
    assert response['results'][0]['integration']['token'] == {'type': None, 'rows': 0, 'created_at': None,
                                                              'revoked': False}
    response, dummy = run(emulator_root, {'action': 'integration.activate', 'integration_id': iid})
    token = response['results'][0]['integration']['token']
    from magento_emulator import store
    conn = store.connect(emulator_root)
    row = conn.execute('SELECT created_at, token, secret FROM oauth_token').fetchone()
    assert token == {'type': 'access', 'rows': 1, 'created_at': row['created_at'].replace(' ', 'T') + 'Z',
                     'revoked': False}
    conn.execute("UPDATE oauth_token SET created_at = '2026-01-02 03:04:05', revoked = 1")
    response, dummy = run(emulator_root, {'action': 'integration.get', 'integration_id': iid},
                          {'action': 'integration.list'})
    token = response['results'][0]['integration']['token']
    assert token == {'type': 'access', 'rows': 1, 'created_at': '2026-01-02T03:04:05Z', 'revoked': True}
    assert response['results'][1]['integrations'][0]['token'] == token
    assert row['token'] not in json.dumps(response) and 'secret' not in token

    # A reauthorization replaces the row: the new token is as old as the call.
    response, dummy = run(emulator_root, {'action': 'integration.activate', 'integration_id': iid, 'reauthorize': True})
    token = response['results'][0]['integration']['token']
    assert token['created_at'] > '2026-01-02T03:04:05Z' and token['revoked'] is False


def test_config_file_integrations_are_only_guarded(emulator_root):
    """The client refuses to change config-file integrations before any write, with the fix; the bridge only guards."""
    response, code = run(emulator_root, create_action('From XML'))
    integration_id = response['results'][0]['integration']['integration_id']
    conn = store.connect(emulator_root)
    try:
        with store.transaction(conn):
            conn.execute('UPDATE integration SET setup_type = 1 WHERE integration_id = ?', (integration_id,))
    finally:
        conn.close()
    for action, what in (('integration.update', 'updated'), ('integration.delete', 'deleted')):
        request = dict(create_action('From XML'), action=action, integration_id=integration_id)
        response, code = run(emulator_root, request)
        assert code == 1 and response['error']['kind'] == 'input'
        assert response['error']['message'] == 'Integration %d comes from a config file (setup_type 1): not %s.' % (
            integration_id, what)
    response, code = run(emulator_root, {'action': 'integration.get', 'integration_id': integration_id})
    assert response['results'][0]['integration']['name'] == 'From XML'


def test_expect_compares_resources_as_a_set(emulator_root):
    """Magento reads rule rows in no fixed order: a read in one order and a re-read in another are no conflict."""
    response, _code = run(emulator_root, create_action(name='Ordered', resources=[PRODUCTS, 'Magento_Sales::sales']))
    read = response['results'][0]['integration']
    expect = {'email': read['email'], 'endpoint': None, 'identity_link_url': None, 'all_resources': False,
              'resources': list(reversed(read['resources']))}
    response, code = run(emulator_root, create_action(name='Ordered', email='a@acme.example', action='integration.update',
                                                      integration_id=read['integration_id'], expect=expect,
                                                      resources=[PRODUCTS, 'Magento_Sales::sales']))
    assert code == 0, response
    # Other ids are a change.
    expect.update(email='a@acme.example', resources=['Magento_Backend::admin', PRODUCTS])
    response, code = run(emulator_root, create_action(name='Ordered', email='b@acme.example', action='integration.update',
                                                      integration_id=read['integration_id'], expect=expect))
    assert code == 1 and response['error']['kind'] == 'conflict' and '(resources)' in response['error']['message']


def test_expect_naming_a_field_the_integration_lacks_is_a_conflict(emulator_root):
    """As the PHP bridge answers: a misspelled key must not pass the guard."""
    response, _code = run(emulator_root, create_action(name='Misspelt'))
    iid = response['results'][0]['integration']['integration_id']
    response, code = run(emulator_root, create_action(name='Misspelt', action='integration.update', integration_id=iid,
                                                      expect={'e_mail': None}))
    assert code == 1 and response['error']['kind'] == 'conflict' and '(e_mail)' in response['error']['message']


def test_a_create_racing_past_the_duplicate_check_meets_the_unique_index(emulator_root, tmp_path, bridge_script):
    """Magento's duplicate-name check is a plain read before the save: a create of the same name in between makes the
    save fail on the unique index (AlreadyExistsException), which the bridge answers as a conflict."""
    from magento_emulator import faults
    inside = str(tmp_path / 'inside')
    faults.write(emulator_root, {'bridge_delay': {'seconds': 3, 'actions': 'integration.create', 'within': True,
                                                  'touch': inside, 'count': 1}})
    slow = subprocess.Popen([os.path.join(emulator_root, 'bin', 'php'), bridge_script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    slow.stdin.write(json.dumps(req(emulator_root, create_action('Racer', resources=[PRODUCTS]))))
    slow.stdin.close()
    deadline = time.time() + 30
    while not os.path.exists(inside) and time.time() < deadline:
        time.sleep(0.02)
    assert os.path.exists(inside), slow.stderr.read()
    response, code = run(emulator_root, create_action('RACER'))
    assert code == 0, response
    out = slow.stdout.read()
    assert slow.wait(timeout=30) == 1
    error = json.loads(out)['error']
    assert error['kind'] == 'conflict' and error['exception'] is None
    assert error['message'] == ('Integration "Racer" exists now (Magento: Unique constraint violation found): another '
                                'process created it meanwhile.')
    response, dummy = run(emulator_root, {'action': 'integration.list'})
    assert [i['name'] for i in response['results'][0]['integrations']] == ['RACER']


class _Callback(http.server.BaseHTTPRequestHandler):
    forms = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length'])).decode('ascii')
        _Callback.forms.append(dict(urllib.parse.parse_qsl(body)))
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize('rewrites, store_base_url', [('1', 'http://127.0.0.1:8080/'),
                                                      ('0', 'http://127.0.0.1:8080/index.php/')])
def test_bridge_posts_the_store_url_a_web_request_would(emulator_root, bridge_script, rewrites, store_base_url):
    # Issue 10 item 7: with rewrites off Magento puts the running script's name in store_base_url; the bridge
    # makes it build the front controller's URL (index.php/), never its own file name.
    server = http.server.HTTPServer(('127.0.0.1', 0), _Callback)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Callback.forms = []
    try:
        endpoint = 'http://127.0.0.1:%d/callback' % server.server_port
        response, dummy = run(emulator_root, create_action('cb', endpoint=endpoint, identity_link_url=endpoint))
        integration_id = response['results'][0]['integration']['integration_id']
        from magento_emulator import config
        config.set_value(emulator_root, 'web/seo/use_rewrites', rewrites)
        done = php(emulator_root, bridge_script, stdin=json.dumps(req(
            emulator_root, {'action': 'integration.post_to_consumer', 'integration_id': integration_id})))
        assert done.returncode == 0, done.stdout
    finally:
        server.shutdown()
        server.server_close()
    assert [form['store_base_url'] for form in _Callback.forms] == [store_base_url]
