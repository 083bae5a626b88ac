# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one AnsibleModule subclass of this collection. Internal to this collection.

It merges the shared connection options (documented once in the
``commerceops.magento.connection`` doc fragment) into each module's own options
and hands out the host transport, so a module holds only its own logic.
"""

from __future__ import annotations

import os
import pwd
import sys

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._transport import HostTransport, become

# Where a Magento bootstrap writes (SPEC 15): the user PHP runs as must be able to write there.
_WRITTEN_BY_MAGENTO = ('var', 'var/cache', 'generated', 'generated/code')


class _Problem(Exception):
    """A connection option or host prerequisite that stops the module before PHP starts: the message says the fix."""


CONNECTION_OPTIONS = dict(
    magento_root=dict(type='path', fallback=(env_fallback, ['MAGENTO_ROOT'])),
    php_executable=dict(type='str', default='php', fallback=(env_fallback, ['MAGENTO_PHP'])),
    magento_user=dict(type='str', fallback=(env_fallback, ['MAGENTO_USER'])),
    base_url=dict(type='str', fallback=(env_fallback, ['MAGENTO_BASE_URL'])),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='int', default=60),
)


class MagentoModule(AnsibleModule):
    """AnsibleModule with the connection options and the Magento host transport."""

    @classmethod
    def generate_argspec(cls, **options):
        spec = dict(CONNECTION_OPTIONS)
        spec.update(options)
        return spec

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('supports_check_mode', True)
        super(MagentoModule, self).__init__(*args, **kwargs)
        self._transport = None
        self._check_connection_options()

    def _check_connection_options(self):
        if self.params['timeout'] <= 0:
            self.fail_json(msg='timeout must be a positive number of seconds, not %d.' % self.params['timeout'])
        base_url = self.params['base_url']
        if base_url and not (base_url.startswith('http://') or base_url.startswith('https://')):
            self.fail_json(msg='base_url %r must be the store URL, starting with https:// (or http://), for example '
                               'https://shop.example.com/.' % base_url)

    @property
    def transport(self):
        if self._transport is None:
            try:
                root = self._checked_root()
                php = self._checked_php()
                user = self._php_user(root)
            except _Problem as problem:
                self.fail_json(msg=str(problem))
            self._transport = self._new_transport(root, php, user)
        return self._transport

    def _new_transport(self, root, php, user):
        # The bridge script goes to a new private folder in the system's temp directory, not under Ansible's
        # remote_tmp: the become user's home (/var/www for www-data) is often not writable, and Ansible would warn
        # on every task.
        return HostTransport(root, php, self.params['timeout'], None, warn=self.warn, run_as=user[0], owner=user[1])

    def preflight(self, http, reads=()):
        """(every problem that would stop the collection on this host, facts, the results of ``reads``): the Magento
        root, PHP, who PHP runs as and whether that user may write var/ and generated/, a Magento bootstrap; with
        ``http`` also the Python libraries of the token exchange and the store answering at base_url. Nothing is
        written. ``reads`` are bridge actions run in the bootstrap's PHP process (None when it did not run)."""
        problems = []

        def check(function, *args):
            try:
                return function(*args)
            except _Problem as problem:
                problems.append(str(problem))
            except MagentoError as error:
                problems.append(str(error))
            return None

        facts, results = {}, None
        root = check(self._checked_root)
        php = check(self._checked_php)
        user = check(self._php_user, root) if root else None
        if user:
            run_as, facts['owner'] = user
            facts['php_user'] = run_as.pw_name if run_as else getattr(_passwd(os.geteuid()), 'pw_name', str(os.geteuid()))
            if run_as is not None:
                blocked = [name + '/' for name in _WRITTEN_BY_MAGENTO if not _writable_by(os.path.join(root, name), run_as)]
                if blocked:
                    problems.append('PHP runs as %s, who cannot write %s under %s: give %s those directories (chown -R).'
                                    % (run_as.pw_name, ', '.join(blocked), root, run_as.pw_name))
        if root and php and user and not problems:
            self._transport = self._new_transport(root, php, user)
            info = check(self._transport.bridge, [{'action': 'system.info'}] + list(reads))
            if info:
                facts.update(magento_version=info[0].get('magento_version'), base_url=info[0].get('base_url'))
                results = info[1:]
        if http:
            from ansible_collections.commerceops.magento.plugins.module_utils import _oauth
            base_url = self.params['base_url'] or facts.get('base_url')
            if _oauth.HTTP_IMPORT_ERROR:
                problems.append('The Python libraries requests and requests-oauthlib are missing for %s on this host: '
                                'install them (integration_onboarding_install_python_deps: true, pip install requests '
                                'requests-oauthlib, or the OS packages python3-requests and python3-requests-oauthlib).'
                                % sys.executable)
            elif base_url:
                check(_oauth.OAuthClient(base_url, self.params['validate_certs'], self.params['timeout'], retries=0).reach)
            elif not problems:
                problems.append('No base_url: set base_url (or MAGENTO_BASE_URL); Magento has no web/unsecure/base_url.')
        return problems, facts, results

    def _php_user(self, root):
        """(the passwd entry PHP must run as, or None for this process's user; the files' owner's name).

        Every PHP process runs as the owner of Magento's files (``magento_user``, default: the owner of
        app/etc/env.php): Magento writes generated code and cache entries with the owner of the process, and a
        file the web server cannot rewrite takes the store down. Root switches to that user for PHP; any other
        user must be it, or be able to write var/ and generated/. Checked before any PHP starts.
        """
        owner_uid = os.stat(os.path.join(root, 'app', 'etc', 'env.php')).st_uid
        wanted = self.params['magento_user']
        if wanted:
            user = _passwd(wanted)
            if user is None:
                raise _Problem('magento_user %r is not a user on this host: set it to the owner of the Magento '
                               'files.' % wanted)
        else:
            user = _passwd(owner_uid)
            if user is None:
                raise _Problem('The owner (uid %d) of %s/app/etc/env.php is not a user on this host: set '
                               'magento_user to the user Magento runs as.' % (owner_uid, root))
        me = os.geteuid()
        if user.pw_uid == me:
            return None, user.pw_name
        if me == 0:
            return user, user.pw_name
        running_as = getattr(_passwd(me), 'pw_name', str(me))
        if wanted:
            raise _Problem('magento_user is %s, but the task runs as %s, which cannot start processes as another '
                           'user: run the task as %s (become: true, become_user: %s).' % (wanted, running_as, wanted, wanted))
        unwritable = [name + '/' for name in _WRITTEN_BY_MAGENTO
                      if os.path.isdir(os.path.join(root, name)) and not os.access(os.path.join(root, name), os.W_OK | os.X_OK)]
        if unwritable:
            raise _Problem('The task runs as %s, but the Magento files belong to %s and %s cannot write %s under %s: '
                           'Magento would fail, or leave files the web server cannot change. Run the task as the '
                           "files' owner: become: true, become_user: %s."
                           % (running_as, user.pw_name, running_as, ', '.join(unwritable), root, user.pw_name))
        return None, user.pw_name

    def _checked_root(self):
        root = self.params['magento_root']
        if not root:
            raise _Problem('magento_root is required: set it (or the MAGENTO_ROOT environment variable) '
                           'to the Magento installation directory, the one holding bin/magento.')
        for marker in ('app/etc/env.php', 'bin/magento'):
            path = os.path.join(root, marker)
            if not os.path.isfile(path):
                raise _Problem('magento_root %r is not a Magento installation: %s not found. Set magento_root '
                               '(or MAGENTO_ROOT) to the directory holding bin/magento.' % (root, marker))
            if not os.access(path, os.R_OK):
                owner = getattr(_passwd(os.stat(path).st_uid), 'pw_name', 'the owner of the Magento files')
                raise _Problem("magento_root %r: %s is not readable by %s; run the task as the files' owner: become: "
                               'true, become_user: %s.' % (root, marker, getattr(_passwd(os.geteuid()), 'pw_name', 'this user'),
                                                           owner))
        return root

    def _checked_php(self):
        php = self.params['php_executable']
        if os.path.sep in php:
            if not (os.path.isfile(php) and os.access(php, os.X_OK)):
                raise _Problem('php_executable %r does not exist or is not executable: install the PHP CLI or '
                               'set php_executable (or MAGENTO_PHP).' % php)
            return php
        found = self.get_bin_path(php)
        if not found:
            raise _Problem('php_executable %r was not found on PATH: install the PHP CLI Magento uses or set '
                           'php_executable (or MAGENTO_PHP) to its full path.' % php)
        return found

    def fail_from(self, error, **result):
        """Fail the task with a MagentoError's message and its secret-free details."""
        details = dict((k, v) for k, v in error.details.items() if v is not None)
        result.update(details)
        self.fail_json(msg=str(error), error_kind=error.kind, **result)

    def run_converging(self, attempt):
        """``(attempt(), retried)``. When another run wrote between the attempt's read and its write (the bridge
        refused the write with kind ``conflict``), read again and converge on that run's result: one more attempt.
        A second refusal means the other run is still writing: the error says so, and that a rerun is safe."""
        try:
            return attempt(), False
        except MagentoError as error:
            if error.kind != 'conflict':
                raise
        try:
            return attempt(), True
        except MagentoError as error:
            if error.kind != 'conflict':
                raise
            raise MagentoError('%s Another run is changing the same integration at the same time; rerun the task when '
                               'it is done (a rerun is safe).' % error, kind=error.kind, **error.details)

    def run_or_fail(self, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except MagentoError as error:
            self.fail_from(error)


def _passwd(user):
    """The passwd entry of a user name or uid, or None."""
    try:
        return pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(user)
    except KeyError:
        return None


def _writable_by(path, user):
    """Whether ``user`` (a passwd entry) may create files in the directory ``path``, asked of the kernel by a child
    process that becomes that user, so ACLs count as they do for PHP (mode bits alone would miss them). A missing
    directory counts as writable: Magento creates it in its parent."""
    if not os.path.isdir(path):
        return True
    pid = os.fork()
    if pid == 0:  # the child: only os._exit leaves it
        try:
            become(user)
            os._exit(0 if os.access(path, os.W_OK | os.X_OK) else 1)
        except BaseException:  # pylint: disable=broad-except
            os._exit(2)
    status = os.waitpid(pid, 0)[1]
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
