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
        self.check_input()
        params = self.module.params
        name = check_name(params['name'])
        found = self.integrations.read(name, with_info=True, with_secrets=True)
        step = self._plan(params, name, found)
        if 'result' in step:
            return step['result']
        raw, view, credentials, base_url, flow, before = (step[key] for key in
                                                          ('raw', 'view', 'credentials', 'base_url', 'flow', 'before'))
        if step['action'] == 'revoke':
            raw = self.integrations.call('revoke', view)['integration']
            return self._revoked(step, raw)

        if flow == 'exchange' or params['verify']:
            # An unreachable or wrong base_url must fail before Magento mints or prepares anything.
            self._http(base_url).preflight()

        raw, credentials = getattr(self, '_flow_' + flow)(params, raw, view, base_url)
        verification = self._verify(params, to_view(raw), credentials, base_url)
        return self._report(params, True, flow, raw, view, credentials, before, snapshot(raw, credentials), verification,
                            rotation=step['rotation'])

    def _plan(self, params, name, found):
        """What one integration (its ``params``) needs: a finished ``result``, or the ``action`` (activate, rotate,
        revoke) to run."""
        raw = found['integration']
        if raw is None and self.module.check_mode and params['state'] == 'authorized':
            # In a check-mode run an earlier task only pretended to create it.
            self.warnings.append('Integration %r does not exist yet; check mode assumes an earlier task creates it, '
                                 'and reports that it would be activated.' % name)
            empty = dict((key, None) for key in ('consumer_key', 'consumer_secret', 'access_token', 'access_token_secret'))
            return {'result': dict(changed=True, flow=params['flow'], status='active', verified=None,
                                   verification=None, credentials=empty, integration=None)}
        if raw is None:
            raise MagentoInputError('Integration %r does not exist: create it first with '
                                    'commerceops.magento.magento_integration.' % name)
        view = to_view(raw)
        credentials = found['credentials'] or {}
        base_url = params['base_url'] or found['info'].get('base_url')
        flow = choose_flow(params['flow'], view)
        before = snapshot(raw, credentials)
        step = dict(raw=raw, view=view, credentials=credentials, base_url=base_url, flow=flow, before=before,
                    action=None, params=params, rotation=None)

        if params['state'] == 'revoked':
            changed = raw['token']['rows'] > 0 or raw['status'] != 0
            if changed and not self.module.check_mode:
                step['action'] = 'revoke'
                return step
            return {'result': self._revoked(step, raw, changed)}

        action = None
        if not is_authorized(raw):
            action = 'activate'
            if raw['token'].get('revoked') and raw['token']['rows'] == 1:
                step['rotation'] = 'Magento marks the access token revoked and refuses it'
            elif raw['token']['rows'] > 0:
                self.warnings.append(
                    "Integration %r had %d token row(s) of type %r left by an earlier, unfinished activation (status %s); "
                    "they are cleared and the integration is activated again." % (
                        view['name'], raw['token']['rows'], raw['token']['type'], view['status']))
        elif params['rotate']:
            action, step['rotation'] = 'rotate', 'rotate=true'
        else:
            step['rotation'] = self._too_old(params, raw, view)
            action = 'rotate' if step['rotation'] else None

        if action is None:
            verification = self._verify(params, view, credentials, base_url)
            return {'result': self._report(params, False, flow, raw, view, credentials, before, before, verification)}

        if self.module.check_mode:
            after = dict(before, status='active', token='access', token_created_at='(new)', access_token='(new)')
            return {'result': self._report(params, True, flow, raw, view, credentials, before, after, verification=None,
                                           rotation=step['rotation'])}
        step['action'] = action
        return step

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

    def _revoked(self, step, raw, changed=True):
        credentials = dict(step['credentials'], access_token=None, access_token_secret=None)
        before = step['before']
        after = dict(before, status='inactive', token=None, token_created_at=None, access_token=None) if changed else before
        return self._report(step['params'], changed, step['flow'], raw, step['view'], credentials, before, after,
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
        steps, results = [], [None] * len(items)
        for index, (item, read) in enumerate(zip(items, found)):
            step = item_error(index, item['name'], self._plan, item, item['name'], read)
            if 'result' in step:
                results[index] = step['result']
            else:
                step.update(index=index)
                steps.append(step)

        batched = [step for step in steps if step['action'] == 'revoke' or step['flow'] in ('direct', 'exchange')]
        if any(step['action'] != 'revoke' and (step['flow'] == 'exchange' or step['params']['verify'])
               for step in steps):
            # An unreachable or wrong base_url must fail before Magento mints or prepares anything.
            self._http(steps[0]['base_url']).preflight()
        if batched:
            self._write_batch(batched)

        reread = []
        for step in steps:
            if step['action'] == 'revoke':
                results[step['index']] = self._revoked(step, step['answer']['integration'])
                continue
            if step['flow'] == 'callback':
                step['raw'], step['credentials'] = self._flow_callback(step['params'], step['raw'], step['view'],
                                                                       step['base_url'])
            elif step['flow'] == 'exchange':
                step['credentials'] = self._exchange_tokens(step['view'], step['answer'], step['base_url'])
                reread.append(step)
            elif step['answer']['token_created'] and step['answer']['integration']['status'] == 1:
                step['raw'], step['credentials'] = step['answer']['integration'], step['answer']['credentials']
            else:
                reread.append(step)

        if reread:
            # One more read for every exchange (Magento's record of the new token) and every direct activation that
            # found a token made meanwhile by another run.
            reads = self.integrations.read_many([s['view']['name'] for s in reread], with_secrets=True)
            for step, read in zip(reread, reads):
                if step['flow'] == 'exchange':
                    step['raw'] = read['integration']
                    step['credentials'] = dict(read['credentials'] or {}, **step['credentials'])
                else:
                    step['raw'], step['credentials'] = self._accept_concurrent(step['view'], step['answer'], read)

        for step in steps:
            if step['action'] == 'revoke':
                continue
            raw, credentials = step['raw'], step['credentials']
            verification = self._verify(step['params'], to_view(raw), credentials, step['base_url'])
            results[step['index']] = self._report(step['params'], True, step['flow'], raw, step['view'], credentials,
                                                  step['before'], snapshot(raw, credentials), verification,
                                                  rotation=step['rotation'])
        self._run_proofs(names, results)

        for item, result in zip(items, results):
            result['name'] = item['name']
        outcome = dict(changed=any(result['changed'] for result in results), results=results)
        if self.module._diff:
            outcome['diff'] = keyed_diff((result['name'], result.pop('diff', {'before': {}, 'after': {}})) for result in results)
        return outcome

    def _write_batch(self, steps):
        """Every activation, exchange preparation and revocation in one bridge call; each step gets its ``answer``."""
        actions, last = [], []
        for step in steps:
            raw = step['raw']
            if step['action'] == 'revoke':
                actions.append({'action': 'integration.revoke', 'integration_id': raw['integration_id'],
                                'context': {'name': raw['name']}})
            else:
                first, reauthorize = self._clearing(raw)
                actions.extend(first)
                actions.append({'action': 'integration.' + ('activate' if step['flow'] == 'direct' else 'prepare_exchange'),
                                'integration_id': raw['integration_id'], 'reauthorize': reauthorize,
                                'expect': None if first else expected_token(raw), 'context': {'name': raw['name']}})
            last.append(len(actions) - 1)
        answers = self.module.transport.bridge(actions)
        for step, index in zip(steps, last):
            step['answer'] = answers[index]

    # -- flows --------------------------------------------------------------
    def _clearing(self, raw):
        """(actions to run first, reauthorize flag): Magento's reauthorize clears one token row; more need a revoke."""
        rows = raw['token']['rows']
        if rows > 1:
            return [{'action': 'integration.revoke', 'integration_id': raw['integration_id'],
                     'context': {'name': raw['name']}}], False
        return [], rows == 1

    def _batch(self, raw, action, **params):
        first, reauthorize = self._clearing(raw)
        request = dict(params, action='integration.' + action, integration_id=raw['integration_id'],
                       reauthorize=reauthorize, expect=None if first else expected_token(raw), context={'name': raw['name']})
        return self.module.transport.bridge(first + [request])[-1]

    def _flow_direct(self, params, raw, view, base_url):
        result = self._batch(raw, 'activate')
        found = None
        if not result['token_created']:
            # Magento found a token row made after our read: another run activated it meanwhile.
            found = self.integrations.read(view['name'], with_secrets=True)
        return self._accept_concurrent(view, result, found)

    def _accept_concurrent(self, view, result, found):
        if found is not None and found['integration'] is not None and is_authorized(found['integration']):
            return found['integration'], found['credentials']
        if not result['token_created'] or result['integration']['status'] != 1:
            raise MagentoError('Activating integration %r did nothing: Magento found an existing token and left the '
                               'integration %s. Rerun with rotate=true to replace its tokens.'
                               % (view['name'], STATUS_WORDS.get(result['integration']['status'])))
        return result['integration'], result['credentials']

    def _flow_exchange(self, params, raw, view, base_url):
        prepared = self._batch(raw, 'prepare_exchange')
        credentials = self._exchange_tokens(view, prepared, base_url)
        found = self.integrations.read(view['name'], with_secrets=True)
        return found['integration'], dict(found['credentials'] or {}, **credentials)

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
        self._batch(raw, 'post_to_consumer')
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
