"""bin/magento emulation: exact stdout/stderr/exit codes of observed/bin-magento.md."""

import io
import json
import os

import pytest

from magento_emulator import store

IDS = ['config', 'layout', 'block_html', 'collections', 'reflection', 'db_ddl', 'compiled_config', 'eav',
       'customer_notification', 'config_integration', 'config_integration_api', 'graphql_query_resolver_result',
       'full_page', 'config_webservice', 'translate']
SET_USAGE = ('config:set [--scope SCOPE] [--scope-code SCOPE-CODE] [-e|--lock-env] [-c|--lock-config] [-l|--lock] '
             '[--] <path> <value>')
ALLOW = 'webapi/webapisecurity/allow_insecure'
BEARER = 'oauth/consumer/enable_integration_as_bearer'


@pytest.fixture(autouse=True)
def no_columns(monkeypatch):
    monkeypatch.delenv('COLUMNS', raising=False)


def run(root, *argv):
    # imported here, not at collection: test_cli.py swaps the module in sys.modules to test php dispatch
    from magento_emulator import cli_magento
    out, err = io.StringIO(), io.StringIO()
    code = cli_magento.main(root, list(argv), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), code


def ok(text):
    return (text, '', 0)


def fail(text):
    return (text, '', 1)


def box(lines, width=None):
    width = width or max(len(line) for line in lines) + 4
    return ([' ' * width] + ['  %s%s' % (line, ' ' * (width - 2 - len(line))) for line in lines] + [' ' * width])


def boxed(lines, usage=None, origin=None):
    out = [''] + (['In %s line %s:' % origin] if origin else []) + box(lines) + ['']
    if usage:
        out += [usage, '']
    return '\n'.join(out) + '\n'


def invalidated(root):
    path = os.path.join(root, 'var/cache/invalidated.json')
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


def unsupported_box(command, names):
    lines = ["The following requested cache types are not supported: %s." % ', '.join("'%s'" % n for n in names),
             'Supported types: config, layout, block_html, collections, reflection, db_dd',
             'l, compiled_config, eav, customer_notification, config_integration, config_',
             'integration_api, graphql_query_resolver_result, full_page, config_webservic',
             'e, translate']
    text = '\n'.join([''] + ['In AbstractCacheManageCommand.php line 55:'] + box(lines, 79) + ['', command + ' [--bootstrap '
                     'BOOTSTRAP] [--] [<types>...]', '']) + '\n'
    return text


# ---------------------------------------------------------------------------------------------- config, section A

def test_config_set_and_show_default_scope(emulator_root):
    r = emulator_root
    assert run(r, 'config:show', ALLOW) == ok('\n')
    assert run(r, 'config:set', ALLOW, '1') == ok('Value was saved.\n')
    assert invalidated(r) == {'config': 1, 'config_webservice': 1}
    assert run(r, 'config:set', ALLOW, '1') == ok('Value was saved.\n')
    assert run(r, 'config:show', ALLOW) == ok('1\n')
    assert run(r, 'config:set', ALLOW, '0') == ok('Value was saved.\n')
    assert run(r, 'config:show', ALLOW) == ok('0\n')
    assert invalidated(r) == {'config': 1, 'config_webservice': 1}


def test_config_set_does_not_check_a_value_against_the_fields_options(emulator_root):
    # SPEC 8.2: a Yes/No field takes anything through config:set; only the admin's dropdown limits it.
    assert run(emulator_root, 'config:set', 'web/seo/use_rewrites', 'banana') == ok('Value was saved.\n')
    assert run(emulator_root, 'config:show', 'web/seo/use_rewrites') == ok('banana\n')


def test_same_value_flags_nothing(emulator_root):
    assert run(emulator_root, 'config:set', BEARER, '1') == ok('Value was saved.\n')
    assert run(emulator_root, 'cache:clean')[2] == 0
    assert run(emulator_root, 'config:set', BEARER, '1') == ok('Value was saved.\n')
    assert invalidated(emulator_root) == {}


@pytest.mark.parametrize('argv, path', [
    (['config:set', 'bogus/path/here', '1'], 'bogus/path/here'),
    (['config:set', 'webapi/webapisecurity', '1'], 'webapi/webapisecurity'),
    (['config:set', 'system/adminnotification/feed_url', '127.0.0.1:8099/notifications.rss'],
     'system/adminnotification/feed_url'),
    (['config:show', 'bogus/path/here'], 'bogus/path/here'),
    (['config:show', 'webapi/webapisecurity'], 'webapi/webapisecurity'),
    (['config:show', 'webapi'], 'webapi'),
    (['config:show', 'oauth'], 'oauth'),
])
def test_undeclared_paths(emulator_root, argv, path):
    assert run(emulator_root, *argv) == fail('The "%s" path doesn\'t exist. Verify and try again.\n' % path)


