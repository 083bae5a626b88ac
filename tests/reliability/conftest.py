# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability suites: the collection driven by ansible-playbook against a live emulator.

Each suite builds one playbook from a table, runs it once, and the tests assert
on what every row did. Figures (what was tried, what held) are printed at the
end of the pytest run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(REPO, 'extensions', 'emulator', 'magento-emulator')
TEST_LIBRARY = os.path.join(REPO, 'tests', 'integration', 'targets', 'setup_magento_emulator', 'library')
FIGURES = {}
LINES = {}


def record(suite, line=None, **figures):
    """Figures a suite reports in the closing summary; ``line``: the sentence to print them in (str.format of the
    figures), instead of ``name=value`` pairs."""
    FIGURES.setdefault(suite, {}).update(figures)
    if line:
        LINES[suite] = line


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section('reliability figures')
        for suite, figures in sorted(FIGURES.items()):
            if suite in LINES:
                terminalreporter.write_line(LINES[suite].format(**figures))
            else:
                terminalreporter.write_line('%s: %s' % (suite, ', '.join('%s=%s' % item for item in sorted(figures.items()))))


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    """An ansible_collections tree whose commerceops/magento is this checkout."""
    base = tmp_path_factory.mktemp('collections')
    namespace = base / 'ansible_collections' / 'commerceops'
    namespace.mkdir(parents=True)
    os.symlink(REPO, str(namespace / 'magento'))
    return str(base)


class Store(object):
    """A running emulator and a way to run playbooks against it."""

    def __init__(self, root, collections, workdir):
        self.root = root
        self.collections = collections
        self.workdir = workdir
        started = subprocess.run([sys.executable, EMULATOR, 'start', '--root', root, '--json'],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True)
        info = json.loads(started.stdout)
        self.base_url = info['base_url']
        self.php = info['php_executable']

    def stop(self):
        subprocess.run([sys.executable, EMULATOR, 'stop', '--root', self.root], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)

    @property
    def connection(self):
        return {'magento_root': self.root, 'php_executable': self.php, 'base_url': self.base_url}

    def env(self, **extra):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=self.collections, ANSIBLE_LIBRARY=TEST_LIBRARY,
                   ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
                   ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='false')
        env.update(extra)
        return env

    def playbook(self, plays, name='play', args=(), timeout=900, **env):
        """Run plays (a list of dicts) with ansible-playbook; returns (rc, output)."""
        path = os.path.join(self.workdir, name + '.yml')
        with open(path, 'w') as handle:
            json.dump(plays, handle, indent=1)  # JSON is YAML
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                   '-e', 'ansible_python_interpreter=%s' % sys.executable, path] + list(args)
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              env=self.env(**env), cwd=self.workdir, timeout=timeout, check=False)
        return proc.returncode, proc.stdout


@pytest.fixture(scope='module')
def store(tmp_path_factory, collections_path):
    workdir = tmp_path_factory.mktemp('store')
    running = Store(str(workdir / 'magento'), collections_path, str(workdir))
    yield running
    running.stop()
