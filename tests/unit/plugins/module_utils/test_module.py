# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who PHP runs as: MagentoModule._php_user (issue 10 item 2), checked before any PHP starts."""

from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.commerceops.magento.plugins.module_utils._module import MagentoModule
from ansible_collections.commerceops.magento.plugins.module_utils._module import _Problem as Failed


class FakeModule(object):
    def __init__(self, magento_user=None):
        self.params = {'magento_user': magento_user}

    def fail_json(self, msg, **kwargs):
        raise AssertionError('the checks raise, the transport fails: %s' % msg)


@pytest.fixture
def root(tmp_path):
    for folder in ('app/etc', 'var/cache', 'generated/code'):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / 'app' / 'etc' / 'env.php').write_text('<?php return [];\n')
    return str(tmp_path)


def owner_of(root):
    return pwd.getpwuid(os.stat(os.path.join(root, 'app', 'etc', 'env.php')).st_uid)


def test_the_owner_runs_php_itself(root, monkeypatch):
    owner = owner_of(root)
    monkeypatch.setattr(os, 'geteuid', lambda: owner.pw_uid)
    assert MagentoModule._php_user(FakeModule(), root) == (None, owner.pw_name)


def test_root_runs_php_as_the_owner_of_the_files(root, monkeypatch):
    nobody = pwd.getpwnam('nobody')
    os.chown(os.path.join(root, 'app', 'etc', 'env.php'), nobody.pw_uid, nobody.pw_gid)
    monkeypatch.setattr(os, 'geteuid', lambda: 0)
    run_as, owner = MagentoModule._php_user(FakeModule(), root)
    assert (run_as.pw_name, owner) == ('nobody', 'nobody')
    run_as, owner = MagentoModule._php_user(FakeModule(magento_user='root'), root)
    assert run_as is None and owner == 'root'  # magento_user names the user; root is this process


def test_another_user_who_cannot_write_var_fails_naming_the_owner_and_become_user(root, monkeypatch):
    owner = owner_of(root)
    nobody = pwd.getpwnam('nobody')
    monkeypatch.setattr(os, 'geteuid', lambda: nobody.pw_uid)
    monkeypatch.setattr(os, 'access', lambda path, mode: not path.endswith(('var', 'cache')))
    with pytest.raises(Failed) as failed:
        MagentoModule._php_user(FakeModule(), root)
    message = str(failed.value)
    assert 'runs as nobody' in message and 'belong to %s' % owner.pw_name in message
    assert 'cannot write var/, var/cache/ under' in message
    assert 'become: true, become_user: %s' % owner.pw_name in message


def test_another_user_who_can_write_var_and_generated_goes_on(root, monkeypatch):
    nobody = pwd.getpwnam('nobody')
    monkeypatch.setattr(os, 'geteuid', lambda: nobody.pw_uid)
    monkeypatch.setattr(os, 'access', lambda path, mode: True)
    assert MagentoModule._php_user(FakeModule(), root) == (None, owner_of(root).pw_name)


def test_a_named_magento_user_needs_root_or_that_user(root, monkeypatch):
    nobody = pwd.getpwnam('nobody')
    monkeypatch.setattr(os, 'geteuid', lambda: nobody.pw_uid)
    with pytest.raises(Failed) as failed:
        MagentoModule._php_user(FakeModule(magento_user='root'), root)
    assert 'magento_user is root, but the task runs as nobody' in str(failed.value)
    assert 'become_user: root' in str(failed.value)
    with pytest.raises(Failed) as failed:
        MagentoModule._php_user(FakeModule(magento_user='cmb-no-such-user'), root)
    assert "magento_user 'cmb-no-such-user' is not a user on this host" in str(failed.value)
