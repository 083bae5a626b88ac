# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every YAML play and task list in README.md, docs/onboarding-guide.md and docs/host-transport.md runs as copied
against the emulator (issue 10 item 3), with the stand-ins the guide names:

* the inventory group ``magento`` is this machine (local connection), and the run is already the files' owner, so
  ``become``/``become_user`` are dropped (tests/field runs the README's role example with them, over SSH);
* ``/var/www/magento`` is the emulated store, whose ``bin/php`` comes first on PATH (``php``), and
  ``/usr/bin/php8.2`` that same stand-in;
* ``https://erp.acme.example/magento/callback`` and ``.../login`` are the test connector
  (tests/integration/targets/setup_third_party), which completes the callback flow as a real connector does;
* the credentials files under ``/etc`` go to the test's folder.

A block that is a play header only (``tasks: ...``) is the play the task blocks after it run in. Blocks run in the
order of the page, the pages in the order of PAGES, on one store.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, record

THIRD_PARTY = os.path.join(REPO, 'tests', 'integration', 'targets', 'setup_third_party', 'files', 'third_party.py')
PAGES = ['docs/onboarding-guide.md', 'README.md', 'docs/host-transport.md']
BLOCK = re.compile(r'^```yaml\n(.*?)^```', re.S | re.M)


def blocks(page):
    with open(os.path.join(REPO, page)) as handle:
        return BLOCK.findall(handle.read())


def is_module_task(item):
    """A task of this collection, or a block holding one."""
    return isinstance(item, dict) and (any(key.startswith('commerceops.magento.') for key in item)
                                       or any(is_module_task(task) for task in item.get('block') or []))


@pytest.fixture(scope='module')
def connector(store):
    folder = os.path.join(store.workdir, 'connector')
    os.mkdir(folder)
    pidfile = os.path.join(folder, 'pid')
    started = subprocess.run([sys.executable, THIRD_PARTY, 'start', '--log', os.path.join(folder, 'attempts.json'),
                              '--pidfile', pidfile, '--lifetime', '600'], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True)
    yield json.loads(started.stdout)['base_url']
    subprocess.run([sys.executable, THIRD_PARTY, 'stop', '--pidfile', pidfile], stdout=subprocess.PIPE, check=False)


def stand_ins(text, store, connector):
    for real, stand_in in (('/var/www/magento', store.root), ('/usr/bin/php8.2', store.php),
                           ('https://erp.acme.example/magento/callback', connector + 'complete/guide'),
                           ('https://erp.acme.example/magento/login', connector + 'identity'),
                           ('/etc/acme-erp/', store.workdir + '/etc-acme-erp/'), ('/etc/acme/', store.workdir + '/etc-acme/')):
        text = text.replace(real, stand_in)
    return text


def plays_of(page, store, connector):
    """[(label, plays)] to run for ``page``; a header play gives its keys to the task blocks after it."""
    header = None
    runs = []
    for number, text in enumerate(blocks(page), 1):
        data = yaml.safe_load(stand_ins(text, store, connector))
        label = '%s block %d' % (page, number)
        if not isinstance(data, list) or not data:
            continue
        if all(isinstance(item, dict) and 'hosts' in item for item in data):
            plays = []
            for play in data:
                play = dict((key, value) for key, value in play.items() if key not in ('become', 'become_user'))
                if not any(key in play for key in ('tasks', 'roles')) or play.get('tasks') == '...':
                    header = dict((key, value) for key, value in play.items() if key != 'tasks')
                    continue
                plays.append(play)
            if plays:
                runs.append((label, plays))
        elif all(isinstance(item, dict) for item in data) and any(is_module_task(item) for item in data):
            play = dict(header or {'hosts': 'magento'}, gather_facts=False, tasks=data)
            runs.append((label, [play]))
    return runs


@pytest.mark.parametrize('page', PAGES)
def test_the_yaml_examples_run_as_copied(store, connector, page):
    for folder in ('etc-acme-erp', 'etc-acme'):
        os.makedirs(os.path.join(store.workdir, folder), mode=0o700, exist_ok=True)
    inventory = os.path.join(store.workdir, 'inventory.ini')
    with open(inventory, 'w') as handle:
        handle.write('[magento]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    runs = plays_of(page, store, connector)
    assert runs, 'no runnable YAML example found in %s' % page
    failed = []
    for number, (label, plays) in enumerate(runs):
        rc, output = store.playbook(plays, name='doc-%s-%d' % (os.path.basename(page), number), args=['-i', inventory],
                                    PATH=os.path.join(store.root, 'bin') + os.pathsep + os.environ['PATH'])
        if rc != 0:
            failed.append('%s:\n%s' % (label, output[-2500:]))
    record('doc examples', **{page.replace('/', '_').replace('.', '_'): len(runs)})
    assert not failed, '\n\n'.join(failed)
