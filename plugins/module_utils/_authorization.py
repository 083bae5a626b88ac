# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Activation, OAuth token exchange, revocation and proof of an integration's tokens.

Internal to this collection. SPEC §3 describes what Magento does on each path;
this module chooses the path and keeps reruns from doing anything twice.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.commerceops.magento.plugins.module_utils._diff import build_diff, keyed_diff
from ansible_collections.commerceops.magento.plugins.module_utils._errors import MagentoError, MagentoInputError
from ansible_collections.commerceops.magento.plugins.module_utils._integration import (
    STATUS_WORDS, Integrations, check_item_names, check_name, item_error, to_view,
)
from ansible_collections.commerceops.magento.plugins.module_utils._items import AUTHORIZATION_ITEM_OPTIONS
from ansible_collections.commerceops.magento.plugins.module_utils._plan import apply, plan
from ansible_collections.commerceops.magento.plugins.module_utils import _oauth, _secret_file

SECRET_KEYS = ('consumer_secret', 'access_token', 'access_token_secret')
POLL_INTERVAL = 1.0
# Signed proof calls of one list-mode task in flight at once: enough to hide the HTTP round trips, few enough for a
# store's PHP-FPM pool.
PROOF_WORKERS = 8
AGE_PATTERN = re.compile(r'^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$')
AGE_UNITS = (('d', 86400), ('h', 3600), ('m', 60))


def parse_token_age(text):
    """Seconds of a max_token_age such as 90d, 12h, 30m or 1d12h; None when not set."""
    if text is None:
        return None
    match = AGE_PATTERN.match(str(text).strip())
    seconds = sum(int(part or 0) * unit for part, (dummy, unit) in zip(match.groups(), AGE_UNITS)) if match else 0
    if not seconds:
        raise MagentoInputError('max_token_age %r is not a token age: give a whole number of days, hours or minutes '
                                'greater than 0, for example 90d, 12h or 30m (or combined, 1d12h).' % text)
    return seconds


def format_age(seconds):
    """``121d 3h``, ``5h 2m``, ``30m``: an age to the minute, largest units first."""
    parts, rest = [], max(0, int(seconds))
    for suffix, unit in AGE_UNITS:
        count, rest = divmod(rest, unit)
        if count or (suffix == 'm' and not parts):
            parts.append('%d%s' % (count, suffix))
    return ' '.join(parts[:2])


def token_age(raw, now):
    """Seconds since Magento made the integration's token (bridge ``token.created_at``, UTC); None if unknown."""
    created = raw['token'].get('created_at')
    try:
        return now - calendar.timegm(time.strptime(created, '%Y-%m-%dT%H:%M:%SZ'))
    except (TypeError, ValueError):
        return None


def expected_token(raw):
    """The token state this run read: Magento's token actions are refused if another run changed it since."""
    return {'status': raw['status'], 'token': raw['token']}


STAYS_INACTIVE = 'The integration stays inactive; rerun the task to start a new exchange.'


def _exchange_failed(view, error, advice=STAYS_INACTIVE):
    """A failed step of the HTTP token exchange, naming the integration (list mode runs several)."""
    return MagentoError('The OAuth token exchange of integration %r did not complete: %s %s' % (view['name'], error, advice),
                        kind=error.kind, **error.details)


def choose_flow(requested, view):
    if requested != 'auto':
        return requested
    # The admin's Activate exchanges tokens only when both URLs are set (SPEC §3.1).
    return 'callback' if view['callback_url'] and view['identity_link_url'] else 'direct'


def is_authorized(raw):
    token = raw['token']
    # Magento refuses a revoked access token (SPEC §4.7): such an integration needs a new one.
    return raw['status'] == 1 and token['type'] == 'access' and token['rows'] == 1 and not token.get('revoked')


def revoke_action(raw):
    return {'action': 'integration.revoke', 'integration_id': raw['integration_id'], 'context': {'name': raw['name']}}


def snapshot(raw, credentials):
    return {'status': STATUS_WORDS.get(raw['status'], str(raw['status'])), 'token': raw['token']['type'],
            'token_created_at': raw['token'].get('created_at'), 'access_token': (credentials or {}).get('access_token')}


