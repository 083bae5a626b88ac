"""Switchable faults of the emulator, read from ``<root>/var/emulator-faults.json``.

Tests write that file to make the emulated store misbehave: the HTTP server reads it on every
request, the fake ``php`` (bridge and ``bin/magento``) on every run; no restart is needed, and spent
rules are deleted from the file. Every key is optional::

    {
      "http": {"status": 503, "count": 2, "paths": "/oauth/"},
      "http_delay": 3.0,
      "http_redirect": "http://127.0.0.1:9/elsewhere",
      "bridge_fatal": {"actions": "integration.create", "count": 1},
      "bridge_output": {"stdout": "<html>...</html>", "exit": 0},
      "bridge_delay": {"seconds": 30, "actions": "integration.activate", "after": true},
      "db_down": true,
      "bin_magento": {"commands": "cache:clean", "message": "...", "count": 1},
      "bin_magento_delay": {"seconds": 30, "commands": "config:set"},
      "acl_order": "shuffle"
    }

HTTP (the server on loopback)
-----------------------------

``http``
    One rule or a list of rules. A rule matches a request when its path (without the query string)
    contains ``paths`` (a string, or a list of strings of which any may match; absent or ``""`` =
    every path) and, if ``method`` is given, the HTTP method equals it. On a match the server sleeps
    ``delay`` seconds (optional), then answers ``status`` (default 503) with ``body`` (default a
    short HTML page) — or, when ``location`` is given, a redirect to it (``status`` default 302).
    Only the first matching rule applies to a request.
``http_delay``
    Seconds to sleep before handling every request (a number), or a rule
    ``{"seconds": 3.0, "count": 1, "paths": "/rest/"}``; the request is then handled normally (also
    when the client gave up meanwhile: the server finishes what it was asked, as Magento would).
``http_redirect``
    A URL every request is redirected to with 302 (a string), or a rule
    ``{"location": "...", "status": 307, "count": 1, "paths": "/oauth/"}``.

Host (the fake ``php``: the bridge executor and ``bin/magento``)
----------------------------------------------------------------

Each of these keys holds ``true`` (every run, until the key is removed), one rule, or a list of
rules of which the first matching one applies. A bridge rule matches a run when one of the request's
action names (``integration.create``, ``config.get``, ...) contains ``actions`` (a string or a list;
absent = every run); a ``bin/magento`` rule matches when the command line (the full command name,
then the arguments as given, joined by spaces: ``config:set -- webapi/webapisecurity/allow_insecure
1``) contains ``commands``.

``bridge_fatal``
    PHP dies with a fatal error when the bridge reaches the first matching action (the actions
    before it in the batch have run and are committed; no ``actions`` = before the first one), or,
    with ``"after": true``, after every action ran but before the response is written. Output as
    the PHP CLI without a php.ini prints it (``display_errors=1`` to stdout, ``log_errors=1`` without
    ``error_log`` to stderr): stdout gets the display form ``\\nFatal error: <message> in <file> on
    line <line>``, stderr the log form ``PHP Fatal error:  <message> in <file> on line <line>``;
    exit code 255. Keys:
    ``message`` (default: an exhausted memory limit), ``file``, ``line``, ``type`` (default ``Fatal
    error``; ``Parse error`` for example), ``stream`` (``both`` default, ``stdout``, ``stderr``).
    With ``"caught": true`` (at an action, not ``after``) the error happens inside PHP as a real
    fatal error and the bridge's own fatal-error handler answers: one JSON document with the
    results so far and an error of kind ``internal`` with ``message``, exit 1.
``bridge_output``
    The bridge prints something other than its one JSON document: ``stdout`` (default: the
    "Autoload error" page ``app/bootstrap.php`` prints), ``stderr`` (default empty), exit code
    ``exit`` (default 1). By default nothing runs; with ``"after": true`` the actions run and their
    response is replaced (a lost answer). With ``"json": true`` the text is printed *before* the
    real response and the real exit code is kept (what PHP's start-up warnings do on stdout).
``bridge_delay``
    Sleep ``seconds`` before the first matching action (or, with ``"after": true``, after every
    action ran, before the response is written); then carry on normally. For interrupting a run at
    a chosen step: ``touch`` names a file created when the sleep begins, so that a test knows the
    run is there (the rule's use is counted earlier, when the run starts). With ``"within": true``
    the sleep happens inside the matching action instead, where Magento itself leaves a window to
    a concurrent writer: for ``integration.create``, after IntegrationService's duplicate-name
    look-up and before its INSERT, so that a create of the same name by another run meanwhile makes
    this one fail on the unique index (``AlreadyExistsException`` ``Unique constraint violation
    found``), as two racing creates do on a real store. Other actions have no such window and
    ignore ``within``. ``release`` names a file whose appearance ends the sleep early (checked every
    50 ms), so a test can hold a run for as long as it needs, however slow the machine, and no longer.
``db_down``
    Magento's database is unreachable. The bridge fails in its bootstrap, as the PHP bridge reports
    Magento's ``Zend_Db_Adapter_Exception``: exit 1, error ``kind`` ``bootstrap``, ``exception``
    ``Zend_Db_Adapter_Exception``, ``message`` (default ``SQLSTATE[HY000] [2002] Connection
    refused``), ``magento_version`` set (the version is read before the database), nothing run.
    ``bin/magento config:set`` / ``config:show``
    fail with the exception chain in Symfony's error blocks on stderr (``In Abstract.php line 144:``
    for the adapter exception, ``In Abstract.php line 128:`` for the PDOException), exit 1; the
    ``cache:*`` commands keep working (the file cache needs no database).
``bin_magento``
    ``bin/magento`` fails: ``message`` (default a MySQL deadlock), written to stderr in Symfony's
    error block (``stream`` ``stderr``, default; ``origin`` ``"File.php:123"`` adds the ``In
    File.php line 123:`` header) or as a plain line on stdout (``stream`` ``stdout``, as config:set
    reports its own refusals), then the command's usage line (stderr only); exit code ``exit``
    (default 1). By default the command does nothing; with ``"after": true`` it does its work first.
``bin_magento_delay``
    Sleep ``seconds`` before the command runs (or, with ``"after": true``, after it ran); ``touch``
    as for ``bridge_delay``.

Unspecified behaviour
---------------------

``acl_order``
    The order in which Magento's ``AclRetriever`` reads an integration's allowed resources back
    (the ``resources`` of every INTEGRATION the bridge answers). The query has no ORDER BY, so
    Magento promises no order (SPEC §1.10): ``"index"`` (the default, also when the key is absent)
    = sorted by resource id under MariaDB's ``utf8_general_ci`` collation, as a store with a
    history reads them through the ``(role_id, resource_id)`` index; ``"rows"`` = rule-row order,
    which is ACL tree order, as a near-empty table is scanned; ``"shuffle"`` = a new random order on
    every read. A plain value, never consumed.

``count`` (every rule): how many matching requests or runs the rule applies to; default -1 =
forever. Each use decrements it in the file; a rule whose count reaches 0 is removed. Uses are
counted under a lock (``var/emulator-faults.json.lock``) shared by the server and the fake php.
"""