def test_declared_unset_and_config_xml_default_print_an_empty_line(emulator_root):
    assert run(emulator_root, 'config:show', 'oauth/consumer/post_timeout') == ok('\n')
    assert run(emulator_root, 'config:show', 'carriers/dhl/account') == ok('\n')


def test_missing_value_and_unknown_option(emulator_root):
    assert run(emulator_root, 'config:set', ALLOW) == (
        '', boxed(['Not enough arguments (missing: "value").'], SET_USAGE), 1)
    assert run(emulator_root, 'config:set', '--le', BEARER, '1') == (
        '', boxed(['The "--le" option does not exist.'], SET_USAGE), 1)
    assert run(emulator_root, 'config:set') == (
        '', boxed(['Not enough arguments (missing: "path, value").'], SET_USAGE), 1)
    assert run(emulator_root, 'config:set', 'a', 'b', 'c') == (
        '', boxed(['Too many arguments to "config:set" command, expected arguments "path" "valu', 'e".'], SET_USAGE), 1)
    assert run(emulator_root, 'config:set', '--scope') == (
        '', boxed(['The "--scope" option requires a value.'], SET_USAGE), 1)


@pytest.mark.parametrize('options, message', [
    (['--scope=bogus'], 'A scope code is missing. Enter a code and try again.'),
    (['--scope=websites'], 'A scope code is missing. Enter a code and try again.'),
    (['--scope=default', '--scope-code=base'],
     'The "default" scope can\'t include a scope code. Try again without entering a scope code.'),
    (['--scope=', '--scope-code=base'], 'A scope is missing. Enter a scope and try again.'),
    (['--scope=websites', '--scope-code=nosuch'], 'The "nosuch" value doesn\'t exist. Enter another value and try again.'),
    (['--scope=stores', '--scope-code=9bad'], 'The scope code can include only letters (a-z), numbers (0-9) and '
                                              'underscores (_). Also, the first character must be a letter.'),
    (['--scope=store', '--scope-code=DEFAULT'], 'The "DEFAULT" value doesn\'t exist. Enter another value and try again.'),
    (['--scope=group', '--scope-code=main_website_store'],
     'The "main_website_store" value doesn\'t exist. Enter another value and try again.'),
    (['--scope=bogus', '--scope-code=base'], 'The "bogus" value doesn\'t exist. Enter another value and try again.'),
    (['--scope=websites', '--scope-code=1'], 'The scope code can include only letters (a-z), numbers (0-9) and '
                                             'underscores (_). Also, the first character must be a letter.'),
])
def test_scope_errors(emulator_root, options, message):
    assert run(emulator_root, 'config:set', *(options + [ALLOW, '0'])) == fail(message + '\n')


def test_show_scope_code_missing(emulator_root):
    assert run(emulator_root, 'config:show', '--scope=websites') == \
        fail('A scope code is missing. Enter a code and try again.\n')


def test_scoped_rows(emulator_root):
    r = emulator_root
    assert run(r, 'config:set', ALLOW, '0') == ok('Value was saved.\n')
    assert run(r, 'config:set', '--scope=website', '--scope-code=base', ALLOW, '0') == ok('Value was saved.\n')
    assert run(r, 'config:set', '--scope=stores', '--scope-code=default', ALLOW, '0') == ok('Value was saved.\n')
    conn = store.connect(r)
    got = [tuple(x) for x in conn.execute('SELECT scope, scope_id, value FROM core_config_data WHERE path = ? '
                                          'ORDER BY config_id', (ALLOW,))]
    conn.close()
    assert got == [('default', 0, '0'), ('websites', 1, '0'), ('stores', 1, '0')]
    assert run(r, 'config:show', '--scope=website', '--scope-code=base', ALLOW) == ok('0\n')
    assert run(r, 'config:show', '--scope=stores', '--scope-code=default', ALLOW) == ok('0\n')
    assert run(r, 'config:show', '--scope=websites', '--scope-code=base') == ok('%s - 0\n' % ALLOW)


def test_encrypted_and_empty(emulator_root):
    r = emulator_root
    assert run(r, 'config:set', 'carriers/dhl/id', 'my-secret-id') == ok('Value was saved.\n')
    assert run(r, 'config:show', 'carriers/dhl/id') == ok('******\n')
    assert run(r, 'config:set', 'carriers/dhl/account', '') == ok('Value was saved.\n')
    assert run(r, 'config:show', 'carriers/dhl/account') == ok('\n')


