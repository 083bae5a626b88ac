# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator on a managed node reached over SSH (issue 11): the emulator role copies the emulator to the node and
starts it there, and the onboarding role's modules run on the node against it, as they do against a real Magento.

The node is this machine behind an sshd of the test's own on a free loopback port (its own host key, client key and
config in a temporary folder; no system file is changed). Skipped when not root or sshd is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO

SSHD = shutil.which('sshd') or '/usr/sbin/sshd'
EMULATOR = os.path.join(REPO, 'extensions', 'emulator', 'magento-emulator')

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists(SSHD) or not shutil.which('ssh'),
                                reason='needs root, sshd and ssh (an sshd on a loopback port stands for the node)')


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.fixture(scope='module')
def node(tmp_path_factory):
    """An sshd on 127.0.0.1:<free port> that lets the test's key log in as root."""
    work = tmp_path_factory.mktemp('ssh-node')
    for key in ('host_key', 'client_key'):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(work / key)], check=True)
    shutil.copyfile(str(work / 'client_key.pub'), str(work / 'authorized_keys'))
    port = free_port()
    (work / 'sshd_config').write_text('\n'.join([
        'Port %d' % port, 'ListenAddress 127.0.0.1', 'HostKey %s' % (work / 'host_key'),
        'PidFile %s' % (work / 'sshd.pid'), 'AuthorizedKeysFile %s' % (work / 'authorized_keys'),
        'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
        'UsePAM no', 'StrictModes no', 'Subsystem sftp internal-sftp', '']))
    os.makedirs('/run/sshd', exist_ok=True)
    subprocess.run([SSHD, '-f', str(work / 'sshd_config'), '-E', str(work / 'sshd.log')], check=True)
    deadline = time.time() + 10
    while not (work / 'sshd.pid').exists() and time.time() < deadline:
        time.sleep(0.1)
    inventory = {'all': {'hosts': {'node': {
        'ansible_host': '127.0.0.1', 'ansible_port': port, 'ansible_user': 'root',
        'ansible_ssh_private_key_file': str(work / 'client_key'),
        'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
        # the node is this machine: its Python with requests and requests-oauthlib
        'ansible_python_interpreter': sys.executable}}}}
    (work / 'inventory.yml').write_text(json.dumps(inventory))
    yield work
    pid = int((work / 'sshd.pid').read_text().strip())
    os.kill(pid, 15)


def playbook(node, collections_path, plays, name):
    path = node / (name + '.yml')
    path.write_text(json.dumps(plays))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR='1',
               ANSIBLE_HOST_KEY_CHECKING='false', ANSIBLE_RETRY_FILES_ENABLED='false')
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-v', '-i',
               str(node / 'inventory.yml'), str(path)]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=env, cwd=str(node), timeout=600, check=False)
    return proc.returncode, proc.stdout


def recap(output, field):
    line = [line for line in output.splitlines() if line.startswith('node ')][-1]
    return int(line.split(field + '=')[1].split()[0])


def test_the_emulator_runs_on_the_node_and_the_role_onboards_there_over_ssh(node, collections_path):
    root = str(node / 'on-node' / 'magento')
    credentials = str(node / 'controller-credentials')
    onboard = [{'name': 'Onboard on the node', 'hosts': 'node', 'gather_facts': False, 'roles': [
        {'role': 'commerceops.magento.emulator', 'vars': {'emulator_root': root}},
        {'role': 'commerceops.magento.integration_onboarding', 'vars': {
            'integration_onboarding_magento_root': '{{ magento_root }}',
            'integration_onboarding_php_executable': '{{ magento_php }}',
            'integration_onboarding_base_url': '{{ magento_base_url }}',
            'integration_onboarding_credentials_dir': credentials,
            'integration_onboarding_integrations': [
                {'name': 'Remote ERP', 'resources': ['Magento_Catalog::products']}]}}]}]
    try:
        rc, first = playbook(node, collections_path, onboard, 'onboard')
        assert rc == 0, first[-3000:]
        # the node ran its own copy of the emulator, not the collection's
        assert os.path.exists(root + '.code/magento-emulator')
        assert '%s.code/magento-emulator' % root in first
        assert 'extensions/emulator/magento-emulator' not in first
        assert 'Remote ERP: active' in first and 'tokens proven' in first
        with open(os.path.join(credentials, 'Remote_ERP.json')) as handle:
            assert len(json.load(handle)['access_token']) == 32

        rc, second = playbook(node, collections_path, onboard, 'onboard')
        assert rc == 0, second[-3000:]
        assert recap(second, 'changed') == 0, second[-3000:]
    finally:
        rc, stopped = playbook(node, collections_path, [{'name': 'Stop', 'hosts': 'node', 'gather_facts': False,
                                                         'roles': [{'role': 'commerceops.magento.emulator', 'vars': {
                                                             'emulator_root': root, 'emulator_state': 'stopped'}}]}],
                               'stop')
        subprocess.run([sys.executable, EMULATOR, 'stop', '--root', root], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    assert rc == 0, stopped[-2000:]
