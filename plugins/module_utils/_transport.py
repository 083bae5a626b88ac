# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host transport: Magento's own bin/magento and the PHP bridge. Internal to this collection.

Every PHP process the collection starts on the Magento host starts here, so that
timeouts, error messages and secret scrubbing are written once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

from ansible_collections.commerceops.magento.plugins.module_utils._bridge_php import BRIDGE_PROTOCOL, BRIDGE_SOURCE
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError

# What each bridge action attempts, for error messages ("Creating integration 'x' failed: ...").
_ATTEMPTS = {
    'system.info': 'Reading the Magento version and base URL',
    'acl.resources': "Reading Magento's ACL resource tree",
    'integration.list': 'Listing integrations',
    'integration.get': 'Reading integration {name!r}',
    'integration.create': 'Creating integration {name!r}',
    'integration.update': 'Updating integration {name!r}',
    'integration.delete': 'Deleting integration {name!r}',
    'integration.activate': 'Activating integration {name!r}',
    'integration.prepare_exchange': 'Preparing the OAuth token exchange of integration {name!r}',
    'integration.post_to_consumer': 'Sending the OAuth credentials of integration {name!r} to its callback URL',
    'integration.revoke': 'Revoking the tokens of integration {name!r}',
    'config.get': 'Reading config values',
    'config.options': "Reading config fields' options",
    'config.delete': 'Deleting config values',
    'cache.status': 'Reading the cache status',
}

_CREDENTIAL_KEYS = ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret', 'oauth_verifier')


def become(user):
    """Turn this (child) process into ``user``, a passwd entry, with that user's groups; needs root."""
    os.setgroups(os.getgrouplist(user.pw_name, user.pw_gid))
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def describe(action):
    """A sentence fragment saying what ``action`` (a bridge request item) attempts."""
    template = _ATTEMPTS.get(action.get('action'), 'Running bridge action {action}')
    fields = {'name': action.get('name') or action.get('integration_id'), 'action': action.get('action')}
    fields.update(action.get('context', {}))
    try:
        return template.format(**fields)
    except (KeyError, IndexError):
        return template


class CommandResult(object):
    def __init__(self, rc, stdout, stderr):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr


# What Magento says when the process cannot write its own files (Zend_Cache, the file driver, the code generator).
_UNWRITABLE = ('is not writable', "couldn't be written", 'cannot be created', 'Permission denied')