# ---------------------------------------------------------------------------------------------- locks, section B/C

def test_locks(emulator_root):
    r = emulator_root
    locked = 'The value you set has already been locked. To change the value, use the --lock-env option.\n'
    env_path = os.path.join(r, 'app/etc/env.php')
    with open(env_path) as handle:
        env_before = handle.read()
    assert run(r, 'config:set', BEARER, '1') == ok('Value was saved.\n')
    assert run(r, 'config:set', '--lock-env', BEARER, '1') == ok('Value was saved in app/etc/env.php and locked.\n')
    with open(env_path) as handle:
        env_after = handle.read()
    assert env_after == env_before[:-4] + (
        ",\n    'system' => [\n        'default' => [\n            'oauth' => [\n"
        "                'consumer' => [\n                    'enable_integration_as_bearer' => '1'\n"
        "                ]\n            ]\n        ]\n    ]\n];\n")
    assert run(r, 'config:set', BEARER, '0') == fail(locked)
    assert run(r, 'config:set', BEARER, '1') == fail(locked)
    assert run(r, 'config:set', '--scope=websites', '--scope-code=base', BEARER, '0') == ok('Value was saved.\n')
    conn = store.connect(r)
    assert conn.execute("SELECT COUNT(*) FROM core_config_data WHERE path = ? AND scope = 'websites'",
                        (BEARER,)).fetchone()[0] == 0
    conn.close()
    assert run(r, 'config:show', BEARER) == ok('1\n')
    assert run(r, 'config:set', '--lock-env', BEARER, '1') == ok('Value was saved in app/etc/env.php and locked.\n')
    assert run(r, 'config:set', '-e', BEARER, '1') == ok('Value was saved in app/etc/env.php and locked.\n')
    assert run(r, 'config:set', '--lock-config', BEARER, '1') == \
        ok('Value was saved in app/etc/config.php and locked.\n')
    assert run(r, 'config:set', BEARER, '1') == fail(locked)
    assert run(r, 'app:config:status') == ok('Config files are up to date.\n')
    # remove the locks by hand: plain set works again
    with open(env_path, 'w') as handle:
        handle.write(env_before)
    from magento_emulator import cli
    with open(os.path.join(r, 'app/etc/config.php'), 'w') as handle:
        handle.write(cli.config_php_text())
    assert run(r, 'config:set', BEARER, '1') == ok('Value was saved.\n')
    assert run(r, 'config:show', BEARER) == ok('1\n')


# ---------------------------------------------------------------------------------------------- section E

def test_no_config_delete(emulator_root):
    expected = boxed(['Command "config:delete" is not defined.', '', 'Did you mean one of these?',
                      '    config:sensitive:set', '    config:set', '    config:show'])
    assert run(emulator_root, 'config:delete', ALLOW) == ('', expected, 1)


def test_show_without_path_lists_the_scope(emulator_root):
    r = emulator_root
    run(r, 'config:set', 'web/seo/use_rewrites', '1')
    run(r, 'config:set', ALLOW, '0')
    run(r, 'config:set', 'carriers/dhl/id', 'x')
    run(r, 'config:set', '--scope=websites', '--scope-code=base', ALLOW, '1')
    assert run(r, 'config:show') == ok('web/unsecure/base_url - http://127.0.0.1:8080/\n'
                                       'web/secure/base_url - http://127.0.0.1:8080/\n'
                                       'web/seo/use_rewrites - 1\n'
                                       '%s - 0\n'
                                       'carriers/dhl/id - ******\n' % ALLOW)


def test_version(emulator_root):
    assert run(emulator_root, '--version') == ok('Magento CLI 2.4.7-p3\n')


# ---------------------------------------------------------------------------------------------- caches, section D

def status_text(disabled=()):
    return 'Current status:\n' + ''.join('%30s: %d\n' % (t, 0 if t in disabled else 1) for t in IDS)


def test_cache_status(emulator_root):
    out = run(emulator_root, 'cache:status')
    assert out == ok(status_text())
    assert out[0].splitlines()[12] == ' graphql_query_resolver_result: 1'
    assert out[0].splitlines()[1] == '                        config: 1'


