"""Run the collection's shipped PHP bridge with a real PHP, over the PHP stand-ins of php/ (DESIGN.md).

The fake ``php`` of a root (fakephp.py) hands a bridge run here when the root was created with a usable
PHP (7.4+ with pdo_sqlite and sodium): the bridge script the collection wrote is executed as it is, and
``require``s the root's app/bootstrap.php, which loads the stand-ins. The host faults of faults.py are
planned here, before PHP starts (their uses are counted once per run, as for the Python copy):

* ``db_down`` and the faults that strike at an action (a delay, the process dying there) are handed to
  the stand-ins in ``MAGENTO_EMULATOR_FAULTS``: they strike when the bridge reaches that action;
* what happens after the last action (``after``), and what the process prints when it dies, is done here
  around the PHP process.

``MAGENTO_EMULATOR_PHP`` (a path, or ``none`` for the Python copy) overrides the PHP a root was created
with. With ``MAGENTO_EMULATOR_PHP_COVERAGE`` set to a directory (and pcov loaded), each run records the
bridge lines it executed there (php/coverage.php); ``scripts/test.sh`` sums them up.
"""

import ctypes
import json
import os
import shutil
import signal
import subprocess

from magento_emulator import bridge, faults

PHP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'php')
ENV_PHP = 'MAGENTO_EMULATOR_PHP'
ENV_COVERAGE = 'MAGENTO_EMULATOR_PHP_COVERAGE'
ENV_FAULTS = 'MAGENTO_EMULATOR_FAULTS'
FAULT_MARKER = 'magento-emulator-fault: stop'
MIN_VERSION_ID = 70400

_PROBE = ('echo json_encode(["version" => PHP_VERSION_ID, "pdo_sqlite" => extension_loaded("pdo_sqlite"), '
          '"sodium" => extension_loaded("sodium"), "pcov" => extension_loaded("pcov"), "release" => PHP_VERSION]);')
_PROBED = {}


def probe(php):
    """What ``php`` offers ({version, pdo_sqlite, sodium, pcov}), or None when it does not run."""
    php = os.path.abspath(php) if os.sep in php else (shutil.which(php) or php)
    if php not in _PROBED:
        try:
            done = subprocess.run([php, '-r', _PROBE], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=20, check=False, universal_newlines=True)
            found = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
            found = None
        _PROBED[php] = found if isinstance(found, dict) else None
    return _PROBED[php]


def usable(php):
    found = probe(php)
    return bool(found and found.get('version', 0) >= MIN_VERSION_ID and found.get('pdo_sqlite') and found.get('sodium'))


def find():
    """The PHP a new root runs the bridge with: MAGENTO_EMULATOR_PHP, else ``php`` on PATH, if usable; else None."""
    wanted = os.environ.get(ENV_PHP)
    if wanted is not None:
        return None if wanted in ('', 'none') else os.path.abspath(shutil.which(wanted) or wanted)
    for candidate in (shutil.which('php'), '/usr/bin/php'):
        if candidate and usable(candidate):
            return os.path.abspath(candidate)
    return None


def resolve(created_with):
    """The PHP for this run: MAGENTO_EMULATOR_PHP when set, else the one the root was created with (if still there)."""
    wanted = os.environ.get(ENV_PHP)
    if wanted is not None:
        return None if wanted in ('', 'none') else wanted
    if created_with and os.access(created_with, os.X_OK):
        return created_with
    return None