class HostTransport(object):
    """Runs bin/magento and the bridge in ``magento_root`` with ``php_executable``; the bridge script is written to a
    new private folder in ``tmpdir`` (default: the system's temp directory).

    ``run_as``: the passwd entry (``pwd.struct_passwd``) of the user every PHP process runs as, when that is not
    this process's user (a task run as root on a store whose files belong to someone else); ``owner``: the name of
    the owner of Magento's files, for messages.
    """

    def __init__(self, magento_root, php_executable, timeout, tmpdir=None, warn=None, run_as=None, owner=None):
        self.magento_root = magento_root
        self.warn = warn or (lambda message: None)
        self.php_executable = php_executable
        self.timeout = timeout
        self.tmpdir = tmpdir
        self.run_as = run_as
        self.owner = owner
        self.php_processes = 0
        self._secrets = set()

    # -- secrets ---------------------------------------------------------
    def remember_secrets(self, values):
        """Values that must never appear in an error message from here on."""
        self._secrets.update(value for value in values if isinstance(value, str) and len(value) >= 8)

    def scrub(self, text):
        for secret in self._secrets:
            text = text.replace(secret, '********')
        return text

    def _collect_secrets(self, data):
        if isinstance(data, dict):
            for key, value in data.items():
                if key in _CREDENTIAL_KEYS and isinstance(value, str):
                    self.remember_secrets([value])
                else:
                    self._collect_secrets(value)
        elif isinstance(data, list):
            for item in data:
                self._collect_secrets(item)

    # -- processes -------------------------------------------------------
    def _as_user(self):
        """subprocess arguments that start PHP as ``run_as``: Magento writes generated code and cache entries with
        the owner of the process, and a root-owned one takes the store down (SPEC 15)."""
        if self.run_as is None:
            return {}
        user = self.run_as
        env = dict(os.environ, HOME=user.pw_dir, USER=user.pw_name, LOGNAME=user.pw_name)
        return {'preexec_fn': lambda: become(user), 'env': env}

    def _run(self, args, stdin_text, attempted):
        self.php_processes += 1
        try:
            # Not module.run_command: it has no timeout, and a hung Magento bootstrap must not hang the play.
            proc = subprocess.run(  # pylint: disable=ansible-bad-function
                [self.php_executable] + args, input=stdin_text, cwd=self.magento_root,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=self.timeout,
                universal_newlines=True, errors='replace', check=False, **self._as_user()
            )
        except subprocess.TimeoutExpired:
            raise MagentoError('%s failed: PHP did not finish within %s seconds (option timeout).' % (attempted, self.timeout),
                               kind='timeout')
        except OSError as exc:
            raise MagentoError('%s failed: could not start %s: %s' % (attempted, self.php_executable, exc.strerror),
                               kind='bootstrap')
        return CommandResult(proc.returncode, proc.stdout, proc.stderr)

    def magento(self, args, attempted=None):
        """Run ``bin/magento ARGS``; a non-zero exit raises with Magento's own message."""
        attempted = attempted or 'Running bin/magento %s' % ' '.join(args[:1])
        result = self._run([os.path.join(self.magento_root, 'bin', 'magento')] + list(args), None, attempted)
        if result.rc != 0:
            said = self.scrub(_first_lines(result.stdout.strip() or result.stderr.strip()))
            raise MagentoError('%s failed: %s%s' % (attempted, said or 'bin/magento exited with %d and printed nothing.'
                                                    % result.rc, self._advice(said)), kind='magento', rc=result.rc)
        return result

    def _advice(self, said):
        """What to do about a PHP process that failed with ``said``: the two causes a first run meets most."""
        if not said.strip():
            return (' Is php_executable (%s) the PHP CLI? Point php_executable (or MAGENTO_PHP) at the PHP that runs '
                    'Magento.' % self.php_executable)
        if any(sign in said for sign in _UNWRITABLE):
            owner = self.owner or 'the owner of the Magento files'
            return (' Magento could not write its own files: run the task as the files\' owner (become: true, '
                    'become_user: %s), or as root, and the collection runs PHP as that owner.' % owner)
        return ''

    def _write_script(self):
        """The bridge script in a new private directory; (its path, the directory to remove). It holds no secret
        (those travel on stdin), but stays 0600, in a 0700 directory owned by the user PHP runs as."""
        directory = tempfile.mkdtemp(prefix='commerceops-magento-', dir=None if self.run_as else self.tmpdir)
        script = os.path.join(directory, 'commerceops-magento-bridge.php')
        try:
            fd = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as handle:
                handle.write(BRIDGE_SOURCE)
            if self.run_as is not None:
                os.chown(script, self.run_as.pw_uid, self.run_as.pw_gid)
                os.chown(directory, self.run_as.pw_uid, self.run_as.pw_gid)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return script, directory

    def bridge(self, actions):
        """Run a batch of bridge actions in one PHP process; returns their results in order."""
        request = {'protocol': BRIDGE_PROTOCOL, 'magento_root': self.magento_root,
                   'actions': [dict((k, v) for k, v in action.items() if k != 'context') for action in actions]}
        script, directory = self._write_script()
        try:
            result = self._run([script], json.dumps(request), describe(actions[0]) if len(actions) == 1 else 'Reading Magento state')
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        response, noise = _parse_response(result.stdout)
        if response is None:
            said = self.scrub(_stray_output(result))
            raise MagentoError('%s failed: the Magento bridge exited with code %d and printed no JSON: %s%s' % (
                describe(actions[0]), result.rc, said or '(no output)', self._advice(said)), kind='bridge')
        self._collect_secrets(response.get('results'))
        if noise.strip():
            self.warn('PHP printed this before the Magento bridge\'s answer; fix the PHP CLI configuration (for example '
                      'a module loaded twice, or display_startup_errors): %s' % self.scrub(_first_lines(noise)))
        if response.get('protocol') != BRIDGE_PROTOCOL:
            raise MagentoError('The Magento bridge answered protocol %r, this collection speaks protocol %d: '
                               'use matching versions.' % (response.get('protocol'), BRIDGE_PROTOCOL), kind='protocol')
        if not response.get('ok'):
            error = response.get('error') or {}
            index = error.get('index', 0)
            failed = actions[index] if isinstance(index, int) and 0 <= index < len(actions) else actions[0]
            said = self.scrub(error.get('message') or 'no message')
            raise MagentoError('%s failed: %s%s' % (describe(failed), said, self._advice(said) if error.get('kind') == 'bootstrap' else ''),
                               kind=error.get('kind', 'magento'), magento_exception=error.get('exception'))
        return response['results']


def _parse_response(stdout):
    """(the bridge's JSON document or None, what PHP printed before it): PHP start-up warnings may come first."""
    try:
        document = json.loads(stdout)
    except ValueError:
        document = None
    if isinstance(document, dict):
        return document, ''
    lines = stdout.splitlines()
    for index in range(len(lines) - 1, 0, -1):
        if lines[index].startswith('{'):
            try:
                document = json.loads('\n'.join(lines[index:]))
            except ValueError:
                continue
            if isinstance(document, dict):
                return document, '\n'.join(lines[:index])
    return None, stdout


def _stray_output(result):
    """What PHP printed instead of one JSON document: stderr, else stdout without the lines that may hold (part of) the
    bridge's JSON, whose secrets were never parsed and so cannot be scrubbed."""
    if result.stderr.strip():
        return _first_lines(result.stderr)
    return _first_lines('\n'.join(line for line in result.stdout.splitlines() if not line.lstrip().startswith(('{', '['))))


def _first_lines(text, count=8):
    return '\n'.join(text.strip().splitlines()[:count])
