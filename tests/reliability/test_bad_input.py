# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, table-driven: every row must fail before anything is written, naming the field and the fix.

All module rows run in one playbook against one emulator; after each row the
emulator's whole state (database rows, app/etc, cache folder) is digested and
compared with the digest taken before the first row.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import record

M = 'commerceops.magento.'
EXISTING = 'bad-input-existing'
# (id, module, args, fragments the message must contain)
CASES = [
    ('integration-empty-name', 'magento_integration', {'name': '', 'resource_access': 'all'}, ['name must not be empty']),
    ('integration-padded-name', 'magento_integration', {'name': ' acme ', 'resource_access': 'all'}, ['name', 'leading or trailing spaces']),
    ('integration-long-name', 'magento_integration', {'name': 'n' * 256, 'resource_access': 'all'}, ['name', 'at most 255']),
    ('integration-control-char', 'magento_integration', {'name': 'acme\tERP', 'resource_access': 'all'}, ['name', 'control characters']),
    ('integration-bad-email', 'magento_integration', {'name': 'x-new', 'email': 'nope', 'resource_access': 'all'}, ['email', 'name@domain.tld']),
    ('integration-email-no-tld', 'magento_integration', {'name': 'x-new', 'email': 'ops@localhost', 'resource_access': 'all'}, ['email']),
    ('integration-email-too-long', 'magento_integration', {'name': 'x-new', 'email': 'a' * 250 + '@b.example', 'resource_access': 'all'}, ['email']),
    ('integration-ftp-callback', 'magento_integration',
     {'name': 'x-new', 'callback_url': 'ftp://erp.example/cb', 'resource_access': 'all'}, ['callback_url', 'https://']),
    ('integration-callback-spaces', 'magento_integration',
     {'name': 'x-new', 'callback_url': 'https://erp example/cb', 'resource_access': 'all'}, ['callback_url']),
    ('integration-relative-identity', 'magento_integration',
     {'name': 'x-new', 'identity_link_url': 'erp.example/login', 'resource_access': 'all'}, ['identity_link_url']),
    ('integration-long-url', 'magento_integration',
     {'name': 'x-new', 'callback_url': 'https://erp.example/' + 'p' * 250, 'resource_access': 'all'}, ['callback_url', 'at most 255']),
    ('integration-misspelled-acl', 'magento_integration',
     {'name': 'x-new', 'resources': ['Magento_Catalog::product']}, ['resources', "did you mean 'Magento_Catalog::products'"]),
    ('integration-unknown-acl', 'magento_integration',
     {'name': 'x-new', 'resources': ['Vendor_Nope::nothing']}, ['unknown ACL resource', 'Vendor_Nope::nothing']),
    ('integration-acl-wrong-case', 'magento_integration', {'name': 'x-new', 'resources': ['magento_catalog::products']}, ['did you mean']),
    ('integration-all-with-resources', 'magento_integration',
     {'name': 'x-new', 'resource_access': 'all', 'resources': ['Magento_Catalog::products']}, ['resources is only used with resource_access=custom']),
    ('integration-all-id-in-custom', 'magento_integration', {'name': 'x-new', 'resources': ['Magento_Backend::all']}, ['set resource_access=all']),
    ('integration-custom-no-list', 'magento_integration', {'name': 'x-new', 'resource_access': 'custom'}, ['resources is required']),
    ('integration-no-access', 'magento_integration', {'name': 'x-new'}, ['needs its API resource access']),
    ('integration-bad-state', 'magento_integration', {'name': 'x-new', 'state': 'gone'}, ['state', 'present']),
    ('integration-bad-access-choice', 'magento_integration', {'name': 'x-new', 'resource_access': 'some'}, ['resource_access']),
    ('connection-wrong-root', 'magento_integration',
     {'name': 'x-new', 'resource_access': 'all', 'magento_root': '/nonexistent/magento'}, ['magento_root', 'not a Magento installation']),
    ('connection-missing-php', 'magento_integration',
     {'name': 'x-new', 'resource_access': 'all', 'php_executable': '/nonexistent/bin/php'}, ['php_executable', 'install the PHP CLI']),
    ('connection-php-not-on-path', 'magento_integration',
     {'name': 'x-new', 'resource_access': 'all', 'php_executable': 'php-that-is-not-there'}, ['php_executable', 'not found on PATH']),
    ('connection-php-is-not-php', 'magento_integration',
     {'name': 'x-new', 'resource_access': 'all', 'php_executable': '/bin/false'}, ['printed no JSON', 'Point php_executable', 'at the PHP']),
    ('connection-unknown-magento-user', 'magento_integration',
     {'name': 'x-new', 'resource_access': 'all', 'magento_user': 'cmb-nobody-here'}, ['magento_user', 'is not a user on this host']),
    ('connection-zero-timeout', 'magento_integration_info', {'timeout': 0}, ['timeout must be a positive number']),
    ('auth-missing-integration', 'magento_integration_auth', {'name': 'x-missing'}, ['does not exist', 'create it first']),
    ('auth-callback-without-urls', 'magento_integration_auth', {'name': EXISTING, 'flow': 'callback'}, ['flow=callback needs', 'callback_url']),
    ('auth-wrong-base-url', 'magento_integration_auth', {'name': EXISTING, 'base_url': 'http://127.0.0.1:9/'}, ['Reaching the store', 'base_url']),
    ('auth-base-url-no-scheme', 'magento_integration_auth', {'name': EXISTING, 'base_url': 'shop.example/'}, ['base_url', 'https://']),
    ('auth-route-without-slash', 'magento_integration_auth', {'name': EXISTING, 'verify_route': 'V1/modules'}, ['verify_route', 'starting with /']),
    ('auth-negative-wait', 'magento_integration_auth', {'name': EXISTING, 'wait_timeout': -5}, ['wait_timeout']),
    ('auth-credentials-dir-missing', 'magento_integration_auth',
     {'name': EXISTING, 'credentials_file': '/nonexistent-dir/c.json'}, ['credentials_file', 'does not exist']),
    ('auth-bad-flow', 'magento_integration_auth', {'name': EXISTING, 'flow': 'magic'}, ['flow']),
    ('config-not-a-path', 'magento_config', {'path': 'webapi', 'value': 1}, ['not a config path', 'section/group/field']),
    ('config-undeclared-path', 'magento_config', {'path': 'bogus/path/here', 'value': 1}, ['"bogus/path/here" path doesn\'t exist']),
    ('config-group-not-field', 'magento_config', {'path': 'webapi/webapisecurity/allow_insecure/extra', 'value': 1}, ["path doesn't exist"]),
    ('config-website-without-code', 'magento_config', {'path': 'general/locale/code', 'value': 'en_GB', 'scope': 'website'}, ['needs scope_code']),
    ('config-default-with-code', 'magento_config', {'path': 'general/locale/code', 'value': 'en_GB', 'scope_code': 'base'}, ["can't include a scope code"]),
    ('config-bad-code-format', 'magento_config',
     {'path': 'general/locale/code', 'value': 'en_GB', 'scope': 'store', 'scope_code': '9bad'}, ['scope_code', 'letters']),
    ('config-unknown-store', 'magento_config',
     {'path': 'general/locale/code', 'value': 'en_GB', 'scope': 'store', 'scope_code': 'nosuch'}, ['"nosuch" value doesn\'t exist']),
    ('config-unknown-scope', 'magento_config', {'path': 'general/locale/code', 'value': 'en_GB', 'scope': 'galaxy'}, ['scope']),
    ('config-missing-value', 'magento_config', {'path': 'general/locale/code'}, ['value is required']),
    ('config-list-value', 'magento_config', {'path': 'general/locale/code', 'value': ['en', 'GB']}, ['value must be text']),
    ('config-locked-path', 'magento_config', {'path': 'web/seo/use_rewrites', 'value': '0'}, ['locked in app/etc/env.php', 'lock=env']),
    ('config-lock-with-absent', 'magento_config', {'path': 'general/locale/code', 'state': 'absent', 'lock': 'env'}, ['lock is only used with state=present']),
    ('config-batch-one-bad', 'magento_config', {'settings': [{'path': 'general/locale/code', 'value': 'fr_FR'},
                                                             {'path': 'bogus/path/here', 'value': 1}]}, ["path doesn't exist"]),
    ('config-path-and-settings', 'magento_config', {'path': 'general/locale/code', 'value': 'x', 'settings': []}, ['mutually exclusive']),
    ('cache-unknown-type', 'magento_cache', {'types': ['bogus'], 'state': 'cleaned'}, ["'bogus'", 'config_webservice']),
    ('cache-wrong-case-type', 'magento_cache', {'types': ['config', 'Config'], 'state': 'flushed'}, ["'Config'"]),
    ('cache-bad-state', 'magento_cache', {'state': 'purged'}, ['state']),
    ('webapi-not-a-bool', 'magento_webapi_security', {'allow_anonymous_guest_access': 'perhaps'}, ['allow_anonymous_guest_access']),
    ('webapi-missing-option', 'magento_webapi_security', {}, ['allow_anonymous_guest_access']),
]
# Role variables that its argument specification must refuse before any task runs.
ROLE_REFUSED = []  # role rows refused by the argument spec, with the store unchanged
ROLE_CASES = [
    ('role-integration-without-name', {'integration_onboarding_integrations': [{'email': 'ops@acme.example'}]}, 'name'),
    ('role-bad-resource-access', {'integration_onboarding_integrations': [{'name': 'x', 'resource_access': 'some'}]}, 'resource_access'),
    ('role-guest-access-not-bool', {'integration_onboarding_allow_anonymous_guest_access': 'perhaps'}, 'integration_onboarding_allow_anonymous_guest_access'),
    ('role-bad-flow', {'integration_onboarding_integrations': [{'name': 'x', 'flow': 'magic'}]}, 'flow'),
]


