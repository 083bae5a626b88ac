# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role passes the token-lifecycle and drift options through (issue 12): ``integration_onboarding_exclusive``
removes what the list no longer names and the summary says so; ``integration_onboarding_max_token_age`` rotates a token
once it is older, once, and the summary says why. Each change is checked on the store, not only in the output.
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import EMULATOR, REPO
from store_checks import digest

sys.path.insert(0, os.path.join(REPO, 'extensions', 'emulator'))

ROLE = 'commerceops.magento.integration_onboarding'
ALL = {'resource_access': 'all'}
# The role proves every token with a signed call, and Magento keeps each call's nonce: the one write a rerun makes.
PROOF_TABLES = ('oauth_nonce',)


def role(store, integrations, **role_vars):
    base = {'integration_onboarding_magento_root': store.root, 'integration_onboarding_php_executable': store.php,
            'integration_onboarding_base_url': store.base_url,
            'integration_onboarding_integrations': [dict(ALL, name=name) for name in integrations]}
    base.update(role_vars)
    return [{'hosts': 'localhost', 'gather_facts': False, 'roles': [{'role': ROLE, 'vars': base}]}]


def rows(store, sql, *args):
    from magento_emulator import store as emulated
    conn = emulated.connect(store.root)
    try:
        return [dict(row) for row in conn.execute(sql, args)]
    finally:
        conn.close()


def names(store):
    return sorted(row['name'] for row in rows(store, 'SELECT name FROM integration'))


def access_token(store, name):
    found = rows(store, "SELECT t.token FROM oauth_token t JOIN integration i ON i.consumer_id = t.consumer_id "
                        "WHERE i.name = ? AND t.type = 'access'", name)
    assert len(found) == 1, found
    return found[0]['token']


def summary_line(output, name):
    lines = [line for line in output.splitlines() if name in line]
    assert lines, output[-3000:]
    return ' '.join(lines)


def test_exclusive_removes_what_the_list_no_longer_names(store):
    rc, output = store.playbook(role(store, ['lc-keep', 'lc-stray']), name='lc-both')
    assert rc == 0, output[-3000:]
    assert {'lc-keep', 'lc-stray'} <= set(names(store))
    others = set(names(store)) - {'lc-keep', 'lc-stray'}
    rc, output = store.playbook(role(store, ['lc-keep'] + sorted(others), integration_onboarding_exclusive=True),
                                name='lc-exclusive')
    assert rc == 0, output[-3000:]
    assert 'lc-stray' not in names(store) and 'lc-keep' in names(store)
    assert 'removed: lc-stray' in summary_line(output, 'Not in the list'), output[-3000:]
    before = digest(store.root, PROOF_TABLES)
    rc, output = store.playbook(role(store, ['lc-keep'] + sorted(others), integration_onboarding_exclusive=True),
                                name='lc-exclusive-again')
    assert rc == 0 and 'changed=0' in output, output[-3000:]
    assert 'removed: none' in summary_line(output, 'Not in the list')
    assert digest(store.root, PROOF_TABLES) == before


def test_max_token_age_rotates_an_old_token_once(store):
    rc, output = store.playbook(role(store, ['lc-aged']), name='lc-aged')
    assert rc == 0, output[-3000:]
    old = access_token(store, 'lc-aged')
    subprocess.run([sys.executable, EMULATOR, 'token-age', '--root', store.root, '--name', 'lc-aged', '--age', '100d'],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rc, output = store.playbook(role(store, ['lc-aged'], integration_onboarding_max_token_age='90d'), name='lc-rotate')
    assert rc == 0, output[-3000:]
    assert 'tokens rotated' in summary_line(output, 'Integration lc-aged:'), output[-3000:]
    new = access_token(store, 'lc-aged')
    assert new != old
    rc, output = store.playbook(role(store, ['lc-aged'], integration_onboarding_max_token_age='90d'),
                                name='lc-rotate-again')
    assert rc == 0 and 'changed=0' in output, output[-3000:]
    assert access_token(store, 'lc-aged') == new
