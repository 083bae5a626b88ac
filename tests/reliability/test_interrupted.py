# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Interrupted runs: the onboarding role killed at each step, then run again normally.

Each step gets a fresh emulated store. The role starts with ansible-playbook; a fault holds the run at the
step (a bridge action or bin/magento command that sleeps, before or after its work, or an HTTP request the
store answers late), and when the run is there, ansible-playbook is killed with SIGKILL: its process group
and the process groups of everything it started (ansible-core 2.21 puts each worker in a session of its own,
so killing the playbook's group alone would let the module finish its step). What the HTTP server was asked,
it finishes, as a web server would. Then the role runs again, to the end, and the test asserts:

- convergence: the run succeeds, exactly one integration per name, each active with exactly one access token
  row, no orphan or duplicate oauth_token rows and no consumer without its integration, a credentials file per
  integration whose tokens are Magento's and prove themselves with a signed GET /rest/V1/modules;
- caches: the Web API guest access the role turned on is in effect (an anonymous GET of a guest route answers
  200) and no cache type is left invalidated, as the role promises ("refresh the caches the run invalidated").

Figures: "interrupted: N steps, N converged, N with caches refreshed" in the closing summary.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import Store, record
import store_checks as checks

INTEGRATIONS = [
    {'name': 'Interrupted ERP', 'email': 'erp@acme.example',
     'resources': ['Magento_Catalog::catalog', 'Magento_Catalog::products', 'Magento_Sales::sales']},
    {'name': 'Interrupted BI', 'resource_access': 'all', 'flow': 'exchange'},
]
HOLD = 120  # seconds a host fault holds the run; it is killed long before
HTTP_HOLD = 2.0  # seconds the store takes to answer the held request; it answers after the kill
# (id, fault key, rule): where the run is held and killed, in the role's order.
STEPS = [
    ('guest-access-saved', 'bin_magento_delay', {'commands': 'allow_insecure', 'after': True}),
    ('bearer-config-saved', 'bin_magento_delay', {'commands': 'enable_integration_as_bearer', 'after': True}),
    ('integration-created', 'bridge_delay', {'actions': 'integration.create', 'after': True}),
    ('before-token-writes', 'bridge_delay', {'actions': 'integration.activate'}),
    ('tokens-written', 'bridge_delay', {'actions': 'integration.activate', 'after': True}),
    ('request-token-issued', 'http_delay', {'paths': '/oauth/token/request', 'method': 'POST'}),
    ('access-token-issued', 'http_delay', {'paths': '/oauth/token/access', 'method': 'POST'}),
    ('token-proof', 'http_delay', {'paths': '/rest/V1/modules'}),
    ('before-cache-refresh', 'bin_magento_delay', {'commands': 'cache:clean'}),
]
OUTCOMES = {}
FIGURES = {'steps': 0, 'reached': 0, 'converged': 0, 'caches_refreshed': 0}
SUMMARY = 'interrupted: {steps} steps, {reached} killed at their step, {converged} converged, {caches_refreshed} with caches refreshed'


def role_plays(store, credentials_dir):
    role_vars = {
        'integration_onboarding_magento_root': store.root,
        'integration_onboarding_php_executable': store.php,
        'integration_onboarding_base_url': store.base_url,
        'integration_onboarding_allow_anonymous_guest_access': True,
        'integration_onboarding_enable_integration_as_bearer': True,
        'integration_onboarding_credentials_dir': credentials_dir,
        'integration_onboarding_integrations': INTEGRATIONS,
    }
    return [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Onboard', 'ansible.builtin.include_role': {'name': 'commerceops.magento.integration_onboarding'},
         'vars': role_vars}]}]


def descendants(pid):
    """Every process below pid, from /proc."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(')') + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().split(') ')[1][0] != 'Z'
    except (OSError, IndexError):
        return False


def kill_run(proc):
    """SIGKILL ansible-playbook's process group and the process groups of all it started; wait until they are gone."""
    pids = [proc.pid] + descendants(proc.pid)
    groups = set()
    for pid in pids:
        try:
            groups.add(os.getpgid(pid))
        except OSError:
            pass
    groups.discard(os.getpgrp())
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except OSError:
            pass
    proc.wait(30)
    deadline = time.time() + 30
    while any(alive(pid) for pid in pids) and time.time() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def faults_left(root):
    path = os.path.join(root, 'var', 'emulator-faults.json')
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


def run_and_kill(store, step_id, key, rule, credentials_dir):
    """Start the role, wait until the run is held at the step, kill it. Returns (reached, output, survivors)."""
    touched = os.path.join(store.workdir, 'reached-' + step_id)
    if key == 'http_delay':
        rule = dict(rule, seconds=HTTP_HOLD, count=1)
    else:
        rule = dict(rule, seconds=HOLD, count=1, touch=touched)
    faults_file = os.path.join(store.root, 'var', 'emulator-faults.json')
    with open(faults_file, 'w') as handle:
        json.dump({key: rule}, handle)
    path = os.path.join(store.workdir, 'interrupted.yml')
    with open(path, 'w') as handle:
        json.dump(role_plays(store, credentials_dir), handle)
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, path]
    log = os.path.join(store.workdir, 'interrupted.log')
    with open(log, 'w') as output:
        proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=store.env(), cwd=store.workdir,
                                start_new_session=True)
        reached = False
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            reached = os.path.exists(touched) if key != 'http_delay' else key not in faults_left(store.root)
            if reached:
                break
            time.sleep(0.05)
        survivors = kill_run(proc)
    faults_file = os.path.join(store.root, 'var', 'emulator-faults.json')
    if os.path.exists(faults_file):
        os.unlink(faults_file)
    if key == 'http_delay':
        time.sleep(HTTP_HOLD + 0.5)  # the store finishes the request it was asked
    with open(log) as handle:
        return reached, handle.read(), survivors


