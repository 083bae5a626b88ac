# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role as a first-time user meets it (issue 10 items 3 and 6): a preflight that fails once, before any write,
listing everything missing; a summary that says what a removal did; a warning when it turns integration-as-bearer on.
"""

from __future__ import annotations

import os
import sys

from conftest import REPO, record

sys.path.insert(0, os.path.join(REPO, 'extensions', 'emulator'))

ROLE = 'commerceops.magento.integration_onboarding'


def role(store, **role_vars):
    base = {'integration_onboarding_magento_root': store.root, 'integration_onboarding_php_executable': store.php,
            'integration_onboarding_base_url': store.base_url}
    base.update(role_vars)
    return [{'hosts': 'localhost', 'gather_facts': False, 'roles': [{'role': ROLE, 'vars': base}]}]


def integration_names(store):
    from magento_emulator import store as emulated
    conn = emulated.connect(store.root)
    try:
        return sorted(row['name'] for row in conn.execute('SELECT name FROM integration'))
    finally:
        conn.close()


def test_preflight_lists_every_problem_once_before_any_write(store):
    before = integration_names(store)
    rc, output = store.playbook(role(store, integration_onboarding_php_executable='/nonexistent/php',
                                     integration_onboarding_base_url='http://127.0.0.1:9/',
                                     integration_onboarding_integrations=[{'name': 'pf-new', 'resource_access': 'all'}]),
                                name='preflight-fails')
    assert rc != 0
    assert 'The preflight found 2 problems on this host' in output, output[-3000:]
    assert "php_executable '/nonexistent/php' does not exist" in output and 'Reaching the store at base_url' in output
    assert output.count('fatal:') == 1 and 'TASK [commerceops.magento.integration_onboarding : Set Web API guest access]' not in output
    assert integration_names(store) == before, 'the role wrote before its preflight failed'
    record('role preflight', problems_listed_in_one_failure=2)


def test_summary_after_a_removal_says_removed(store):
    rc, output = store.playbook(role(store, integration_onboarding_integrations=[{'name': 'pf-gone', 'resource_access': 'all'}]),
                                name='create')
    assert rc == 0, output[-3000:]
    rc, output = store.playbook(role(store, integration_onboarding_integrations=[{'name': 'pf-gone', 'state': 'absent'}]),
                                name='remove')
    assert rc == 0, output[-3000:]
    line = [text for text in output.splitlines() if 'Integration pf-gone:' in text]
    assert line and 'absent, removed' in line[0] and 'created or updated' not in line[0], line


def test_the_role_warns_when_it_turns_integration_as_bearer_on(store):
    rc, output = store.playbook(role(store, integration_onboarding_enable_integration_as_bearer=True), name='bearer')
    assert rc == 0, output[-3000:]
    flat = ' '.join(output.split())
    assert '[WARNING]: This run turns integration-as-bearer on' in flat and 'var/log/system.log' in flat, output[-3000:]
    rc, output = store.playbook(role(store, integration_onboarding_enable_integration_as_bearer=True), name='bearer-again')
    assert rc == 0 and 'turns integration-as-bearer on' not in output, 'warned again when nothing changed'
