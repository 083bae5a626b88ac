# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host transport against a stand-in php executable (a shell script)."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from ansible_collections.commerceops.magento.plugins.module_utils._bridge_php import BRIDGE_PROTOCOL
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._transport import HostTransport


def fake_php(tmp_path, body):
    """A php stand-in: a Python script that records its stdin and prints what ``body`` computes."""
    script = tmp_path / 'php'
    script.write_text('#!%s\nimport json, os, stat, sys\nrequest = sys.stdin.read()\n%s\n' % (sys.executable, body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def transport(tmp_path, body, timeout=10):
    root = tmp_path / 'magento'
    (root / 'bin').mkdir(parents=True)
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    return HostTransport(str(root), fake_php(tmp_path, body), timeout, str(scratch))


def test_one_process_answers_a_batch_and_the_script_is_private_and_removed(tmp_path):
    body = '''
script = sys.argv[1]
mode = stat.S_IMODE(os.stat(script).st_mode)
actions = json.loads(request)['actions']
print(json.dumps({"protocol": %d, "ok": True, "results": [{"echo": a["action"], "mode": oct(mode)} for a in actions]}))
''' % BRIDGE_PROTOCOL
    t = transport(tmp_path, body)
    results = t.bridge([{'action': 'acl.resources'}, {'action': 'integration.get', 'name': 'x', 'context': {'k': 1}}])
    assert [r['echo'] for r in results] == ['acl.resources', 'integration.get']
    assert results[0]['mode'] == '0o600'
    assert t.php_processes == 1
    assert os.listdir(str(tmp_path / 'scratch')) == []


def test_bridge_error_names_the_attempt_and_magentos_message(tmp_path):
    body = '''print(json.dumps({"protocol": %d, "ok": False, "results": [{}],
    "error": {"index": 1, "action": "integration.create", "kind": "magento",
              "message": "The integration with name \\"Acme\\" exists."}}))
sys.exit(1)''' % BRIDGE_PROTOCOL
    t = transport(tmp_path, body)
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'acl.resources'}, {'action': 'integration.create', 'name': 'Acme'}])
    assert str(error.value) == "Creating integration 'Acme' failed: The integration with name \"Acme\" exists."
    assert error.value.kind == 'magento'


def test_php_fatal_error_becomes_a_message_not_a_traceback(tmp_path):
    body = 'sys.stderr.write("PHP Fatal error:  Uncaught Error: Class not found in bridge.php:12\\n"); sys.exit(255)'
    t = transport(tmp_path, body)
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'system.info'}])
    assert 'exited with code 255 and printed no JSON' in str(error.value)
    assert 'PHP Fatal error' in str(error.value)


def test_php_start_up_warnings_before_the_answer_are_a_warning_not_a_failure(tmp_path):
    body = '''print("PHP Warning:  Module 'sodium' already loaded in Unknown on line 0")
print(json.dumps({"protocol": %d, "ok": True, "results": [{"done": 1}]}))''' % BRIDGE_PROTOCOL
    t = transport(tmp_path, body)
    warnings = []
    t.warn = warnings.append
    assert t.bridge([{'action': 'acl.resources'}]) == [{'done': 1}]
    assert len(warnings) == 1 and "Module 'sodium' already loaded" in warnings[0]


def test_json_that_is_not_the_bridge_document_is_a_bridge_failure(tmp_path):
    t = transport(tmp_path, 'print("[]")')
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'acl.resources'}])
    assert 'printed no JSON' in str(error.value)
    assert error.value.kind == 'bridge'


def test_a_cut_answer_is_not_quoted_in_the_error(tmp_path):
    # The cut document may hold secrets that were never parsed, so never scrubbed.
    body = '''sys.stdout.write('{"protocol": 1, "ok": true, "results": [{"credentials": {"consumer_secret": "s3cr3t-value-')
sys.exit(255)'''
    t = transport(tmp_path, body)
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'integration.get', 'name': 'x'}])
    assert 's3cr3t' not in str(error.value)
    assert 'exited with code 255 and printed no JSON: (no output)' in str(error.value)


def test_protocol_mismatch_is_refused(tmp_path):
    t = transport(tmp_path, 'print(json.dumps({"protocol": 99, "ok": True, "results": [{}]}))')
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'system.info'}])
    assert 'protocol 99' in str(error.value) and error.value.kind == 'protocol'


def test_secrets_seen_in_results_are_scrubbed_from_later_errors(tmp_path):
    body = '''
actions = json.loads(request)['actions']
if actions[0]['action'] == 'integration.get':
    print(json.dumps({"protocol": %d, "ok": True, "results": [{"credentials": {"consumer_secret": "abcdefghijklmnopqrstuvwxyz012345"}}]}))
else:
    sys.stderr.write("boom abcdefghijklmnopqrstuvwxyz012345\\n"); sys.exit(1)
''' % BRIDGE_PROTOCOL
    t = transport(tmp_path, body)
    t.bridge([{'action': 'integration.get', 'name': 'x', 'with_secrets': True}])
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'integration.revoke', 'integration_id': 1}])
    assert 'abcdefghijklmnopqrstuvwxyz012345' not in str(error.value)
    assert '********' in str(error.value)


