# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two onboarding runs at once against one store: no duplicates, working tokens, no write silently lost.

Each round starts two ``ansible-playbook`` runs (``a`` and ``b``) with ``subprocess.Popen``; they meet at a barrier
(each touches its own file and waits for the other's) right before the tasks that contend:

* rounds 1 and 2 run the role in both runs, on the same integrations: ``new-*`` (both runs give the same fields),
  ``xchg`` (activated with flow=exchange by both), ``mail`` (a different e-mail in each run) and ``split-*``
  (existing; run a sets an e-mail, run b the resources). Round 1 runs at the emulator's own speed and creates all
  but ``split-*``. In round 2 they all exist (inactive), every bridge write first waits a second, as on a real
  Magento, where each PHP process bootstraps the application first, and the exchange preparations are staggered
  (the second waits longer), as when one run is half a PHP bootstrap behind the other.
* round 3 runs the modules, with the barrier right before each contended task and the same faults as round 2: an
  update of ``split-*`` (e-mail in run a, resources in run b), then flow=exchange and flow=direct activations of
  existing integrations.

What must hold: one integration per name; a run that reports success set what it asked for, unless a later
successful write of the other run set the same field; every integration active with one access token; and every
token a successful run reported (its credentials files) signs a REST call that Magento answers with 200.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import requests
from requests_oauthlib import OAuth1

from conftest import REPO, record

sys.path.insert(0, os.path.join(REPO, 'extensions', 'emulator'))

M = 'commerceops.magento.'
RUNS = ('a', 'b')
ADMIN = 'Magento_Backend::admin'
SALES = 'Magento_Sales::sales'
SPLITS = 2
WRITES = ['integration.create', 'integration.update', 'integration.activate', 'integration.prepare_exchange', 'integration.revoke']
# (round, kind, emulator faults during the round)
# Slow writes, and exchange preparations staggered: the first waits 0.2 s, the second 1.5 s.
SLOW = {'bridge_delay': [{'seconds': 0.2, 'actions': 'integration.prepare_exchange', 'count': 1},
                         {'seconds': 1.5, 'actions': 'integration.prepare_exchange', 'count': 1},
                         {'seconds': 1.0, 'actions': WRITES}]}
ROUNDS = [(1, 'role', None), (2, 'role', SLOW), (3, 'modules', SLOW)]
# Every round's races end in a converged store; no run needs to fail (observed: 0 of 6).
MAX_FAILED_RUNS = 0
BARRIER = ('import os, sys, time\n'
           'open(sys.argv[1], "w").close()\n'
           'deadline = time.time() + 60\n'
           'while not os.path.exists(sys.argv[2]):\n'
           '    if time.time() > deadline:\n'
           '        sys.exit("the other run never reached the barrier")\n'
           '    time.sleep(0.005)\n')
ROLE_TASK = re.compile(r'^TASK \[commerceops\.magento\.integration_onboarding : (.*)\] \**$')
STATUS_LINE = re.compile(r'^(ok|changed|skipping|failed|fatal): \[localhost\]')


def names(round_no):
    prefix = 'cc%d-' % round_no
    named = dict(split=[prefix + 'split-%d' % index for index in range(1, SPLITS + 1)], xchg=prefix + 'xchg')
    if round_no in (1, 2):
        named.update(new=[prefix + 'new-1', prefix + 'new-2'], mail=prefix + 'mail')
    else:
        named.update(direct=prefix + 'direct')
    return named


def all_names(round_no):
    return sorted(name for value in names(round_no).values() for name in (value if isinstance(value, list) else [value]))


def authorized_names(round_no):
    """The integrations the round's runs activate (round 3 only updates its split-* ones)."""
    return all_names(round_no) if round_no in (1, 2) else [names(round_no)['xchg'], names(round_no)['direct']]


def split_item(name, index, run):
    return {'name': name, 'email': 'split-%d-%s@acme.example' % (index, run)} if run == 'a' else {'name': name, 'resources': [SALES]}


def barrier(store, round_no, step, run):
    flags = [os.path.join(store.workdir, 'barrier-%d-%s-%s' % (round_no, step, who)) for who in (run, 'b' if run == 'a' else 'a')]
    return {'name': 'barrier before ' + step, 'ansible.builtin.command': {'argv': [sys.executable, '-c', BARRIER] + flags}, 'changed_when': False}


def role_plays(store, round_no, run, credentials_dir):
    named = names(round_no)
    items = [{'name': named['new'][0], 'resource_access': 'all'},
             {'name': named['new'][1], 'resources': ['Magento_Catalog::products']},
             {'name': named['xchg'], 'resource_access': 'all', 'flow': 'exchange'},
             {'name': named['mail'], 'resource_access': 'all', 'email': '%s@acme.example' % run}]
    items += [split_item(name, index, run) for index, name in enumerate(named['split'], 1)]
    role_vars = {
        'integration_onboarding_magento_root': store.root, 'integration_onboarding_php_executable': store.php,
        'integration_onboarding_base_url': store.base_url, 'integration_onboarding_credentials_dir': credentials_dir,
        'integration_onboarding_integrations': items,
    }
    return [{'name': 'run %s of round %d' % (run, round_no), 'hosts': 'localhost', 'gather_facts': False,
             'pre_tasks': [barrier(store, round_no, 'role', run)],
             'roles': [{'role': 'commerceops.magento.integration_onboarding', 'vars': role_vars}]}]


def module_plays(store, round_no, run, credentials_dir, results_file):
    named = names(round_no)
    tasks = [{'ansible.builtin.file': {'path': credentials_dir, 'state': 'directory', 'mode': '0700'}}]
    steps = []
    for index, name in enumerate(named['split'], 1):
        steps.append(('update %s' % name, M + 'magento_integration', split_item(name, index, run)))
    steps.append(('activate %s' % named['xchg'], M + 'magento_integration_auth',
                  {'name': named['xchg'], 'flow': 'exchange', 'credentials_file': os.path.join(credentials_dir, named['xchg'] + '.json')}))
    steps.append(('activate %s' % named['direct'], M + 'magento_integration_auth',
                  {'name': named['direct'], 'flow': 'direct', 'credentials_file': os.path.join(credentials_dir, named['direct'] + '.json')}))
    summary = {}
    for index, (step, module, args) in enumerate(steps):
        tasks.append(barrier(store, round_no, 'step%d' % index, run))
        tasks.append({'name': step, module: args, 'register': 'step_%d' % index, 'ignore_errors': True, 'no_log': module.endswith('_auth')})
        summary[step] = {'failed': '{{ step_%d is failed }}' % index, 'changed': '{{ step_%d is changed }}' % index,
                         'msg': '{{ step_%d.msg | default("") }}' % index}
    tasks.append({'name': 'write the results', 'ansible.builtin.copy': {'content': '{{ summary | to_json }}', 'dest': results_file},
                  'vars': {'summary': summary}})
    return [{'name': 'run %s of round %d' % (run, round_no), 'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/commerceops.magento.magento': dict(store.connection, base_url=store.base_url)}, 'tasks': tasks}]


