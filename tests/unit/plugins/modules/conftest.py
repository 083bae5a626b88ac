# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() with arguments and canned bridge / bin/magento answers."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule
from ansible_collections.commerceops.magento.plugins.module_utils._transport import HostTransport
from ansible_collections.commerceops.magento.tests.unit.plugins.fakes import FakeHost


@pytest.fixture
def host(monkeypatch):
    fake = FakeHost()

    def bridge(transport, actions):  # a method of HostTransport, answered by the fake
        return fake.bridge(transport, actions)

    monkeypatch.setattr(HostTransport, 'bridge', bridge)
    monkeypatch.setattr(HostTransport, 'magento', lambda self, args, attempted=None: fake.magento(self, args, attempted))
    monkeypatch.setattr(MagentoModule, '_checked_root', lambda self: '/srv/magento')
    monkeypatch.setattr(MagentoModule, '_checked_php', lambda self: '/usr/bin/php')
    monkeypatch.setattr(MagentoModule, '_php_user', lambda self, root: (None, 'www-data'))
    return fake


@pytest.fixture
def run_module(capsys):
    """run_module(main, args) -> (failed, result): runs a module's main() as Ansible would."""
    def run(main, args):
        args = dict({'magento_root': '/srv/magento'}, **args)
        # Warnings collect in a process-wide registry; each run starts with none.
        ansible_warnings._global_warnings.clear()
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exit_info:
                main()
        result = json.loads(capsys.readouterr().out)
        if 'warnings' in result:  # ansible-core 2.19+ returns warning events; tests read their text
            result['warnings'] = [w['event']['msg'] if isinstance(w, dict) else w for w in result['warnings']]
        return exit_info.value.code != 0, result
    return run
