# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static checks of the PHP bridge source against docs/bridge-protocol.md."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.commerceops.magento.plugins.module_utils._bridge_php import BRIDGE_SOURCE, BRIDGE_PROTOCOL
from ansible_collections.commerceops.magento.plugins.module_utils._transport import _ATTEMPTS

# tests/unit/plugins/module_utils -> repository root is four levels up.
_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
_PROTOCOL_DOC = os.path.join(_ROOT, 'docs', 'bridge-protocol.md')


def _documented_actions():
    """Action names from the first column of the protocol's action table."""
    if not os.path.isfile(_PROTOCOL_DOC):
        pytest.skip('docs/bridge-protocol.md is not part of this copy of the collection')
    with open(_PROTOCOL_DOC, encoding='utf-8') as handle:
        text = handle.read()
    section = text.split('## Actions', 1)[1].split('\n## ', 1)[0]
    names = re.findall(r'^\|\s*`([a-z_]+\.[a-z_]+)`\s*\|', section, re.MULTILINE)
    assert names, 'no action table found in docs/bridge-protocol.md'
    return names


def _dispatch_map():
    """The keys of the PHP dispatch map (const CMB_ACTIONS = [...])."""
    match = re.search(r'const CMB_ACTIONS = \[(.*?)\];', BRIDGE_SOURCE, re.DOTALL)
    assert match, 'the PHP source has no CMB_ACTIONS dispatch map'
    return dict(re.findall(r"'([a-z_.]+)'\s*=>\s*'([a-z_]+)'", match.group(1)))


def test_source_is_a_php_script():
    assert BRIDGE_SOURCE.startswith('<?php\n')


def test_marker_on_second_line_matches_protocol():
    assert isinstance(BRIDGE_PROTOCOL, int)
    assert BRIDGE_SOURCE.splitlines()[1] == '// commerceops-magento-bridge protocol=%d' % BRIDGE_PROTOCOL
    assert 'const CMB_PROTOCOL = %d;' % BRIDGE_PROTOCOL in BRIDGE_SOURCE


def test_every_documented_action_is_dispatched():
    dispatch = _dispatch_map()
    missing = [name for name in _documented_actions() if name not in dispatch]
    assert not missing, 'actions of docs/bridge-protocol.md missing from the PHP dispatch map: %s' % missing


def test_dispatch_map_holds_only_documented_actions_with_defined_handlers():
    dispatch = _dispatch_map()
    documented = set(_documented_actions())
    assert set(dispatch) <= documented
    for handler in dispatch.values():
        assert re.search(r'^function %s\(' % re.escape(handler), BRIDGE_SOURCE, re.MULTILINE), handler


def test_source_keeps_stdout_clean_and_uses_no_sql():
    assert "ini_set('display_errors', 'stderr')" in BRIDGE_SOURCE
    assert 'ob_start()' in BRIDGE_SOURCE
    assert not re.search(r'\b(INSERT INTO|UPDATE\s+\w+\s+SET|DELETE FROM)\b', BRIDGE_SOURCE, re.IGNORECASE)


def test_documented_magento_messages_are_used_verbatim():
    for message in (
        'Bridge protocol %d cannot answer a request of protocol %s.',
        'The "%s" value doesn\\\'t exist. Enter another value and try again.',
    ):
        assert message in BRIDGE_SOURCE, message


def test_rules_the_client_checks_first_are_only_terse_guards_in_the_bridge():
    """Scope and code form, config-file integrations and locked values are refused by the client before any write, with
    messages that name the setting and the fix (_config.normalise_setting, ConfigPlan, magento_integration's wanted());
    the bridge keeps one short guard each, not a second wording of the rule."""
    for guard in ('Invalid scope "%s" with scope code "%s".',
                  'Integration %d comes from a config file (setup_type 1): not %s.',
                  'Config path "%s" is locked at %s scope: not deleted.'):
        assert BRIDGE_SOURCE.count(guard) == 1, guard
    for second_wording in ('A scope is missing.', 'A scope code is missing.', 'The scope code can include only letters',
                           "can\\'t include a scope code", "created in the config file can\\'t be edited",
                           'Uninstall the extension', 'has already been locked'):
        assert second_wording not in BRIDGE_SOURCE, second_wording


_PHP = shutil.which('php')


def _write_source(tmp_path):
    script = tmp_path / 'bridge.php'
    script.write_text(BRIDGE_SOURCE, encoding='utf-8')
    return str(script)


@pytest.mark.skipif(_PHP is None, reason='no php binary on PATH')
def test_php_lint_passes(tmp_path):
    result = subprocess.run([_PHP, '-l', _write_source(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(_PHP is None, reason='no php binary on PATH')
@pytest.mark.parametrize('request_text, kind, message', [
    ('not json', 'protocol', 'The request is not a JSON object'),
    (json.dumps({'protocol': 2, 'magento_root': '/nowhere', 'actions': []}), 'protocol',
     'Bridge protocol 1 cannot answer a request of protocol 2.'),
    (json.dumps({'protocol': 1, 'magento_root': '/nowhere', 'actions': [{'action': 'nope.nothing'}]}), 'protocol',
     'Unknown bridge action'),
    (json.dumps({'protocol': 1, 'magento_root': '/nowhere', 'actions': [{'action': 'system.info'}]}), 'bootstrap',
     'app/bootstrap.php does not exist'),
])
def test_errors_before_magento_answer_one_json_document(tmp_path, request_text, kind, message):
    result = subprocess.run([_PHP, _write_source(tmp_path)], input=request_text, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    response = json.loads(result.stdout)
    assert response['protocol'] == BRIDGE_PROTOCOL
    assert response['ok'] is False
    assert response['results'] == []
    assert response['error']['kind'] == kind
    assert message in response['error']['message']


def _emulator_actions():
    """The keys of the emulator's copy of the bridge (ACTIONS in extensions/emulator/magento_emulator/bridge.py)."""
    with open(os.path.join(_ROOT, 'extensions', 'emulator', 'magento_emulator', 'bridge.py'), encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, 'id', None) for t in node.targets] == ['ACTIONS']:
            return [ast.literal_eval(key) for key in node.value.keys]
    raise AssertionError('the emulator bridge has no ACTIONS table')


def test_the_client_the_php_bridge_the_emulator_and_the_docs_know_the_same_actions():
    """One list of bridge actions: what the client can describe in an error (_transport._ATTEMPTS), what the PHP bridge
    dispatches (CMB_ACTIONS), what the emulator's copy answers, and what docs/bridge-protocol.md documents."""
    lists = {'_transport._ATTEMPTS': list(_ATTEMPTS), 'CMB_ACTIONS (PHP)': list(_dispatch_map()),
             'emulator bridge.ACTIONS': _emulator_actions(), 'docs/bridge-protocol.md': _documented_actions()}
    for where, names in lists.items():
        assert len(names) == len(set(names)), '%s names an action twice' % where
    reference = set(lists['CMB_ACTIONS (PHP)'])
    differences = dict((where, {'missing': sorted(reference - set(names)), 'extra': sorted(set(names) - reference)})
                       for where, names in lists.items() if set(names) != reference)
    assert not differences, 'the action lists differ from the PHP bridge\'s: %s' % differences