def test_cache_clean_and_invalidated(emulator_root):
    r = emulator_root
    run(r, 'config:set', ALLOW, '1')
    assert run(r, 'cache:clean', 'config') == ok('Cleaned cache types:\nconfig\n')
    assert invalidated(r) == {'config_webservice': 1}
    assert run(r, 'cache:clean', 'config_webservice') == ok('Cleaned cache types:\nconfig_webservice\n')
    assert invalidated(r) == {}
    assert run(r, 'cache:clean') == ok('Cleaned cache types:\n' + '\n'.join(IDS) + '\n')
    assert run(r, 'cache:clean', 'config', 'full_page') == ok('Cleaned cache types:\nconfig\nfull_page\n')
    assert run(r, 'cache:clean', 'full_page', 'config', 'config') == ok('Cleaned cache types:\nconfig\nfull_page\n')


def test_cache_unknown_types(emulator_root):
    r = emulator_root
    run(r, 'config:set', ALLOW, '1')
    assert run(r, 'cache:clean', 'bogus') == ('', unsupported_box('cache:clean', ['bogus']), 1)
    assert run(r, 'cache:clean', 'config', 'bogus', 'other') == \
        ('', unsupported_box('cache:clean', ['bogus', 'other']), 1)
    assert invalidated(r) == {'config': 1, 'config_webservice': 1}   # nothing done
    assert run(r, 'cache:flush', 'bogus') == ('', unsupported_box('cache:flush', ['bogus']), 1)
    assert run(r, 'cache:enable', 'bogus') == ('', unsupported_box('cache:enable', ['bogus']), 1)
    assert run(r, 'cache:disable', 'bogus') == ('', unsupported_box('cache:disable', ['bogus']), 1)
    assert invalidated(r) == {'config': 1, 'config_webservice': 1}
    assert run(r, 'cache:status', 'bogus') == (
        '', boxed(['No arguments expected for "cache:status" command, got "bogus".'],
                  'cache:status [--bootstrap BOOTSTRAP]'), 1)


def test_cache_flush(emulator_root):
    r = emulator_root
    run(r, 'config:set', ALLOW, '1')
    run(r, 'cache:clean', 'config')
    assert run(r, 'cache:flush', 'config') == ok('Flushed cache types:\nconfig\n')
    assert invalidated(r) is None
    assert run(r, 'cache:flush') == ok('Flushed cache types:\n' + '\n'.join(IDS) + '\n')


def test_cache_enable_disable(emulator_root):
    r = emulator_root
    env_path = os.path.join(r, 'app/etc/env.php')
    with open(env_path) as handle:
        env_before = handle.read()
    nothing = ok('There is nothing to change in cache status\n')
    assert run(r, 'cache:enable', 'full_page') == nothing
    assert run(r, 'cache:enable') == nothing
    assert run(r, 'cache:disable', 'full_page') == ok('Changed cache status:\n                     full_page: 1 -> 0\n')
    assert run(r, 'cache:status') == ok(status_text(('full_page',)))
    assert run(r, 'cache:disable', 'full_page') == nothing
    assert run(r, 'cache:disable', 'full_page', 'layout') == \
        ok('Changed cache status:\n                        layout: 1 -> 0\n')
    assert run(r, 'cache:enable', 'full_page', 'layout') == ok(
        'Changed cache status:\n                        layout: 0 -> 1\n                     full_page: 0 -> 1\n'
        'Cleaned cache types:\nlayout\nfull_page\n')
    assert run(r, 'cache:enable', 'full_page') == nothing
    with open(env_path) as handle:
        assert handle.read() == env_before


def test_invalidated_hidden_while_disabled(emulator_root):
    r = emulator_root
    run(r, 'config:set', ALLOW, '1')
    run(r, 'cache:clean', 'config')
    assert run(r, 'cache:disable', 'config_webservice') == \
        ok('Changed cache status:\n             config_webservice: 1 -> 0\n')
    from magento_emulator import cache
    assert cache.invalidated(r) == [] and invalidated(r) == {'config_webservice': 1}
    assert run(r, 'cache:enable', 'config_webservice') == ok(
        'Changed cache status:\n             config_webservice: 0 -> 1\nCleaned cache types:\nconfig_webservice\n')
    assert invalidated(r) == {}


def test_through_bin_php(emulator_root):
    import subprocess
    env = dict(os.environ)
    env.pop('COLUMNS', None)
    done = subprocess.run([os.path.join(emulator_root, 'bin', 'php'), os.path.join(emulator_root, 'bin', 'magento'),
                           'cache:clean', 'bogus'], capture_output=True, text=True, timeout=60, env=env,
                          check=False)
    assert (done.stdout, done.stderr, done.returncode) == ('', unsupported_box('cache:clean', ['bogus']), 1)
    done = subprocess.run([os.path.join(emulator_root, 'bin', 'magento'), 'config:show', ALLOW],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert (done.stdout, done.stderr, done.returncode) == ('\n', '', 0)