def test_bin_magento_failure_carries_magentos_stdout_message(tmp_path):
    body = '''
assert sys.argv[1].endswith(os.path.join('bin', 'magento'))
print('The "bogus/path" path doesn\\'t exist. Verify and try again.')
sys.exit(1)'''
    t = transport(tmp_path, body)
    with pytest.raises(MagentoError) as error:
        t.magento(['config:set', 'bogus/path', '1'], attempted='Saving config bogus/path')
    assert str(error.value) == 'Saving config bogus/path failed: The "bogus/path" path doesn\'t exist. Verify and try again.'


def test_a_hung_php_process_times_out(tmp_path):
    t = transport(tmp_path, 'import time; time.sleep(5)', timeout=1)
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'system.info'}])
    assert 'within 1 seconds' in str(error.value)


def test_missing_php_binary_is_reported(tmp_path):
    t = HostTransport(str(tmp_path), str(tmp_path / 'no-php'), 5, str(tmp_path))
    with pytest.raises(MagentoError) as error:
        t.magento(['cache:status'])
    assert 'could not start' in str(error.value)


def test_php_that_prints_nothing_is_pointed_at_php(tmp_path):
    # php_executable=/bin/false: exit 1, no output (issue 10 item 3)
    t = HostTransport(str(tmp_path), '/bin/false', 5, str(tmp_path))
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'system.info'}])
    assert 'printed no JSON: (no output)' in str(error.value)
    assert 'Point php_executable (or MAGENTO_PHP) at the PHP that runs Magento' in str(error.value)
    with pytest.raises(MagentoError) as error:
        t.magento(['cache:status'])
    assert 'exited with 1 and printed nothing' in str(error.value) and 'Point php_executable' in str(error.value)


@pytest.mark.parametrize('said', ['cache_dir "/srv/magento/var/cache/" is not writable',
                                  'The specified "/srv/magento/generated/code/A/B.php.77" file couldn\'t be written. '
                                  'Warning!file_put_contents(/srv/magento/generated/code/A/B.php.77): Failed to open '
                                  'stream: Permission denied'])
def test_magento_unable_to_write_its_files_says_run_as_the_owner(tmp_path, said):
    body = '''print(json.dumps({"protocol": %d, "ok": False, "results": [],
    "error": {"index": 0, "action": "system.info", "kind": "bootstrap", "message": %r}}))
sys.exit(1)''' % (BRIDGE_PROTOCOL, said)
    t = transport(tmp_path, body)
    t.owner = 'www-data'
    with pytest.raises(MagentoError) as error:
        t.bridge([{'action': 'system.info'}])
    assert str(error.value).startswith('Reading the Magento version and base URL failed: ' + said)
    assert "run the task as the files' owner (become: true, become_user: www-data)" in str(error.value)


def test_without_another_user_php_inherits_this_process_user(tmp_path):
    t = transport(tmp_path, 'print(json.dumps({"protocol": %d, "ok": True, "results": [{"uid": os.getuid()}]}))'
                  % BRIDGE_PROTOCOL)
    assert t.bridge([{'action': 'system.info'}]) == [{'uid': os.getuid()}]


@pytest.mark.skipif(os.geteuid() != 0 or not os.access('/usr/bin/python3', os.X_OK), reason='needs root and /usr/bin/python3')
def test_run_as_starts_php_as_that_user_with_a_script_only_it_can_read(tmp_path):
    import pwd
    import shutil
    import tempfile
    user = pwd.getpwnam('nobody')
    base = tempfile.mkdtemp()
    try:
        os.chmod(base, 0o755)
        os.mkdir(os.path.join(base, 'magento'))
        php = os.path.join(base, 'php')
        with open(php, 'w') as handle:
            handle.write('#!/usr/bin/python3\nimport json, os, stat, sys\nsys.stdin.read()\ninfo = os.stat(sys.argv[1])\n'
                         'folder = os.stat(os.path.dirname(sys.argv[1]))\n'
                         'print(json.dumps({"protocol": %d, "ok": True, "results": [{"uid": os.getuid(), "gid": os.getgid(), '
                         '"home": os.environ["HOME"], "script": [info.st_uid, oct(stat.S_IMODE(info.st_mode))], '
                         '"folder": [folder.st_uid, oct(stat.S_IMODE(folder.st_mode))], "path": sys.argv[1]}]}))\n'
                         % BRIDGE_PROTOCOL)
        os.chmod(php, 0o755)
        t = HostTransport(os.path.join(base, 'magento'), php, 10, str(tmp_path), run_as=user, owner='nobody')
        result = t.bridge([{'action': 'system.info'}])[0]
    finally:
        shutil.rmtree(base)
    assert (result['uid'], result['gid'], result['home']) == (user.pw_uid, user.pw_gid, user.pw_dir)
    assert result['script'] == [user.pw_uid, '0o600'] and result['folder'] == [user.pw_uid, '0o700']
    assert not os.path.exists(os.path.dirname(result['path'])), 'the bridge script was left behind'