class Authorizer(object):
    """Brings one integration to ``authorized`` or ``revoked``; see magento_integration_auth."""

    def __init__(self, module):
        self.module = module
        self.integrations = Integrations(module.transport)
        self.warnings = []
        self.http = None
        self._proofs = None  # list mode: the proofs to run at the end, concurrently

    # -- HTTP ---------------------------------------------------------------
    def _http(self, base_url):
        if self.http is None:
            if _oauth.HTTP_IMPORT_ERROR:
                self.module.fail_json(msg=missing_required_lib('requests and requests-oauthlib') +
                                      ' They are needed where this module runs (the Magento host) for the token '
                                      'exchange and the token proof: pip install requests requests-oauthlib, or the '
                                      'OS packages python3-requests and python3-requests-oauthlib.',
                                      exception=_oauth.HTTP_IMPORT_ERROR)
            self.http = _oauth.OAuthClient(base_url, self.module.params['validate_certs'], self.module.params['timeout'],
                                           scrub=self.module.transport.scrub)
        return self.http

    # -- entry point --------------------------------------------------------
    def check_input(self):
        params = self.module.params
        if not params['verify_route'].startswith('/'):
            raise MagentoInputError('verify_route %r must be a REST route starting with /, for example /V1/modules '
                                    '(without /rest).' % params['verify_route'])
        if params['wait_timeout'] < 0:
            raise MagentoInputError('wait_timeout must be 0 or more seconds, not %d.' % params['wait_timeout'])
        parse_token_age(params['max_token_age'])
        path = params['credentials_file']
        if path:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                raise MagentoInputError('credentials_file %s: its directory %s does not exist; create it first (mode '
                                        '0700 is a good choice).' % (path, directory))
            if not os.access(directory, os.W_OK):
                raise MagentoInputError('credentials_file %s: this user may not write to %s.' % (path, directory))

    def run(self):
        """One integration (``name``): one read, its step on the engine, its result."""
        self.check_input()
        params = self.module.params
        name = check_name(params['name'])
        found = self.integrations.read(name, with_info=True, with_secrets=True)
        step = self._apply(plan([(name, self._reading(params, found), params)], self._decide))[0]
        return self._outcome(step)

    # -- the plan: reads and decisions --------------------------------------
    def _reading(self, params, found):
        """What the engine's step needs of one integration as read: its record, view, credentials, base URL, flow,
        snapshot and ``rotation`` (why its access token is to be replaced). None for one that does not exist, which
        only a check run accepts (an earlier task of it only pretended to create it)."""
        raw = found['integration']
        if raw is None and self.module.check_mode and params['state'] == 'authorized':
            self.warnings.append('Integration %r does not exist yet; check mode assumes an earlier task creates it, '
                                 'and reports that it would be activated.' % params['name'])
            return None
        if raw is None:
            raise MagentoInputError('Integration %r does not exist: create it first with '
                                    'commerceops.magento.magento_integration.' % params['name'])
        view = to_view(raw)
        credentials = found['credentials'] or {}
        reading = dict(raw=raw, view=view, credentials=credentials, flow=choose_flow(params['flow'], view),
                       base_url=params['base_url'] or found['info'].get('base_url'),
                       before=snapshot(raw, credentials), rotation=None)
        if params['state'] == 'authorized':
            reading['rotation'] = self._rotation(params, raw, view)
        return reading

    def _rotation(self, params, raw, view):
        """Why an authorization replaces the access token (the result's ``rotation``), or None."""
        if not is_authorized(raw):
            if raw['token'].get('revoked') and raw['token']['rows'] == 1:
                return 'Magento marks the access token revoked and refuses it'
            if raw['token']['rows'] > 0:
                self.warnings.append(
                    "Integration %r had %d token row(s) of type %r left by an earlier, unfinished activation (status %s); "
                    "they are cleared and the integration is activated again." % (
                        view['name'], raw['token']['rows'], raw['token']['type'], view['status']))
            return None
        if params['rotate']:
            return 'rotate=true'
        return self._too_old(params, raw, view)

    @staticmethod
    def _decide(reading, params):
        """The engine's decision for one integration: activate, rotate, revoke or None."""
        if reading is None:
            return 'activate'  # check mode: the integration an earlier task would create
        raw = reading['raw']
        if params['state'] == 'revoked':
            return 'revoke' if raw['token']['rows'] > 0 or raw['status'] != 0 else None
        if not is_authorized(raw):
            return 'activate'
        return 'rotate' if reading['rotation'] else None

    def _too_old(self, params, raw, view):
        """Why an active integration's access token is due for rotation under max_token_age, or None."""
        limit = parse_token_age(params['max_token_age'])
        if limit is None:
            return None
        age = token_age(raw, time.time())
        if age is None:
            self.warnings.append('Integration %r: Magento reported no creation time for its access token, so '
                                 'max_token_age cannot tell its age; it is not rotated.' % view['name'])
            return None
        if age <= limit:
            return None
        # The age as the module host's clock sees it: Magento stamps tokens with that host's PHP time, in UTC.
        return 'the access token is %s old (made %s), older than max_token_age %s' % (
            format_age(age), raw['token']['created_at'], params['max_token_age'])

    # -- the result of each step ---------------------------------------------
    def _outcome(self, step):
        """The module result of one step once applied (check mode: as it would be)."""
        reading, params, action = step['current'], step['desired'], step['action']
        if reading is None:
            empty = dict((key, None) for key in ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret'))
            return dict(changed=True, flow=params['flow'], status='active', verified=None, verification=None,
                        credentials=empty, integration=None)
        written = action and not self.module.check_mode
        raw, view, before = reading['raw'], reading['view'], reading['before']
        if params['state'] == 'revoked':
            return self._revoked(reading, params, step['after']['raw'] if written else raw, changed=bool(action))
        if not action:
            verification = self._verify(params, view, reading['credentials'], reading['base_url'])
            return self._report(params, False, reading['flow'], raw, view, reading['credentials'], before, before,
                                verification)
        if not written:
            after = dict(before, status='active', token='access', token_created_at='(new)', access_token='(new)')
            return self._report(params, True, reading['flow'], raw, view, reading['credentials'], before, after,
                                verification=None, rotation=reading['rotation'])
        raw, credentials = step['after']['raw'], step['after']['credentials']
        verification = self._verify(params, to_view(raw), credentials, reading['base_url'])
        return self._report(params, True, reading['flow'], raw, view, credentials, before, snapshot(raw, credentials),
                            verification, rotation=reading['rotation'])

    def _revoked(self, reading, params, raw, changed):
        credentials = dict(reading['credentials'], access_token=None, access_token_secret=None)
        before = reading['before']
        after = dict(before, status='inactive', token=None, token_created_at=None, access_token=None) if changed else before
        return self._report(params, changed, reading['flow'], raw, reading['view'], credentials, before, after,
                            verification=None)

    # -- list mode ----------------------------------------------------------
    def _item_params(self, item):
        params = dict(self.module.params, name=item['name'])
        for key in AUTHORIZATION_ITEM_OPTIONS:
            if item.get(key) is not None:
                params[key] = item[key]
        return params

    def run_many(self):
        """List mode: one bridge read for all, one bridge write batch for the direct and exchange flows and the
        revocations, the callback flow one integration at a time, then the HTTP proof of each."""
        items = self.module.params['integrations']
        self.check_input()
        names = check_item_names(items)
        items = [self._item_params(dict(item, name=name)) for item, name in zip(items, names)]
        for index, item in enumerate(items):
            if item['wait_timeout'] < 0:
                raise MagentoInputError('integrations[%d] %r: wait_timeout must be 0 or more seconds, not %d.'
                                        % (index, item['name'], item['wait_timeout']))
            item_error(index, item['name'], parse_token_age, item['max_token_age'])
        if not items:
            return dict(changed=False, results=[])
        self._proofs = []
        found = self.integrations.read_many(names, with_info=True, with_secrets=True)
        objects = ((item['name'], item_error(index, item['name'], self._reading, item, read), item)
                   for index, (item, read) in enumerate(zip(items, found)))
        results = [self._outcome(step) for step in self._apply(plan(objects, self._decide))]
        self._run_proofs(names, results)

        for item, result in zip(items, results):
            result['name'] = item['name']
        outcome = dict(changed=any(result['changed'] for result in results), results=results)
        if self.module._diff:
            outcome['diff'] = keyed_diff((result['name'], result.pop('diff', {'before': {}, 'after': {}})) for result in results)
        return outcome

    # -- the writer ---------------------------------------------------------
    def _apply(self, steps):
        return apply(steps, self._write, self.module.check_mode)

    def _write(self, steps):
        """The engine's writer: every activation, exchange preparation and revocation in one bridge call, then the
        callback flows one integration at a time and the exchanges over HTTP, then one more read for what Magento
        has to tell (the new token of an exchange, a token another run made meanwhile). Returns each step's
        integration record (``raw``) and ``credentials`` afterwards, in order."""
        if any(step['action'] != 'revoke' and (step['current']['flow'] == 'exchange' or step['desired']['verify'])
               for step in steps):
            # An unreachable or wrong base_url must fail before Magento mints or prepares anything.
            self._http(steps[0]['current']['base_url']).preflight()
        batched = [index for index, step in enumerate(steps)
                   if step['action'] == 'revoke' or step['current']['flow'] in ('direct', 'exchange')]
        answers = dict(zip(batched, self._write_batch([steps[index] for index in batched]))) if batched else {}
        afters, reread = [None] * len(steps), []
        for index, step in enumerate(steps):
            reading, answer = step['current'], answers.get(index)
            if step['action'] == 'revoke':
                afters[index] = dict(raw=answer['integration'], credentials=None)
            elif reading['flow'] == 'callback':
                raw, credentials = self._flow_callback(step['desired'], reading['raw'], reading['view'],
                                                       reading['base_url'])
                afters[index] = dict(raw=raw, credentials=credentials)
            elif reading['flow'] == 'exchange':
                afters[index] = dict(raw=None, credentials=self._exchange_tokens(reading['view'], answer,
                                                                                 reading['base_url']))
                reread.append(index)
            elif answer['token_created'] and answer['integration']['status'] == 1:
                afters[index] = dict(raw=answer['integration'], credentials=answer['credentials'])
            else:
                # Magento found a token row made after our read: another run may have activated it meanwhile.
                reread.append(index)
        if reread:
            reads = self.integrations.read_many([steps[index]['current']['view']['name'] for index in reread],
                                                with_secrets=True)
            for index, read in zip(reread, reads):
                if steps[index]['current']['flow'] == 'exchange':
                    credentials = dict(read['credentials'] or {}, **afters[index]['credentials'])
                    afters[index] = dict(raw=read['integration'], credentials=credentials)
                else:
                    raw, credentials = self._accept_concurrent(steps[index]['current']['view'], answers[index], read)
                    afters[index] = dict(raw=raw, credentials=credentials)
        return afters

    def _write_batch(self, steps):
        """Every activation, exchange preparation and revocation in one bridge call; the answer of each step."""
        actions, last = [], []
        for step in steps:
            raw = step['current']['raw']
            if step['action'] == 'revoke':
                actions.append(revoke_action(raw))
            else:
                actions.extend(self._token_actions(
                    raw, 'activate' if step['current']['flow'] == 'direct' else 'prepare_exchange'))
            last.append(len(actions) - 1)
        answers = self.module.transport.bridge(actions)
        return [answers[index] for index in last]

    # -- flows --------------------------------------------------------------
    def _clearing(self, raw):
        """(actions to run first, reauthorize flag): Magento's reauthorize clears one token row; more need a revoke."""
        rows = raw['token']['rows']
        if rows > 1:
            return [revoke_action(raw)], False
        return [], rows == 1

    def _token_actions(self, raw, action):
        """The bridge actions of one token action (activate, prepare_exchange, post_to_consumer), guarded by the
        token state this run read unless a revoke clears the rows first."""
        first, reauthorize = self._clearing(raw)
        return first + [{'action': 'integration.' + action, 'integration_id': raw['integration_id'],
                         'reauthorize': reauthorize, 'expect': None if first else expected_token(raw),
                         'context': {'name': raw['name']}}]

    def _accept_concurrent(self, view, result, found):
        if found is not None and found['integration'] is not None and is_authorized(found['integration']):
            return found['integration'], found['credentials']
        if not result['token_created'] or result['integration']['status'] != 1:
            raise MagentoError('Activating integration %r did nothing: Magento found an existing token and left the '
                               'integration %s. Rerun with rotate=true to replace its tokens.'
                               % (view['name'], STATUS_WORDS.get(result['integration']['status'])))
        return result['integration'], result['credentials']

    def _exchange_tokens(self, view, prepared, base_url):
        """The third party's side of the exchange, over HTTP: the consumer's credentials with the new tokens."""
        consumer = prepared['credentials']
        http = self._http(base_url)
        try:
            request_token, request_secret = http.request_token(consumer['consumer_key'], consumer['consumer_secret'])
        except MagentoError as error:
            raise _exchange_failed(view, error)
        try:
            access_token, access_secret = http.access_token(consumer['consumer_key'], consumer['consumer_secret'],
                                                            request_token, request_secret, prepared['oauth_verifier'])
        except MagentoError as error:
            if error.kind in ('timeout', 'connection'):
                # The request may have reached Magento, which then activated the integration without our hearing it.
                raise _exchange_failed(view, error, 'Magento may have completed the exchange without answering; rerun '
                                       'the task: it finds the integration active and proves its tokens, or starts a '
                                       'new exchange.')
            raise _exchange_failed(view, error)
        return dict(consumer, access_token=access_token, access_token_secret=access_secret)

    def _flow_callback(self, params, raw, view, base_url):
        if not (view['callback_url'] and view['identity_link_url']):
            raise MagentoInputError("flow=callback needs the integration's callback_url and identity_link_url; "
                                    "%r lacks %s." % (view['name'], 'callback_url' if not view['callback_url'] else
                                                      'identity_link_url'))
        self.module.transport.bridge(self._token_actions(raw, 'post_to_consumer'))
        deadline = time.time() + params['wait_timeout']
        while True:
            found = self.integrations.read(view['name'], with_secrets=True)
            current = found['integration']
            if current is not None and is_authorized(current):
                return current, found['credentials']
            if time.time() >= deadline or current is None:
                break
            time.sleep(POLL_INTERVAL)
        state = 'removed' if current is None else '%s with token %s' % (
            STATUS_WORDS.get(current['status']), current['token']['type'])
        raise MagentoError(
            'Integration %r: Magento posted its OAuth credentials to %s, but the third party did not complete the '
            'token exchange within %d seconds (wait_timeout); the integration is %s. Check that the service at that '
            'URL received the POST and can reach %soauth/token/request and %soauth/token/access within '
            'oauth/consumer/expiration_period (300 seconds by default).' % (
                view['name'], view['callback_url'], params['wait_timeout'], state, base_url, base_url),
            kind='callback_timeout')

    # -- proof --------------------------------------------------------------
    def _verify(self, params, view, credentials, base_url):
        if not params['verify'] or self.module.check_mode:
            return None
        route = params['verify_route']
        if view['resource_access'] == 'custom' and not view['resources']:
            return {'verified': False, 'route': 'GET ' + route, 'status': None, 'bearer': None,
                    'message': 'Not proven: the integration has no API resources, so every route refuses it.'}
        if self._proofs is not None:
            # List mode: proven later, several at a time (_run_proofs); the result holds this dict meanwhile.
            proof = {}
            self._proofs.append((proof, params, view, credentials, base_url))
            return proof
        return self._prove(params, view, credentials, base_url)

    def _run_proofs(self, names, results):
        """The list's signed proof calls, PROOF_WORKERS at a time; each result gets its own proof, and a refusal is
        reported for the first refused integration in list order, after every proof has run."""
        jobs, self._proofs = self._proofs, None
        if not jobs:
            return
        self._http(jobs[0][4])  # one client, made here, shared by the workers
        with ThreadPoolExecutor(max_workers=min(PROOF_WORKERS, len(jobs))) as pool:
            futures = [pool.submit(self._prove, *job[1:]) for job in jobs]
        order = dict((name, index) for index, name in enumerate(names))
        refusals = []
        for (proof, params, _view, _credentials, _base_url), future in zip(jobs, futures):
            try:
                proof.update(future.result())
            except MagentoError as error:
                refusals.append((order.get(params['name'], len(order)), error))
        if refusals:
            raise min(refusals, key=lambda refusal: refusal[0])[1]
        for result in results:
            if result.get('verification'):
                result['verified'] = result['verification']['verified']

    def _prove(self, params, view, credentials, base_url):
        """The signed REST call(s) that prove one integration's access token (thread-safe: reads only ``params``)."""
        route = params['verify_route']
        http = self._http(base_url)
        status, body = http.rest_get(route, credentials=credentials)
        proof = {'verified': status == 200, 'route': 'GET ' + route, 'status': status,
                 'message': 'OK' if status == 200 else _oauth.rest_message(body), 'bearer': None}
        if status == 401 and route != _oauth.DEFAULT_PROOF_ROUTE:
            # Magento answers the same 401 for a bad token and for a missing ACL resource: ask the universal route.
            fallback, _body = http.rest_get(_oauth.DEFAULT_PROOF_ROUTE, credentials=credentials)
            if fallback == 200:
                proof.update(verified=True, route_authorized=False, proof_route='GET ' + _oauth.DEFAULT_PROOF_ROUTE,
                             message='The tokens work (GET %s answered 200), but the integration is not allowed to use '
                                     '%s: %s' % (_oauth.DEFAULT_PROOF_ROUTE, route, proof['message']))
        if not proof['verified']:
            raise MagentoError('The access token of integration %r was refused by GET %srest%s: HTTP %s: %s' % (
                view['name'], http.base_url, route, status, proof['message']), kind='verify', status=status)
        if params['verify_bearer']:
            bearer_status, bearer_body = http.rest_get(route, bearer=credentials['access_token'])
            proof['bearer'] = {'verified': bearer_status == 200, 'status': bearer_status,
                               'message': 'OK' if bearer_status == 200 else
                               '%s (Magento 2.4.4+ accepts integration tokens as Bearer only while '
                               'oauth/consumer/enable_integration_as_bearer is 1)' % _oauth.rest_message(bearer_body)}
        return proof

    # -- result -------------------------------------------------------------
    def _report(self, params, changed, flow, raw, view, credentials, before, after, verification, rotation=None):
        """Side effect first: write the integration's credentials file (``params['credentials_file']``), so that every
        path (rerun, check mode, activation, revocation) leaves it in step with Magento; then the module result."""
        credentials = dict((key, credentials.get(key)) for key in
                           ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret'))
        file_changed = self._write_credentials_file(params, view, credentials)
        return self._result(changed or file_changed, changed, flow, raw, credentials, before, after, verification, rotation)

    def _result(self, changed, integration_changed, flow, raw, credentials, before, after, verification, rotation):
        """The module result of one integration; no side effect."""
        result = dict(
            changed=changed, flow=flow, status=STATUS_WORDS.get(raw['status'], str(raw['status'])),
            verified=None if verification is None else verification.get('verified'), verification=verification,
            credentials=credentials, integration=to_view(raw), rotation=rotation,
        )
        if self.module.check_mode:
            result['status'] = after['status']
        if self.module._diff:
            # A rotation says why in the diff too.
            after = dict(after, rotation=rotation) if rotation else after
            result['diff'] = build_diff(before, after, SECRET_KEYS) if integration_changed else {'before': {}, 'after': {}}
        return result

    def _write_credentials_file(self, params, view, credentials):
        path = params['credentials_file']
        if not path:
            return False
        content = _secret_file.document(view['name'], credentials)
        try:
            with open(path) as handle:
                existing = json.load(handle)
        except (IOError, OSError, ValueError):
            existing = None
        changed = existing != content
        if changed and not self.module.check_mode:
            _secret_file.write_atomic(path, _secret_file.render(content))
        file_args = self.module.load_file_common_arguments(self.module.params, path=path)
        if file_args.get('mode') is None:
            file_args['mode'] = '0600'
        if self.module.check_mode and not os.path.exists(path):
            return True
        return self.module.set_fs_attributes_if_different(file_args, changed)