import contextlib
import json
import os
import threading
import time

try:
    import fcntl
except ImportError:  # not POSIX: the thread lock alone
    fcntl = None

FAULTS_RELATIVE = os.path.join('var', 'emulator-faults.json')
_LOCK = threading.Lock()

HOST_KEYS = ('bridge_fatal', 'bridge_output', 'bridge_delay', 'db_down', 'bin_magento', 'bin_magento_delay')
DB_DOWN_MESSAGE = 'SQLSTATE[HY000] [2002] Connection refused'
DB_DOWN_EXCEPTION = 'Zend_Db_Adapter_Exception'
# Where magento/zendframework1 raises them (Zend/Db/Adapter/Pdo/Abstract.php): the adapter exception and the
# PDOException it wraps, as Magento's exception log shows them.
DB_DOWN_ORIGINS = (('Abstract.php', 144), ('Abstract.php', 128))
FATAL_MESSAGE = 'Allowed memory size of 134217728 bytes exhausted (tried to allocate 20480 bytes)'
FATAL_FILE = 'vendor/magento/framework/ObjectManager/Factory/AbstractFactory.php'
FATAL_LINE = 121
AUTOLOAD_ERROR = ('<div style="font:12px/1.35em arial, helvetica, sans-serif;">\n'
                  '    <div style="margin:0 0 25px 0; border-bottom:1px solid #ccc;">\n'
                  '        <h3 style="margin:0;font-size:1.7em;font-weight:normal;text-transform:none;text-align:left;'
                  'color:#2f2f2f;">\n        Autoload error</h3>\n    </div>\n'
                  "    <p>Vendor autoload is not found. Please run 'composer install' under application root "
                  'directory.</p>\n</div>')
