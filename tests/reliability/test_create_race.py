# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two runs create the same integration at once, with different resources, and race past Magento's duplicate check.

Run ``a`` reads the name as absent and starts its create; the emulator holds it inside IntegrationService::create,
after the duplicate-name look-up and before the INSERT (``bridge_delay`` ``within``), while run ``b`` creates the same
name with other resources. Run a's INSERT then meets the unique index, as on a real store ("Unique constraint violation
found"). What must hold: neither run fails; run a reads again and converges (the bridge answers kind ``conflict``, no
text matching); the last writer (a) wins but says so, naming what it replaced; one row for the name; a rerun of a
changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from conftest import record
from store_checks import digest

M = 'commerceops.magento.'
NAME = 'race-create'
A_RESOURCES = ['Magento_Catalog::products']
B_RESOURCES = ['Magento_Sales::sales']


def _play(store, resources):
    return [{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {M + 'magento_integration': dict(store.connection, name=NAME, resources=resources)}]}]


def _rows(store):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                    'extensions', 'emulator'))
    from magento_emulator import integrations as emulated, store as emulated_store
    conn = emulated_store.connect(store.root)
    try:
        return [emulated.normalise(conn, row) for row in
                conn.execute('SELECT * FROM integration WHERE name = ?', (NAME,)).fetchall()]
    finally:
        conn.close()


def test_a_create_race_converges_and_the_last_writer_warns(store):
    inside = os.path.join(store.workdir, 'race-inside')
    release = os.path.join(store.workdir, 'race-release')
    # Run a waits inside its create until run b is done (``release``), however long b takes on a loaded machine.
    with open(os.path.join(store.root, 'var', 'emulator-faults.json'), 'w') as handle:
        json.dump({'bridge_delay': {'seconds': 240, 'actions': 'integration.create', 'within': True, 'touch': inside,
                                    'release': release, 'count': 1}}, handle)
    path = os.path.join(store.workdir, 'race-a.yml')
    with open(path, 'w') as handle:
        json.dump(_play(store, A_RESOURCES), handle)
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, path]
    run_a = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                             env=store.env(), cwd=store.workdir)
    deadline = time.time() + 120
    while not os.path.exists(inside) and time.time() < deadline and run_a.poll() is None:
        time.sleep(0.05)
    assert os.path.exists(inside), run_a.communicate()[0][-3000:]
    rc_b, output_b = store.playbook(_play(store, B_RESOURCES), name='race-b')
    with open(release, 'w', encoding='utf-8'):
        pass
    output_a = run_a.communicate(timeout=300)[0]
    record('create_race', runs=2, failed=int(rc_b != 0) + int(run_a.returncode != 0))
    assert rc_b == 0 and '[WARNING]' not in output_b, output_b[-3000:]
    assert run_a.returncode == 0, output_a[-3000:]
    # Run a lost the create (the unique index refused it), read again and wrote its resources over b's: it says so.
    assert 'changed=1' in output_a
    warning = ' '.join(output_a.split())
    assert "Integration 'race-create' was written by another run at the same time (it created it)" in warning, output_a
    assert "resources ['Magento_Backend::admin', 'Magento_Sales::sales'] -> ['Magento_Backend::admin', " \
           "'Magento_Catalog::products']" in warning, output_a
    rows = _rows(store)
    assert len(rows) == 1 and sorted(rows[0]['resources']) == ['Magento_Backend::admin', 'Magento_Catalog::products']
    before = digest(store.root)
    rc, output = store.playbook(_play(store, A_RESOURCES), name='race-rerun')
    assert rc == 0 and 'changed=0' in output and '[WARNING]' not in output, output[-3000:]
    assert digest(store.root) == before