def start(store, plays, name):
    path = os.path.join(store.workdir, name + '.yml')
    with open(path, 'w') as handle:
        json.dump(plays, handle, indent=1)
    log = open(os.path.join(store.workdir, name + '.log'), 'w')
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, path]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=store.env(), cwd=store.workdir), log


def role_task_results(output):
    """{role task name: 'ok' | 'changed' | 'failed' | ...} of one role run's output."""
    results, current = {}, None
    for line in output.splitlines():
        header = ROLE_TASK.match(line)
        if header:
            current = header.group(1)
            continue
        status = STATUS_LINE.match(line)
        if status and current and current not in results:
            results[current] = 'failed' if status.group(1) == 'fatal' else status.group(1)
    return results


def store_integrations(root):
    """{lower-case name: [every integration row of that name, as the bridge reads it, with its credentials]}, straight from the emulator."""
    from magento_emulator import integrations as emulated, store as emulated_store
    conn = emulated_store.connect(root)
    try:
        found = {}
        for row in conn.execute('SELECT * FROM integration ORDER BY integration_id').fetchall():
            view = emulated.normalise(conn, row)
            view['credentials'] = emulated.credentials(conn, root, row)
            found.setdefault(row['name'].lower(), []).append(view)
        return found
    finally:
        conn.close()