class _Plan(object):
    """The host faults of one run: what the stand-ins do (``env``) and what is done here afterwards."""

    def __init__(self, request_text, request_protocol):
        self.env = {}
        self.down = False
        self.after = []   # (kind, rule) in the order faults.py applies them once every action ran
        self.json_output = None
        self.stop = None  # the rule the process dies at: ('bridge_fatal' | 'bridge_output', rule)
        try:
            request = bridge._read_request(request_text, request_protocol)
        except bridge._RequestError:
            return   # PHP answers the protocol error itself; no fault is used
        self.root = os.path.abspath(request['magento_root'])
        if bridge._bootstrap_problem(self.root) is not None:
            return   # PHP answers the bootstrap error itself; no fault is used
        total = len(request['actions'])
        host = bridge._HostFaults(self.root, [action['action'] for action in request['actions']])
        if host.down is not None:
            self.down = True
            self.env['db_down'] = str(host.down.get('message') or faults.DB_DOWN_MESSAGE)

        def at(rule, index):
            return None if rule is None else (total if rule.get('after') else index)
        delay_at = at(host.delay, host.delay_at)
        if delay_at is not None and delay_at < total:
            # before the action, or 'within' it where Magento leaves a concurrent writer a window
            self.env.update({'window_at' if host.delay.get('within') else 'delay_at': delay_at,
                             'delay': {'seconds': faults.seconds(host.delay), 'touch': host.delay.get('touch'),
                                       'release': host.delay.get('release')}})
        elif delay_at is not None and not host.delay.get('within'):
            self.after.append(('delay', host.delay))
        output = host.output
        if output is not None and output.get('json'):
            self.json_output, output = output, None
        fatal, fatal_at = host.fatal, at(host.fatal, host.fatal_at)
        if fatal is not None and fatal.get('caught') and fatal_at < total:
            # a real fatal error in PHP, answered by the bridge's handler
            self.env.update(fatal_at=fatal_at, fatal_message=faults.fatal_message(fatal))
            fatal = None
        stops = [(index, order, key, rule) for order, (key, rule, index) in enumerate(
            (('bridge_fatal', fatal, fatal_at), ('bridge_output', output, at(output, host.output_at))))
            if rule is not None]
        early = sorted(stop for stop in stops if stop[0] < total)
        if early:
            self.env['stop_at'] = early[0][0]
            self.stop = early[0][2:]
        self.after += [(stop[2], stop[3]) for stop in sorted(stops) if stop[0] >= total]


def _die_with_parent():
    """In the PHP child: killed when the fake php is (Linux), as a PHP run by a killed shell would not outlive it."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _command(php, script):
    command = [php]
    coverage = os.environ.get(ENV_COVERAGE)
    found = probe(php) if coverage else None
    if coverage and found and found.get('pcov'):
        os.makedirs(coverage, exist_ok=True)
        command += ['-d', 'pcov.enabled=1', '-d', 'pcov.directory=' + os.path.dirname(os.path.abspath(script)),
                    '-d', 'auto_prepend_file=' + os.path.join(PHP_DIR, 'coverage.php')]
    return command + [script]


def _ended(rule, key, root):
    if key == 'bridge_fatal':
        return faults.php_fatal(rule, root)
    return faults.ProcessExit(faults.exit_code(rule), faults.output_text(rule), str(rule.get('stderr') or ''))


def run(php, script, request_text, request_protocol=None):
    """Run the bridge ``script`` with ``php`` on ``request_text``; returns (exit code, stdout, stderr)."""
    plan = _Plan(request_text, request_protocol)
    env = dict(os.environ)
    env.pop(ENV_FAULTS, None)
    if plan.env:
        env[ENV_FAULTS] = json.dumps(plan.env)
    proc = subprocess.run(_command(php, script), input=request_text, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, universal_newlines=True, errors='replace', preexec_fn=_die_with_parent, check=False)
    code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    if plan.stop is not None and FAULT_MARKER in stderr:
        ended = _ended(plan.stop[1], plan.stop[0], plan.root)
        return ended.code, ended.stdout, ended.stderr
    if code < 0:   # killed by a signal: as a shell reports it
        code = 128 - code
    if plan.down:   # nothing ran: no fault strikes after the actions
        return code, stdout, stderr
    for key, rule in plan.after:
        if key == 'delay':
            faults.sleep(rule)
        else:
            ended = _ended(rule, key, plan.root)
            return ended.code, ended.stdout, ended.stderr
    if plan.json_output is not None:
        return code, faults.output_text(plan.json_output) + stdout, str(plan.json_output.get('stderr') or '') + stderr
    return code, stdout, stderr
