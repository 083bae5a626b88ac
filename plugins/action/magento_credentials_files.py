# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write every integration's credentials file on the controller, in one task (see the module's documentation).

Runs entirely in the controller's worker process: no module is transferred and no remote or local temporary file
is made, so a secret reaches only its final file (and, for the instant of a write, a private temporary file beside
it that the next run removes if the write was killed).
"""

from __future__ import annotations

import json
import os
import stat

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.parsing.vault import VaultLib, VaultSecret, is_encrypted
from ansible.plugins.action import ActionBase

from ansible_collections.commerceops.magento.plugins.module_utils import _secret_file
from ansible_collections.commerceops.magento.plugins.module_utils._authorization import SECRET_KEYS
from ansible_collections.commerceops.magento.plugins.module_utils._diff import build_diff, keyed_diff

DIRECTORY_MODE = 0o700
ARGUMENT_SPEC = dict(
    path=dict(type='path', required=True),
    credentials=dict(type='dict', required=True, no_log=True),
    vault_password=dict(type='str', no_log=True),
    vault_id=dict(type='str'),
)


class _Vault(object):
    """Ansible Vault encryption with one password; None password = plain text."""

    def __init__(self, password, vault_id):
        self.vault_id = vault_id or None
        self.secret = VaultSecret(to_bytes(password)) if password else None
        self.lib = VaultLib([(self.vault_id or 'default', self.secret)]) if self.secret else None

    @property
    def label(self):
        if self.secret is None:
            return 'none'
        return 'ansible-vault (vault id %s)' % self.vault_id if self.vault_id else 'ansible-vault'

    def encode(self, data):
        if self.secret is None:
            return data
        return self.lib.encrypt(data, secret=self.secret, vault_id=self.vault_id)

    def read(self, data):
        """(content or None, encryption label, readable): what an existing file holds."""
        if not is_encrypted(data):
            content = _json(data)
            return content, 'none', content is not None
        header = data.split(b'\n', 1)[0].strip().split(b';')  # $ANSIBLE_VAULT;1.2;AES256;<vault id>
        vault_id = to_text(header[3]) if len(header) > 3 else None
        label = 'ansible-vault (vault id %s)' % vault_id if vault_id else 'ansible-vault'
        if self.secret is None:
            return None, label, False
        try:
            content = _json(self.lib.decrypt(data))
        except AnsibleError:  # wrong password or a damaged file
            return None, label, False
        return content, label, content is not None


def _json(data):
    try:
        return json.loads(to_text(data, errors='surrogate_or_strict'))
    except ValueError:
        return None


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC,
                                                        required_by={'vault_id': 'vault_password'})
        directory = args['path']
        vault = _Vault(args['vault_password'], args['vault_id'])
        check_mode = self._task.check_mode
        targets = self._targets(directory, args['credentials'])

        if os.path.exists(directory) and not os.path.isdir(directory):
            raise AnsibleActionFail('path %s is not a directory: give the directory the credentials files go to.'
                                    % directory)
        try:
            return self._write(result, directory, targets, vault, check_mode)
        except OSError as error:
            # The file system's refusal (permissions, a full disk), said plainly: no traceback, no content.
            raise AnsibleActionFail('Cannot write the credentials files in %s: %s (%s). Run Ansible as a user that may '
                                    'write there, or choose another path.' % (
                                        directory, error.strerror or error, error.filename or directory))

    def _write(self, result, directory, targets, vault, check_mode):
        directory_changed = self._directory(directory, check_mode)
        files, diffs, warnings, removed = [], [], [], []
        for name, path, content in targets:
            before, encryption, readable, mode = self._existing(path, vault)
            after_view = dict(content, encryption=vault.label, mode='0600')
            if before is None and mode is None:
                changed, diff = True, build_diff(None, after_view, SECRET_KEYS)
            else:
                before_view = dict(before or {}, encryption=encryption, mode=mode)
                if not readable:
                    # Unknown content: shown as a change of every key, without the old values.
                    before_view.update((key, '(unreadable)') for key in content)
                    warnings.append(' '.join(filter(None, [
                        '%s could not be read as %s, so it is replaced.' % (
                            path, 'JSON' if encryption == 'none' else 'an Ansible Vault file with the given vault_password'),
                        'Give vault_password to keep the credentials encrypted.'
                        if encryption != 'none' and vault.secret is None else ''])))
                changed = before_view != after_view
                diff = build_diff(before_view, after_view, SECRET_KEYS)
            if changed and not check_mode:
                # Rewritten only when the (decrypted) content, encryption or mode differs: vault is salted, so
                # comparing bytes would rewrite every vault file on every run.
                _secret_file.write_atomic(path, vault.encode(_secret_file.render(content)))
            removed.extend(_secret_file.stale_temp_files(path, remove=not check_mode))
            files.append(dict(name=name, path=path, changed=changed))
            diffs.append((name, diff))

        result.update(
            changed=directory_changed or bool(removed) or any(item['changed'] for item in files),
            path=directory, files=files, removed_temp_files=removed,
        )
        if removed:
            warnings.append('Removed %d temporary file(s) a killed earlier run left in %s: %s' % (
                len(removed), directory, ', '.join(os.path.basename(path) for path in removed)))
        if warnings:
            result['warnings'] = warnings
        if self._task.diff:
            result['diff'] = keyed_diff(diffs)
        return result

    @staticmethod
    def _targets(directory, credentials):
        """(name, path, content) per integration; two names that make the same file name fail before any write."""
        targets, seen = [], {}
        for name in sorted(credentials):
            value = credentials[name]
            if value is not None and not isinstance(value, dict):
                raise AnsibleActionFail('credentials[%r] must be a dict of %s, not %s.' % (
                    name, ', '.join(_secret_file.CREDENTIAL_KEYS), type(value).__name__))
            file_name = _secret_file.file_name(name)
            if file_name in seen:
                raise AnsibleActionFail('Integrations %r and %r would both be written to %s; rename one of them.'
                                        % (seen[file_name], name, file_name))
            seen[file_name] = name
            targets.append((name, os.path.join(directory, file_name), _secret_file.document(name, value)))
        return targets

    @staticmethod
    def _directory(directory, check_mode):
        """Make the directory (and its parents) private to its owner; True when that changes anything."""
        if not os.path.isdir(directory):
            if not check_mode:
                os.makedirs(directory, DIRECTORY_MODE)
                os.chmod(directory, DIRECTORY_MODE)  # makedirs' mode is subject to the umask
            return True
        if stat.S_IMODE(os.stat(directory).st_mode) != DIRECTORY_MODE:
            if not check_mode:
                os.chmod(directory, DIRECTORY_MODE)
            return True
        return False

    @staticmethod
    def _existing(path, vault):
        """(content, encryption, readable, mode) of the file at ``path``; content and mode None when it is absent."""
        try:
            status = os.lstat(path)
        except FileNotFoundError:
            return None, 'none', True, None
        if not stat.S_ISREG(status.st_mode):
            raise AnsibleActionFail('%s exists and is not a regular file; remove it first.' % path)
        with open(path, 'rb') as handle:
            data = handle.read()
        content, encryption, readable = vault.read(data)
        return content, encryption, readable, '%04o' % stat.S_IMODE(status.st_mode)