def signed_get(base_url, credentials):
    """GET /rest/V1/modules signed with an integration's OAuth 1.0a credentials (HMAC-SHA256, as Magento wants)."""
    auth = OAuth1(credentials['consumer_key'], credentials['consumer_secret'], credentials['access_token'],
                  credentials['access_token_secret'], signature_method='HMAC-SHA256')
    session = requests.Session()
    session.trust_env = False
    return session.get(base_url.rstrip('/') + '/rest/V1/modules', auth=auth, headers={'Accept': 'application/json'}, timeout=30).status_code


def setup_plays(store):
    """The existing integrations: split-* of every round, all of round 2's and round 3's (inactive)."""
    items = [{'name': name, 'email': 'old@acme.example'} for round_no, _kind, _faults in ROUNDS for name in names(round_no)['split']]
    items += [{'name': name, 'email': 'old@acme.example'} for round_no in (2, 3) for name in all_names(round_no)
              if name not in names(round_no)['split']]
    task = {'name': 'existing integrations', 'loop': items, 'loop_control': {'label': '{{ item.name }}'},
            M + 'magento_integration': dict(store.connection, name='{{ item.name }}', resource_access='all', email='{{ item.email }}')}
    return [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [task]}]


@pytest.fixture(scope='module')
def rounds(store):
    rc, output = store.playbook(setup_plays(store), name='concurrency-setup')
    assert rc == 0, output[-3000:]
    faults_file = os.path.join(store.root, 'var', 'emulator-faults.json')
    outcomes = []
    for round_no, kind, faults in ROUNDS:
        if faults:
            with open(faults_file, 'w') as handle:
                json.dump(faults, handle)
        procs = {}
        for run in RUNS:
            name = 'concurrency-%d-%s' % (round_no, run)
            credentials_dir = os.path.join(store.workdir, 'creds-%d-%s' % (round_no, run))
            results_file = os.path.join(store.workdir, name + '.json')
            plays = role_plays(store, round_no, run, credentials_dir) if kind == 'role' else \
                module_plays(store, round_no, run, credentials_dir, results_file)
            procs[run] = start(store, plays, name) + (credentials_dir, results_file)
        outcome = {'round': round_no, 'kind': kind, 'runs': {}}
        for run, (proc, log, credentials_dir, results_file) in procs.items():
            try:
                rc = proc.wait(timeout=300)
            finally:
                log.close()
            with open(log.name) as handle:
                output = handle.read()
            if kind == 'role':
                tasks = role_task_results(output)
                errors = '\n'.join(line for line in output.splitlines() if line.startswith(('[ERROR]', 'fatal: ')))
            else:
                # The auth tasks are no_log: their messages come from the registered results.
                assert rc == 0 and os.path.exists(results_file), output[-3000:]
                with open(results_file) as handle:
                    steps = json.load(handle)
                tasks = dict((step, 'failed' if result['failed'] in (True, 'True') else 'changed' if result['changed'] in (True, 'True') else 'ok')
                             for step, result in steps.items())
                # Each task is about one integration, named in the task name.
                errors = '\n'.join('%s: %s' % (step, result['msg']) for step, result in steps.items() if result['failed'] in (True, 'True'))
            outcome['runs'][run] = {'rc': rc, 'output': output, 'errors': errors, 'credentials_dir': credentials_dir, 'tasks': tasks}
        if os.path.exists(faults_file):
            os.unlink(faults_file)
        outcomes.append(outcome)
    after_races = store_integrations(store.root)
    proofs = prove_tokens(store, outcomes, after_races)
    # Then one more run, alone, asks for what the runs asked: it must find nothing to do.
    rerun_file = os.path.join(store.workdir, 'concurrency-rerun.json')
    rc, output = store.playbook(rerun_plays(store, rerun_file), name='concurrency-rerun')
    assert rc == 0 and os.path.exists(rerun_file), output[-3000:]
    with open(rerun_file) as handle:
        rerun = dict((name, {'changed': changed in (True, 'True'), 'failed': failed in (True, 'True'), 'msg': msg})
                     for name, changed, failed, msg in json.load(handle))
    return {'outcomes': outcomes, 'store': after_races, 'proofs': proofs, 'rerun': rerun, 'after_rerun': store_integrations(store.root)}


