"""Switchable HTTP faults of the emulator, read from ``<root>/var/emulator-faults.json``.

Tests write that file to make the HTTP server misbehave; the server reads it on every request
(no restart needed) and deletes spent rules from it. Every key is optional::

    {
      "http": {"status": 503, "count": 2, "paths": "/oauth/"},
      "http_delay": 3.0,
      "http_redirect": "http://127.0.0.1:9/elsewhere"
    }

``http``
    One rule or a list of rules. A rule matches a request when its path (without the query string)
    contains ``paths`` (a string, or a list of strings of which any may match; absent or ``""`` =
    every path) and, if ``method`` is given, the HTTP method equals it. On a match the server sleeps
    ``delay`` seconds (optional), then answers ``status`` (default 503) with ``body`` (default a
    short HTML page) — or, when ``location`` is given, a redirect to it (``status`` default 302).
    Only the first matching rule applies to a request.
``http_delay``
    Seconds to sleep before handling every request (a number), or a rule
    ``{"seconds": 3.0, "count": 1, "paths": "/rest/"}``; the request is then handled normally.
``http_redirect``
    A URL every request is redirected to with 302 (a string), or a rule
    ``{"location": "...", "status": 307, "count": 1, "paths": "/oauth/"}``.

``count`` (every rule): how many matching requests the rule applies to; default -1 = forever. Each
use decrements it in the file; a rule whose count reaches 0 is removed.
"""

import json
import os
import threading

FAULTS_RELATIVE = os.path.join('var', 'emulator-faults.json')
_LOCK = threading.Lock()

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


def _read(root):
    try:
        with open(faults_path(root), encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
    with _LOCK:
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