def file_name(name):
    return re.sub('[^A-Za-z0-9_.-]', '_', name) + '.json'


def convergence_problems(store, rc, output, credentials_dir):
    problems = []
    if rc != 0:
        problems.append('the rerun failed (rc %d): %s' % (rc, output[-1500:]))
    if checks.TRACEBACK in output:
        problems.append('a Python traceback in the rerun output')
    problems += checks.anomalies(store.root)
    for wanted in INTEGRATIONS:
        name = wanted['name']
        found = checks.integration(store.root, name)
        if found['count'] == 1 and (found['status'] != 1 or found['tokens'] != ['access']):
            problems.append('%s: status %s, token rows %s (want 1, [access])' % (name, found['status'], found['tokens']))
        elif found['count'] == 0:
            problems.append('%s: missing' % name)
        path = os.path.join(credentials_dir, file_name(name))
        if not os.path.exists(path):
            problems.append('%s: no credentials file' % name)
            continue
        with open(path) as handle:
            saved = json.load(handle)
        stored = checks.credentials(store.root, name)
        keys = ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret')
        if any(saved.get(key) != stored.get(key) for key in keys):
            problems.append('%s: the credentials file does not hold the tokens Magento has' % name)
        elif checks.signed_get(store.base_url, saved) != 200:
            problems.append('%s: its saved tokens do not prove themselves' % name)
    return problems


def cache_problems(store):
    problems = []
    left = checks.invalidated(store.root)
    if left:
        problems.append('cache types left invalidated: %s' % ', '.join(left))
    status = checks.anonymous_get(store.base_url)
    if status != 200:
        problems.append('guest access is not in effect: anonymous GET %s answered %s' % (checks.GUEST_ROUTE, status))
    return problems


def outcome_of(step, collections_path, tmp_path_factory):
    step_id, key, rule = step
    if step_id in OUTCOMES:
        return OUTCOMES[step_id]
    workdir = tmp_path_factory.mktemp('interrupted-' + step_id)
    store = Store(str(workdir / 'magento'), collections_path, str(workdir))
    credentials_dir = str(workdir / 'credentials')
    try:
        checks.anonymous_get(store.base_url)  # a store in service has config_webservice cached
        reached, killed_output, survivors = run_and_kill(store, step_id, key, rule, credentials_dir)
        left = dict((w['name'], checks.integration(store.root, w['name'])) for w in INTEGRATIONS)
        left_caches = checks.invalidated(store.root)
        rc, output = store.playbook(role_plays(store, credentials_dir), name='rerun-' + step_id)
        outcome = {'reached': reached, 'survivors': survivors, 'killed_output': killed_output, 'left': left,
                   'left_caches': left_caches, 'converge': convergence_problems(store, rc, output, credentials_dir),
                   'caches': cache_problems(store)}
    finally:
        store.stop()
    OUTCOMES[step_id] = outcome
    FIGURES['steps'] += 1
    FIGURES['reached'] += int(reached and not survivors)
    FIGURES['converged'] += int(not outcome['converge'])
    FIGURES['caches_refreshed'] += int(not outcome['caches'])
    record('interrupted', line=SUMMARY, **FIGURES)
    print('[interrupted] %s: killed %s; left %s, invalidated %s; rerun -> %s; caches -> %s' % (
        step_id, 'at the step' if reached else 'BEFORE REACHING THE STEP',
        dict((n, (f.get('count'), f.get('status'), f.get('tokens'))) for n, f in left.items()), left_caches,
        outcome['converge'] or 'converged', outcome['caches'] or 'refreshed'))
    return outcome


@pytest.mark.parametrize('step', STEPS, ids=[s[0] for s in STEPS])
def test_rerun_after_kill_converges(step, collections_path, tmp_path_factory):
    outcome = outcome_of(step, collections_path, tmp_path_factory)
    assert outcome['reached'], 'the run never reached %s:\n%s' % (step[0], outcome['killed_output'][-3000:])
    assert not outcome['survivors'], 'processes survived the kill: %s' % outcome['survivors']
    assert not outcome['converge'], '%s: %s' % (step[0], outcome['converge'])


@pytest.mark.parametrize('step', STEPS, ids=[s[0] for s in STEPS])
def test_rerun_after_kill_refreshes_invalidated_caches(step, collections_path, tmp_path_factory):
    outcome = outcome_of(step, collections_path, tmp_path_factory)
    assert not outcome['caches'], '%s (the killed run left invalidated: %s): %s' % (
        step[0], outcome['left_caches'], outcome['caches'])