def prove_tokens(store, outcomes, found):
    """Signed REST calls with every integration's stored token and with every token a run wrote to its credentials files."""
    proofs = {'store': [], 'reported': []}
    for outcome in outcomes:
        for name in authorized_names(outcome['round']):
            row = found[name][0]
            status = signed_get(store.base_url, row['credentials']) if row['credentials']['access_token'] else None
            proofs['store'].append((name, row['status'], row['token'], status))
        for run, result in outcome['runs'].items():
            files = sorted(os.listdir(result['credentials_dir'])) if os.path.isdir(result['credentials_dir']) else []
            for file_name in files:
                with open(os.path.join(result['credentials_dir'], file_name)) as handle:
                    credentials = json.load(handle)
                stored = found[credentials['name'].lower()][0]['credentials']
                proofs['reported'].append(('%s, reported by run %s of round %d' % (credentials['name'], run, outcome['round']),
                                           signed_get(store.base_url, credentials), credentials['access_token'] == stored['access_token']))
    return proofs


def rerun_plays(store, results_file):
    authorized = [name for round_no, _kind, _faults in ROUNDS for name in authorized_names(round_no)]
    # ignore_errors only so that every item's outcome is written: a failed item fails the test, it is no "unchanged".
    tasks = [{'name': 'authorize again', M + 'magento_integration_auth': {'name': '{{ item }}'}, 'loop': authorized,
              'register': 'again', 'no_log': True, 'ignore_errors': True},
             {'name': 'write the results', 'ansible.builtin.copy': {'dest': results_file, 'content': '{{ summary | to_json }}'},
              'vars': {'summary': '{{ again.results | map(attribute="item") | zip(again.results | map(attribute="changed"), '
                                  'again.results | map(attribute="failed", default=false), '
                                  'again.results | map(attribute="msg", default="")) | list }}'}}]
    return [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/commerceops.magento.magento': dict(store.connection, base_url=store.base_url)}, 'tasks': tasks}]


def _failures(outcome):
    return dict((run, result) for run, result in outcome['runs'].items() if 'failed' in result['tasks'].values() or result['rc'])


def _succeeded(outcome, task):
    """The runs whose ``task`` reported success."""
    return [run for run, result in outcome['runs'].items() if result['tasks'].get(task) in ('ok', 'changed')]


def test_a_run_that_loses_a_race_fails_clearly(rounds):
    """Lost races converge, so no run fails; one that does names the integration in its error, with no traceback."""
    unclear, failed = [], []
    for outcome in rounds['outcomes']:
        for run, result in _failures(outcome).items():
            failed.append('round %d run %s' % (outcome['round'], run))
            if 'Traceback' in result['output'] or not result['errors'] or \
                    not any(name in result['errors'] for name in all_names(outcome['round'])):
                unclear.append('round %d run %s failed; its error does not say which integration:\n%s' % (
                    outcome['round'], run, result['errors'] or result['output'][-3000:]))
    record('concurrency', failed_runs=len(failed))
    assert not unclear, '\n'.join(unclear)
    # Lost races converge (read again, then write or accept the other run's result): a failed run is the exception.
    assert len(failed) <= MAX_FAILED_RUNS, '%d of %d runs failed (at most %d may): %s' % (
        len(failed), len(ROUNDS) * len(RUNS), MAX_FAILED_RUNS, ', '.join(failed))


def test_one_integration_per_name(rounds):
    found = rounds['store']
    expected = set(name for round_no, _kind, _faults in ROUNDS for name in all_names(round_no))
    assert expected <= set(found), 'missing: %s' % sorted(expected - set(found))
    duplicates = dict((name, len(rows)) for name, rows in found.items() if len(rows) != 1)
    assert not duplicates, 'names stored more than once: %s' % duplicates


def test_no_write_lost_between_the_runs(rounds):
    found = rounds['store']
    lost = []
    for outcome in rounds['outcomes']:
        named = names(outcome['round'])
        if outcome['kind'] == 'role':
            writers = _succeeded(outcome, 'Create or update the integrations')
            mail = found[named['mail']][0]['email']
            if writers and mail not in ['%s@acme.example' % run for run in writers]:
                lost.append('%s: e-mail %r, set by neither run whose integrations task succeeded (%s)' % (named['mail'], mail, writers))
        for index, name in enumerate(named['split'], 1):
            row = found[name][0]
            task = 'Create or update the integrations' if outcome['kind'] == 'role' else 'update %s' % name
            writers = _succeeded(outcome, task)
            if 'a' in writers and row['email'] != 'split-%d-a@acme.example' % index:
                lost.append('round %d, %s: run a reported success setting its e-mail; the store has %r (resources %s)' % (
                    outcome['round'], name, row['email'], row['resources']))
            if 'b' in writers and row['resources'] != [ADMIN, SALES]:
                lost.append('round %d, %s: run b reported success setting its resources; the store has %s (e-mail %r)' % (
                    outcome['round'], name, row['resources'], row['email']))
    assert not lost, 'writes lost while the run that made them reported success:\n  ' + '\n  '.join(lost)


def test_every_integration_ends_active_with_one_token_that_works(rounds):
    found = rounds['store']
    proofs = rounds['proofs']['store']
    wrong = ['%s: status %s, token rows %s, signed GET /V1/modules -> %s' % proof for proof in proofs
             if proof[1] != 1 or (proof[2]['type'], proof[2]['rows'], proof[2]['revoked']) != ('access', 1, False)
             or proof[3] != 200]
    record('concurrency', paired_runs=len(rounds['outcomes']), integrations=len(found),
           duplicates=sum(len(rows) - 1 for rows in found.values()), store_token_proofs=sum(proof[3] == 200 for proof in proofs))
    assert len(proofs) == sum(len(authorized_names(round_no)) for round_no, _kind, _faults in ROUNDS)
    assert not wrong, 'integrations not left active with one working access token:\n  ' + '\n  '.join(wrong)


def test_every_token_a_successful_run_reported_works(rounds):
    proofs = rounds['proofs']['reported']
    refused = ['%s: signed GET -> HTTP %d, %s the token Magento holds for it' % (label, status, 'same as' if same else 'not')
               for label, status, same in proofs if status != 200 or not same]
    record('concurrency', reported_token_proofs=sum(status == 200 for _label, status, _same in proofs), reported_tokens_wrong=len(refused))
    assert len(proofs) >= 10, 'only %d reported tokens to prove' % len(proofs)
    assert not refused, 'credentials a successful run reported that do not work, or are not the integration\'s token:\n  ' + '\n  '.join(refused)


def test_a_rerun_after_the_races_changes_no_token(rounds):
    """Whatever the races left, an idempotent rerun must neither report a change nor replace a token connectors now use."""
    before, after = rounds['store'], rounds['after_rerun']
    failed = ['%s: %s' % (name, outcome['msg']) for name, outcome in sorted(rounds['rerun'].items()) if outcome['failed']]
    assert not failed, 'the rerun failed (a failure is no "nothing to change"):\n  ' + '\n  '.join(failed)
    changed = sorted(name for name, outcome in rounds['rerun'].items() if outcome['changed'])
    replaced = sorted(name for name in rounds['rerun'] if before[name.lower()][0]['credentials']['access_token'] !=
                      after[name.lower()][0]['credentials']['access_token'])
    assert len(rounds['rerun']) == sum(len(authorized_names(round_no)) for round_no, _kind, _faults in ROUNDS)
    assert not changed and not replaced, 'the rerun reported changed for %s and replaced the access token of %s' % (changed, replaced)
