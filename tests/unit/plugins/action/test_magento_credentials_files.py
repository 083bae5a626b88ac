# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The credentials files action plugin, run as Ansible runs it, on a temporary directory."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.commerceops.magento.plugins.action.magento_credentials_files import ActionModule
from ansible_collections.commerceops.magento.plugins.module_utils import _secret_file

SECRETS = ('consumer_secret', 'access_token', 'access_token_secret')


def credentials(tag='1'):
    return {
        'Acme ERP': {'consumer_key': 'ck-erp-' + tag, 'consumer_secret': 'cs-erp-secret-' + tag,
                     'access_token': 'at-erp-secret-' + tag, 'access_token_secret': 'ats-erp-secret-' + tag},
        'Acme PIM': {'consumer_key': 'ck-pim-' + tag, 'consumer_secret': 'cs-pim-secret-' + tag,
                     'access_token': 'at-pim-secret-' + tag, 'access_token_secret': 'ats-pim-secret-' + tag},
    }


def secret_values(creds):
    return [value[key] for value in creds.values() for key in SECRETS]


def run(args, check_mode=False, diff=True):
    task = MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    connection = MagicMock()
    connection._shell.tmpdir = None
    action = ActionModule(task, connection, MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def read_vault(path, password):
    return json.loads(VaultLib([('default', VaultSecret(password.encode()))]).decrypt(path.read_bytes()))


def test_every_file_is_written_in_one_run_private_in_a_private_directory(tmp_path):
    target = tmp_path / 'credentials' / 'shop1'
    result = run({'path': str(target), 'credentials': credentials()})
    assert result['changed'] is True
    assert [(f['name'], f['changed']) for f in result['files']] == [('Acme ERP', True), ('Acme PIM', True)]
    assert sorted(os.listdir(str(target))) == ['Acme_ERP.json', 'Acme_PIM.json']
    assert mode(target) == 0o700
    for name in ('Acme_ERP.json', 'Acme_PIM.json'):
        assert mode(target / name) == 0o600
    assert json.loads((target / 'Acme_ERP.json').read_text()) == dict(credentials()['Acme ERP'], name='Acme ERP')


def test_rerun_with_the_same_credentials_writes_nothing(tmp_path):
    args = {'path': str(tmp_path), 'credentials': credentials()}
    run(args)
    inodes = dict((name, os.stat(str(tmp_path / name)).st_ino) for name in os.listdir(str(tmp_path)))
    result = run(args)
    assert result['changed'] is False
    assert not any(f['changed'] for f in result['files'])
    assert result['diff'] == {'before': {}, 'after': {}}
    assert dict((name, os.stat(str(tmp_path / name)).st_ino) for name in os.listdir(str(tmp_path))) == inodes


def test_only_the_file_whose_content_differs_is_replaced_atomically(tmp_path):
    run({'path': str(tmp_path), 'credentials': credentials()})
    erp_inode = os.stat(str(tmp_path / 'Acme_ERP.json')).st_ino
    pim_inode = os.stat(str(tmp_path / 'Acme_PIM.json')).st_ino
    new = credentials()
    new['Acme PIM']['access_token'] = 'at-pim-rotated-secret'
    result = run({'path': str(tmp_path), 'credentials': new})
    assert [(f['name'], f['changed']) for f in result['files']] == [('Acme ERP', False), ('Acme PIM', True)]
    assert os.stat(str(tmp_path / 'Acme_ERP.json')).st_ino == erp_inode
    # a new inode: renamed over the old file, not rewritten in place (a reader never sees half a file)
    assert os.stat(str(tmp_path / 'Acme_PIM.json')).st_ino != pim_inode
    assert sorted(os.listdir(str(tmp_path))) == ['Acme_ERP.json', 'Acme_PIM.json']
    assert result['diff'] == {'before': {'Acme PIM': {'access_token': '********'}},
                              'after': {'Acme PIM': {'access_token': '********'}}}


def test_same_content_with_another_layout_is_no_change(tmp_path):
    # Files written by the role before this plugin used to_nice_json (4 spaces): same content, no rewrite.
    content = dict(credentials()['Acme ERP'], name='Acme ERP')
    (tmp_path / 'Acme_ERP.json').write_text(json.dumps(content, indent=4) + '\n')
    (tmp_path / 'Acme_ERP.json').chmod(0o600)
    tmp_path.chmod(0o700)
    result = run({'path': str(tmp_path), 'credentials': {'Acme ERP': credentials()['Acme ERP']}})
    assert result['changed'] is False


def test_a_readable_file_and_directory_are_made_private(tmp_path):
    run({'path': str(tmp_path), 'credentials': credentials()})
    (tmp_path / 'Acme_ERP.json').chmod(0o644)
    tmp_path.chmod(0o755)
    result = run({'path': str(tmp_path), 'credentials': credentials()})
    assert [(f['name'], f['changed']) for f in result['files']] == [('Acme ERP', True), ('Acme PIM', False)]
    assert result['diff']['after'] == {'Acme ERP': {'mode': '0600'}}
    assert mode(tmp_path / 'Acme_ERP.json') == 0o600 and mode(tmp_path) == 0o700


def test_check_mode_reports_the_change_and_writes_nothing(tmp_path):
    target = tmp_path / 'new'
    result = run({'path': str(target), 'credentials': credentials()}, check_mode=True)
    assert result['changed'] is True and all(f['changed'] for f in result['files'])
    assert not target.exists()
    assert result['diff']['before'] == {'Acme ERP': {'state': 'absent'}, 'Acme PIM': {'state': 'absent'}}
    assert result['diff']['after']['Acme ERP']['consumer_secret'] == '********'
    assert result['diff']['after']['Acme ERP']['consumer_key'] == 'ck-erp-1'


def test_no_secret_in_the_result_or_its_diff(tmp_path):
    run({'path': str(tmp_path), 'credentials': credentials('1')})
    result = run({'path': str(tmp_path), 'credentials': credentials('2')})
    text = json.dumps(result)
    assert result['changed'] is True
    for secret in secret_values(credentials('1')) + secret_values(credentials('2')):
        assert secret not in text


def test_vault_files_decrypt_with_the_password_and_a_rerun_is_no_change(tmp_path):
    args = {'path': str(tmp_path), 'credentials': credentials(), 'vault_password': 'hunter2', 'vault_id': 'magento'}
    assert run(args)['changed'] is True
    raw = (tmp_path / 'Acme_ERP.json').read_bytes()
    assert raw.startswith(b'$ANSIBLE_VAULT;1.2;AES256;magento\n')
    for secret in secret_values(credentials()):
        assert secret.encode() not in raw
    assert read_vault(tmp_path / 'Acme_ERP.json', 'hunter2') == dict(credentials()['Acme ERP'], name='Acme ERP')
    assert mode(tmp_path / 'Acme_ERP.json') == 0o600
    # Salted: encrypting again would give other bytes, so only the decrypted content may decide.
    result = run(args)
    assert result['changed'] is False
    assert (tmp_path / 'Acme_ERP.json').read_bytes() == raw


def test_vault_content_change_is_a_change_and_the_diff_stays_masked(tmp_path):
    args = {'path': str(tmp_path), 'credentials': credentials('1'), 'vault_password': 'hunter2'}
    run(args)
    result = run(dict(args, credentials=credentials('2')))
    assert all(f['changed'] for f in result['files'])
    assert result['diff']['after']['Acme ERP']['consumer_key'] == 'ck-erp-2'
    assert result['diff']['before']['Acme ERP']['consumer_key'] == 'ck-erp-1'
    for secret in secret_values(credentials('1')) + secret_values(credentials('2')):
        assert secret not in json.dumps(result['diff'])
    assert read_vault(tmp_path / 'Acme_PIM.json', 'hunter2')['access_token'] == 'at-pim-secret-2'


def test_switching_encryption_on_off_and_the_vault_id_rewrites(tmp_path):
    plain = {'path': str(tmp_path), 'credentials': credentials()}
    run(plain)
    vaulted = dict(plain, vault_password='hunter2')
    result = run(vaulted)
    assert result['changed'] is True
    assert result['diff']['before']['Acme ERP'] == {'encryption': 'none'}
    assert result['diff']['after']['Acme ERP'] == {'encryption': 'ansible-vault'}
    assert run(dict(vaulted, vault_id='prod'))['changed'] is True
    assert (tmp_path / 'Acme_ERP.json').read_bytes().startswith(b'$ANSIBLE_VAULT;1.2;AES256;prod\n')
    assert run(dict(vaulted, vault_id='prod'))['changed'] is False
    result = run(plain)
    assert result['changed'] is True
    assert 'warnings' in result  # a vault file replaced by plain text without a password is said out loud
    assert json.loads((tmp_path / 'Acme_ERP.json').read_text())['name'] == 'Acme ERP'


def test_a_vault_file_of_another_password_is_replaced_with_a_warning(tmp_path):
    run({'path': str(tmp_path), 'credentials': credentials(), 'vault_password': 'old'})
    result = run({'path': str(tmp_path), 'credentials': credentials(), 'vault_password': 'new'})
    assert result['changed'] is True
    assert any('could not be read' in warning for warning in result['warnings'])
    assert read_vault(tmp_path / 'Acme_PIM.json', 'new')['name'] == 'Acme PIM'


def test_vault_id_without_a_password_fails_before_any_write(tmp_path):
    target = tmp_path / 'creds'
    with pytest.raises(AnsibleActionFail) as error:
        run({'path': str(target), 'credentials': credentials(), 'vault_id': 'prod'})
    assert 'vault_password' in str(error.value)
    assert not target.exists()


def test_two_names_for_one_file_name_fail_before_any_write(tmp_path):
    creds = {'Acme/ERP': credentials()['Acme ERP'], 'Acme ERP': credentials()['Acme PIM']}
    with pytest.raises(AnsibleActionFail) as error:
        run({'path': str(tmp_path / 'creds'), 'credentials': creds})
    assert 'Acme_ERP.json' in str(error.value)
    assert not (tmp_path / 'creds').exists()


def test_a_path_that_is_a_file_fails_and_names_it(tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(AnsibleActionFail) as error:
        run({'path': str(tmp_path / 'file'), 'credentials': credentials()})
    assert 'not a directory' in str(error.value)


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    run({'path': str(tmp_path), 'credentials': credentials('1')})
    before = (tmp_path / 'Acme_ERP.json').read_bytes()

    def interrupted(source, destination):
        raise KeyboardInterrupt()  # what Ansible's worker gets on Ctrl-C

    monkeypatch.setattr(os, 'replace', interrupted)
    with pytest.raises(KeyboardInterrupt):
        run({'path': str(tmp_path), 'credentials': credentials('2')})
    assert (tmp_path / 'Acme_ERP.json').read_bytes() == before
    assert sorted(os.listdir(str(tmp_path))) == ['Acme_ERP.json', 'Acme_PIM.json']


def test_a_write_killed_with_sigkill_leaves_only_a_private_file_beside_the_target_and_the_next_run_removes_it(tmp_path):
    target = tmp_path / 'Acme_ERP.json'
    # A writer stopped between the write and the rename (it sleeps in os.replace), then killed: nothing runs after
    # SIGKILL, so its temporary file stays.
    writer = subprocess.Popen([sys.executable, '-c', (
        'import os, sys, time\n'
        'from ansible_collections.commerceops.magento.plugins.module_utils import _secret_file\n'
        'os.replace = lambda *args: time.sleep(60)\n'
        '_secret_file.write_atomic(sys.argv[1], b"{\\"access_token\\": \\"at-killed-secret\\"}")\n'), str(target)],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        deadline = time.time() + 20
        while not os.listdir(str(tmp_path)) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # past the write and the fsync, into the sleeping rename
        left = os.listdir(str(tmp_path))
        assert len(left) == 1 and left[0].startswith('.Acme_ERP.json.') and left[0].endswith('.tmp')
        temp = tmp_path / left[0]
        old = time.time() - 60
        os.utime(str(temp), (old, old))  # old enough to be a killed write's, if it were not locked

        # Another run writing the same file meanwhile leaves the live write's temporary file alone.
        result = run({'path': str(tmp_path), 'credentials': credentials()})
        assert result['removed_temp_files'] == [] and temp.exists()
        assert sorted(os.listdir(str(tmp_path))) == sorted(['Acme_ERP.json', 'Acme_PIM.json', left[0]])
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert mode(temp) == 0o600

    check = run({'path': str(tmp_path), 'credentials': credentials()}, check_mode=True)
    assert check['removed_temp_files'] == [str(temp)] and temp.exists()
    result = run({'path': str(tmp_path), 'credentials': credentials()})
    assert result['removed_temp_files'] == [str(temp)] and result['changed'] is True
    assert any('killed' in warning for warning in result['warnings'])
    assert sorted(os.listdir(str(tmp_path))) == ['Acme_ERP.json', 'Acme_PIM.json']
    assert run({'path': str(tmp_path), 'credentials': credentials()})['changed'] is False


def test_a_fresh_temporary_file_is_not_taken_for_a_killed_write(tmp_path):
    # Between mkstemp and the lock a live write's file is unlocked for an instant: only older files are stale.
    temp = tmp_path / '.Acme_ERP.json.abcd1234.tmp'
    temp.write_text('{}')
    assert _secret_file.stale_temp_files(str(tmp_path / 'Acme_ERP.json'), remove=True) == []
    old = time.time() - 60
    os.utime(str(temp), (old, old))
    assert _secret_file.stale_temp_files(str(tmp_path / 'Acme_ERP.json'), remove=True) == [str(temp)]
    assert not temp.exists()


def test_unknown_credentials_are_written_as_null(tmp_path):
    # In check mode the role passes integrations an earlier task only pretended to create: all four are None.
    result = run({'path': str(tmp_path), 'credentials': {'New': None}})
    assert result['changed'] is True
    assert json.loads((tmp_path / 'New.json').read_text()) == {
        'name': 'New', 'consumer_key': None, 'consumer_secret': None, 'access_token': None, 'access_token_secret': None}


def test_a_directory_it_may_not_write_fails_with_a_message_not_a_traceback(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(13, 'Permission denied', str(tmp_path))

    monkeypatch.setattr(_secret_file.tempfile, 'mkstemp', refused)
    with pytest.raises(AnsibleActionFail) as error:
        run({'path': str(tmp_path), 'credentials': credentials()})
    assert 'Permission denied' in str(error.value) and str(tmp_path) in str(error.value)
    for secret in secret_values(credentials()):
        assert secret not in str(error.value)