def case_plays(store, results_file):
    tasks = [
        {'name': 'an integration for the auth rows', M + 'magento_integration': {'name': EXISTING, 'resource_access': 'all'}},
        {'name': 'a locked path for the config rows', M + 'magento_config': {'path': 'web/seo/use_rewrites', 'value': '1', 'lock': 'env'}},
        {'name': 'state before', 'magento_ci_state': {'magento_root': store.root}, 'register': 'before'},
    ]
    for index, (case_id, module, args, _fragments) in enumerate(CASES):
        tasks.append({'name': case_id, M + module: args, 'register': 'case_%d' % index, 'ignore_errors': True})
        tasks.append({'name': 'state after ' + case_id, 'magento_ci_state': {'magento_root': store.root},
                      'register': 'after_%d' % index})
    summary = dict((case_id, {'failed': '{{ case_%d is failed }}' % index, 'msg': '{{ case_%d.msg | default("") }}' % index,
                              'unchanged': '{{ after_%d.digest == before.digest }}' % index})
                   for index, (case_id, _m, _a, _f) in enumerate(CASES))
    tasks.append({'name': 'write the results', 'ansible.builtin.copy': {'content': '{{ summary | to_json }}', 'dest': results_file},
                  'vars': {'summary': summary}})
    return [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/commerceops.magento.magento': store.connection}, 'tasks': tasks}]


@pytest.fixture(scope='module')
def outcomes(store):
    results_file = os.path.join(store.workdir, 'bad-input.json')
    rc, output = store.playbook(case_plays(store, results_file), name='bad-input')
    assert os.path.exists(results_file), output[-4000:]
    with open(results_file) as handle:
        results = json.load(handle)
    clean = sum(1 for r in results.values() if r['failed'] in (True, 'True') and r['unchanged'] in (True, 'True'))
    record('bad input', tried=len(CASES) + len(ROLE_CASES), module_rows=len(CASES), failed_cleanly_before_writing=clean)
    return results


@pytest.mark.parametrize('case_id, module, args, fragments', CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly_and_writes_nothing(outcomes, case_id, module, args, fragments):
    outcome = outcomes[case_id]
    assert outcome['failed'] in (True, 'True'), '%s did not fail' % case_id
    for fragment in fragments:
        assert fragment in outcome['msg'], outcome['msg']
    assert outcome['unchanged'] in (True, 'True'), '%s changed the store' % case_id
    assert 'Traceback' not in outcome['msg']


@pytest.mark.parametrize('case_id, role_vars, fragment', ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_bad_role_variables_are_refused_before_any_task(store, case_id, role_vars, fragment):
    role_vars = dict(role_vars, integration_onboarding_magento_root=store.root,
                     integration_onboarding_php_executable=store.php, integration_onboarding_base_url=store.base_url)
    plays = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'the role', 'ansible.builtin.include_role': {'name': 'commerceops.magento.integration_onboarding'},
         'vars': role_vars},
    ]}]
    digest_before = _digest(store)
    rc, output = store.playbook(plays, name=case_id)
    assert rc != 0 and 'Validating arguments against arg spec' in output and fragment in output, output[-3000:]
    assert _digest(store) == digest_before
    ROLE_REFUSED.append(case_id)
    record('bad input', role_rows=len(ROLE_CASES), role_rows_refused_before_any_task=len(ROLE_REFUSED))


def _digest(store):
    plays = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'magento_ci_state': {'magento_root': store.root}, 'register': 'state'},
        {'ansible.builtin.copy': {'content': '{{ state.digest }}', 'dest': os.path.join(store.workdir, 'digest.txt')}}]}]
    rc, output = store.playbook(plays, name='digest')
    assert rc == 0, output[-2000:]
    with open(os.path.join(store.workdir, 'digest.txt')) as handle:
        return handle.read()