DEADLOCK_MESSAGE = ('SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; '
                    'try restarting transaction')

REASONS = {500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
           504: 'Gateway Timeout', 429: 'Too Many Requests', 404: 'Not Found'}


class Fault:
    """What to do with one request: ``delay`` seconds, then (when ``status``) answer it ourselves."""

    def __init__(self):
        self.delay = 0.0
        self.status = None
        self.body = b''
        self.headers = []

    def __bool__(self):
        return bool(self.delay) or self.status is not None


def faults_path(root):
    return os.path.join(str(root), FAULTS_RELATIVE)


def write(root, data):
    """Write the faults file atomically (``None`` or ``{}`` removes it)."""
    path = faults_path(root)
    if not data:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        return
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=1)
    os.replace(tmp, path)


@contextlib.contextmanager
def _exclusive(root):
    """Hold the faults file for a read-modify-write: threads of the server and other processes wait."""
    with _LOCK:
        handle = None
        if fcntl is not None:
            try:
                handle = open(faults_path(root) + '.lock', 'a')
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            except OSError:
                if handle is not None:
                    handle.close()
                handle = None
        try:
            yield
        finally:
            if handle is not None:
                handle.close()


def _read(root):
    try:
        with open(faults_path(root), encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def setting(root, key):
    """The plain value of ``key`` in the faults file (not a rule: nothing is consumed), or None."""
    if not os.path.exists(faults_path(root)):
        return None
    return (_read(root) or {}).get(key)


def _matches(rule, path, method):
    wanted = rule.get('method')
    if wanted and str(wanted).upper() != method.upper():
        return False
    paths = rule.get('paths', rule.get('path'))
    if not paths:
        return True
    if isinstance(paths, str):
        paths = [paths]
    return any(p in path for p in paths)


def _use(rule):
    """Consume one use; True when the rule is spent and must be removed."""
    count = rule.get('count', -1)
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = -1
    if count < 0:
        return False
    count -= 1
    rule['count'] = count
    return count <= 0


def _page(status):
    reason = REASONS.get(status, 'Error')
    return ('<html><head><title>%d %s</title></head><body><h1>%s</h1></body></html>\n'
            % (status, reason, reason)).encode('utf-8')


def take(root, path, method='GET'):
    """The fault to apply to a request of ``path`` (no query) with ``method``; consumes rule uses."""
    fault = Fault()
    if not os.path.exists(faults_path(root)):
        return fault
    with _exclusive(root):
        data = _read(root)
        if not data:
            return fault
        changed = False

        delay = data.get('http_delay')
        if isinstance(delay, (int, float)) and not isinstance(delay, bool):
            fault.delay += float(delay)
        elif isinstance(delay, dict) and _matches(delay, path, method):
            fault.delay += float(delay.get('seconds', delay.get('delay', 0)) or 0)
            changed = True
            if _use(delay):
                del data['http_delay']

        redirect = data.get('http_redirect')
        if isinstance(redirect, str) and redirect:
            fault.status, fault.headers = 302, [('Location', redirect)]
        elif isinstance(redirect, dict) and _matches(redirect, path, method):
            fault.status = int(redirect.get('status', 302))
            fault.headers = [('Location', str(redirect.get('location', '/')))]
            changed = True
            if _use(redirect):
                del data['http_redirect']

        rules = data.get('http')
        single = isinstance(rules, dict)
        rule_list = [rules] if single else (rules if isinstance(rules, list) else [])
        if fault.status is None:
            for index, rule in enumerate(rule_list):
                if not isinstance(rule, dict) or not _matches(rule, path, method):
                    continue
                fault.delay += float(rule.get('delay', 0) or 0)
                if rule.get('location'):
                    fault.status = int(rule.get('status', 302))
                    fault.headers = [('Location', str(rule['location']))]
                else:
                    fault.status = int(rule.get('status', 503))
                    body = rule.get('body')
                    fault.body = body.encode('utf-8') if isinstance(body, str) else _page(fault.status)
                    fault.headers = [('Content-Type', str(rule.get('content_type', 'text/html; charset=UTF-8')))]
                changed = True
                if _use(rule):
                    if single:
                        del data['http']
                    else:
                        del rule_list[index]
                break
        if changed:
            write(root, data)
    return fault


# ---------------------------------------------------------------------------------------------- host faults

class ProcessExit(Exception):
    """The emulated PHP process ends here, printing ``stdout`` and ``stderr``, with exit ``code``."""

    def __init__(self, code, stdout='', stderr=''):
        super().__init__('exit %d' % code)
        self.code = code
        self.stdout = stdout
        self.stderr = stderr


def _host_match(rule, names):
    """Index of the first of ``names`` the rule matches (0 when it names nothing), or None."""
    patterns = rule.get('actions', rule.get('commands'))
    if not patterns:
        return 0
    if isinstance(patterns, str):
        patterns = [patterns]
    for index, name in enumerate(names):
        if any(str(pattern) in name for pattern in patterns):
            return index
    return None


def take_host(root, key, names):
    """The rule of host fault ``key`` for a run about to do ``names`` (action names, or one command line).

    Returns ``(rule, index)``: a copy of the rule (``{}`` for ``true``) and the index of the first name it
    matches; ``(None, None)`` when nothing applies. Consumes one use of a counted rule.
    """
    if not os.path.exists(faults_path(root)):
        return None, None
    with _exclusive(root):
        data = _read(root)
        value = (data or {}).get(key)
        if value is True:
            return {}, 0
        single = isinstance(value, dict)
        rules = [value] if single else (value if isinstance(value, list) else [])
        for position, rule in enumerate(rules):
            if not isinstance(rule, dict):
                continue
            index = _host_match(rule, names)
            if index is None:
                continue
            found = dict(rule)
            counted = 'count' in rule and _count(rule) >= 0
            if _use(rule):
                if single or len(rules) == 1:
                    del data[key]
                else:
                    del rules[position]
            if counted:
                write(root, data)
            return found, index
    return None, None


def _count(rule):
    try:
        return int(rule.get('count', -1))
    except (TypeError, ValueError):
        return -1


def seconds(rule):
    """The ``seconds`` (or ``delay``) of a delay rule, as a float."""
    try:
        return float(rule.get('seconds', rule.get('delay', 0)) or 0)
    except (TypeError, ValueError):
        return 0.0


def sleep(rule):
    """Sleep as a delay rule says; its ``touch`` file, if any, is created first (the run has reached the delay)."""
    if rule.get('touch'):
        with open(str(rule['touch']), 'a', encoding='utf-8'):
            pass
    deadline = time.time() + seconds(rule)
    release = str(rule['release']) if rule.get('release') else None
    while time.time() < deadline:
        if release and os.path.exists(release):
            return
        time.sleep(min(0.05, max(0.0, deadline - time.time())))


def fatal_message(rule):
    return str(rule.get('message') or FATAL_MESSAGE)


def php_fatal(rule, root):
    """ProcessExit of a PHP fatal error, printed as the PHP CLI without a php.ini prints it."""
    kind = str(rule.get('type') or 'Fatal error')
    where = '%s in %s on line %s' % (fatal_message(rule),
                                     rule.get('file') or os.path.join(str(root), FATAL_FILE),
                                     rule.get('line') or FATAL_LINE)
    stream = rule.get('stream') or 'both'
    stdout = '\n%s: %s\n' % (kind, where) if stream in ('both', 'stdout') else ''
    stderr = 'PHP %s:  %s\n' % (kind, where) if stream in ('both', 'stderr') else ''
    return ProcessExit(255, stdout, stderr)


def output_text(rule):
    text = rule.get('stdout')
    return AUTOLOAD_ERROR if text is None else str(text)


def exit_code(rule, default=1):
    try:
        return int(rule.get('exit', default))
    except (TypeError, ValueError):
        return default
