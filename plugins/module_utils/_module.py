# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one AnsibleModule subclass of this collection. Internal to this collection.

It merges the shared connection options (documented once in the
``commerceops.magento.connection`` doc fragment) into each module's own options
and hands out the host transport, so a module holds only its own logic.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError
from ansible_collections.commerceops.magento.plugins.module_utils._transport import HostTransport

CONNECTION_OPTIONS = dict(
    magento_root=dict(type='path', fallback=(env_fallback, ['MAGENTO_ROOT'])),
    php_executable=dict(type='str', default='php', fallback=(env_fallback, ['MAGENTO_PHP'])),
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
            self._transport = HostTransport(self._checked_root(), self._checked_php(), self.params['timeout'], self.tmpdir,
                                            warn=self.warn)
        return self._transport

    def _checked_root(self):
        root = self.params['magento_root']
        if not root:
            self.fail_json(msg='magento_root is required: set it (or the MAGENTO_ROOT environment variable) '
                               'to the Magento installation directory, the one holding bin/magento.')
        for marker in ('app/etc/env.php', 'bin/magento'):
            path = os.path.join(root, marker)
            if not os.path.isfile(path):
                self.fail_json(msg='magento_root %r is not a Magento installation: %s not found. Set magento_root '
                                   '(or MAGENTO_ROOT) to the directory holding bin/magento.' % (root, marker))
            if not os.access(path, os.R_OK):
                self.fail_json(msg='magento_root %r: %s is not readable by this user; run the task as the owner of '
                                   'the Magento files (become_user).' % (root, marker))
        return root

    def _checked_php(self):
        php = self.params['php_executable']
        if os.path.sep in php:
            if not (os.path.isfile(php) and os.access(php, os.X_OK)):
                self.fail_json(msg='php_executable %r does not exist or is not executable: install the PHP CLI or '
                                   'set php_executable (or MAGENTO_PHP).' % php)
            return php
        found = self.get_bin_path(php)
        if not found:
            self.fail_json(msg='php_executable %r was not found on PATH: install the PHP CLI Magento uses or set '
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
