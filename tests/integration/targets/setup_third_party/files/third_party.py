#!/usr/bin/env python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only third party ("connector") for Magento integrations with a callback URL.

Magento POSTs oauth_consumer_key, oauth_consumer_secret, store_base_url and oauth_verifier to the callback URL;
a connector answers, then runs the OAuth 1.0a exchange against <store_base_url>oauth/token/request and
/oauth/token/access with HMAC-SHA256 (requests + requests_oauthlib, as a real connector would).

The path of the callback URL chooses the behaviour:

  /complete           answer at once, then complete the exchange
  /never              answer at once, never exchange
  /slow[/<s>]         answer after <s> seconds (default 7, beyond Magento's 5 s post timeout); no exchange
  /bad_signature      exchange signed with a wrong consumer secret
  /wrong_verifier     request token fine, access token with a wrong verifier
  /nonce_reuse        access token step reuses the nonce of the request token step
  /late[/<s>]         wait <s> seconds (default 3) before exchanging (for an expired consumer)

Every attempt is appended to a JSON log (a list of objects): mode, path, each step's HTTP status and Magento's
oauth_problem text, and the outcome. Secrets (consumer secret, verifier, tokens, token secrets) are never logged.

Commands:
  third_party.py start --log FILE --pidfile FILE [--host 127.0.0.1] [--port 0] [--lifetime 1800]
      starts the server in the background and prints one JSON line: {"pid", "port", "base_url", "closed_port"}
      (closed_port: a port that nothing listens on, for the "callback unreachable" case)
  third_party.py stop --pidfile FILE
  third_party.py serve ...   (foreground)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

try:
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from socketserver import ThreadingMixIn
    from urllib.parse import parse_qs, urlsplit
except ImportError:  # pragma: no cover
    raise SystemExit('Python 3 is required')

import requests
from requests_oauthlib import OAuth1

SIGNATURE_METHOD = 'HMAC-SHA256'
MODES = ('complete', 'never', 'slow', 'bad_signature', 'wrong_verifier', 'nonce_reuse', 'late')
HTTP_TIMEOUT = 10

LOG_LOCK = threading.Lock()


class Log(object):
    def __init__(self, path):
        self.path = path
        with LOG_LOCK:
            if not os.path.exists(path):
                self._write([])

    def _write(self, entries):
        temp = self.path + '.tmp'
        with open(temp, 'w') as handle:
            json.dump(entries, handle, indent=1, sort_keys=True)
        os.rename(temp, self.path)

    def append(self, entry):
        with LOG_LOCK:
            try:
                with open(self.path) as handle:
                    entries = json.load(handle)
            except (IOError, OSError, ValueError):
                entries = []
            entries.append(entry)
            self._write(entries)


def problem_of(response):
    fields = parse_qs(response.text)
    if 'oauth_problem' in fields:
        return fields['oauth_problem'][0]
    return None


def token_pair(response):
    fields = parse_qs(response.text)
    if response.status_code == 200 and 'oauth_token' in fields and 'oauth_token_secret' in fields:
        return fields['oauth_token'][0], fields['oauth_token_secret'][0]
    return None


def exchange(mode, form, entry):
    """The connector's side of the handshake; fills entry['steps'] and entry['outcome']."""
    consumer_key = form['oauth_consumer_key']
    consumer_secret = form['oauth_consumer_secret']
    verifier = form['oauth_verifier']
    base = form['store_base_url'].rstrip('/') + '/'
    session = requests.Session()
    session.trust_env = False

    def step(name, url, auth):
        try:
            response = session.post(url, auth=auth, timeout=HTTP_TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            entry['steps'].append({'step': name, 'status': None, 'oauth_problem': None,
                                   'error': type(exc).__name__})
            return None
        entry['steps'].append({'step': name, 'status': response.status_code, 'oauth_problem': problem_of(response)})
        return response

    secret = consumer_secret if mode != 'bad_signature' else 'x' * len(consumer_secret)
    nonce = None
    request_kwargs = {}
    if mode == 'nonce_reuse':
        nonce = ('%d' % (time.time() * 1000000)).ljust(32, '7')[:32]
        request_kwargs['nonce'] = nonce
    response = step('request_token', base + 'oauth/token/request',
                    OAuth1(consumer_key, secret, signature_method=SIGNATURE_METHOD, **request_kwargs))
    pair = token_pair(response) if response is not None else None
    if pair is None:
        entry['outcome'] = 'failed'
        return
    request_token, request_secret = pair
    access_verifier = verifier if mode != 'wrong_verifier' else ('v' * 32 if verifier != 'v' * 32 else 'w' * 32)
    access_kwargs = {}
    if nonce is not None:
        access_kwargs['nonce'] = nonce
    response = step('access_token', base + 'oauth/token/access',
                    OAuth1(consumer_key, secret, request_token, request_secret, verifier=access_verifier,
                           signature_method=SIGNATURE_METHOD, **access_kwargs))
    pair = token_pair(response) if response is not None else None
    entry['outcome'] = 'active' if pair is not None else 'failed'


class Handler(BaseHTTPRequestHandler):
    server_version = 'ThirdParty/1'

    def log_message(self, format, *args):  # keep stderr quiet; nothing secret is printed anyway
        pass

    def _answer(self, status, text):
        body = text.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'text/plain; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (IOError, OSError):
            pass

    def do_GET(self):
        # The identity link URL: a connector would log the merchant in here; nothing to do for tests.
        self._answer(200, 'third party\n')

    def do_POST(self):
        received = time.time()
        url = urlsplit(self.path)
        parts = [part for part in url.path.split('/') if part]
        mode = parts[0] if parts else ''
        argument = parts[1] if len(parts) > 1 else None
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length).decode('utf-8') if length else ''
        form = dict((key, values[-1]) for key, values in parse_qs(raw, keep_blank_values=True).items())
        entry = {'ts': received, 'mode': mode, 'path': url.path, 'user_agent': self.headers.get('User-Agent'),
                 'content_type': self.headers.get('Content-Type'), 'fields': sorted(form),
                 'store_base_url': form.get('store_base_url'), 'steps': [], 'outcome': None}
        log = self.server.log
        missing = [name for name in ('oauth_consumer_key', 'oauth_consumer_secret', 'store_base_url',
                                     'oauth_verifier') if not form.get(name)]
        if mode not in MODES or missing:
            entry['outcome'] = 'rejected'
            entry['error'] = 'unknown mode' if mode not in MODES else 'missing fields: %s' % ', '.join(missing)
            log.append(entry)
            self._answer(400, entry['error'] + '\n')
            return
        if mode == 'slow':
            time.sleep(float(argument or 7))
            entry['outcome'] = 'answered_late'
            entry['answered_after'] = round(time.time() - received, 1)
            log.append(entry)
            self._answer(200, 'ok\n')
            return
        if mode == 'never':
            entry['outcome'] = 'never'
            log.append(entry)
            self._answer(200, 'ok\n')
            return
        # Answer Magento first (its response is ignored, but it waits for it), then exchange in the background.
        self._answer(200, 'ok\n')
        delay = float(argument or 3) if mode == 'late' else 0

        def work():
            if delay:
                time.sleep(delay)
                entry['waited'] = delay
            try:
                exchange(mode, form, entry)
            except Exception as exc:  # never let a secret-bearing traceback out; record the type only
                entry['outcome'] = 'error'
                entry['error'] = type(exc).__name__
            entry['finished'] = time.time()
            log.append(entry)

        thread = threading.Thread(target=work)
        thread.daemon = True
        thread.start()


class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def closed_port(host):
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind((host, 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _terminate(signum, frame):
    raise SystemExit(0)


def serve(args, ready=None):
    server = Server((args.host, args.port), Handler)
    server.log = Log(os.path.abspath(args.log))
    port = server.server_address[1]
    info = {'pid': os.getpid(), 'port': port, 'base_url': 'http://%s:%d/' % (args.host, port),
            'closed_port': closed_port(args.host), 'log': os.path.abspath(args.log)}
    with open(args.pidfile, 'w') as handle:
        json.dump(info, handle)
    signal.signal(signal.SIGTERM, _terminate)
    if ready is not None:
        os.write(ready, (json.dumps(info) + '\n').encode('utf-8'))
        os.close(ready)
    # A failed play skips its handlers: never outlive the test run by much.
    if args.lifetime > 0:
        timer = threading.Timer(args.lifetime, server.shutdown)
        timer.daemon = True
        timer.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
        try:
            os.unlink(args.pidfile)
        except OSError:
            pass


def start(args):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            serve(args, ready=write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    data = b''
    deadline = time.time() + 15
    while time.time() < deadline:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        data += chunk
        if data.endswith(b'\n'):
            break
    os.close(read_end)
    if not data:
        sys.stderr.write('the third party did not start\n')
        return 1
    sys.stdout.write(data.decode('utf-8'))
    return 0


def stop(args):
    try:
        with open(args.pidfile) as handle:
            info = json.load(handle)
    except (IOError, OSError, ValueError):
        print(json.dumps({'stopped': False, 'reason': 'not running'}))
        return 0
    try:
        os.kill(info['pid'], signal.SIGTERM)
    except OSError:
        pass
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(info['pid'], 0)
        except OSError:
            break
        time.sleep(0.1)
    print(json.dumps({'stopped': True, 'pid': info['pid']}))
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    commands = parser.add_subparsers(dest='command')
    for name in ('start', 'serve'):
        sub = commands.add_parser(name)
        sub.add_argument('--log', required=True)
        sub.add_argument('--pidfile', required=True)
        sub.add_argument('--host', default='127.0.0.1')
        sub.add_argument('--port', type=int, default=0)
        sub.add_argument('--lifetime', type=float, default=1800,
                         help='stop by itself after this many seconds (0: never), in case no handler stops it')
    sub = commands.add_parser('stop')
    sub.add_argument('--pidfile', required=True)
    args = parser.parse_args(argv)
    if args.command == 'start':
        return start(args)
    if args.command == 'serve':
        serve(args)
        return 0
    if args.command == 'stop':
        return stop(args)
    parser.print_help()
    return 2


if __name__ == '__main__':
    sys.exit(main())
