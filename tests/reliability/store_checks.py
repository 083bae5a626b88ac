# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a reliability test asserts on an emulated store, read straight from its files.

``digest`` is the same as the test-only module magento_ci_state computes (database rows, app/etc,
var/cache), so the suites agree on what "nothing was written" means; the other helpers read
integrations, token rows, invalidated cache types and decrypted credentials, and prove tokens with
a signed REST call.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from conftest import REPO, TEST_LIBRARY

sys.path.insert(0, TEST_LIBRARY)
import magento_ci_state as ci_state  # noqa: E402 pylint: disable=wrong-import-position,import-error

EMULATOR_PACKAGE = os.path.join(REPO, 'extensions', 'emulator')
PROOF_ROUTE = '/V1/modules'
GUEST_ROUTE = '/V1/store/storeConfigs'
TRACEBACK = 'Traceback (most recent call last)'


def _connect(root):
    return sqlite3.connect('file:%s?mode=ro' % os.path.join(root, 'var', 'magento.sqlite'), uri=True, timeout=30)


def digest(root, skip_tables=()):
    """sha256 of every table's rows, app/etc and var/cache: magento_ci_state's emulator digest, less ``skip_tables``."""
    value, dummy = ci_state.emulator_digest(os.path.join(root, 'var', 'magento.sqlite'), skip_tables)
    ci_state.hash_files(root, ('app/etc', 'var/cache'), value)
    return value.hexdigest()


def facts(root):
    """Integrations by name (how many rows, status, their consumer's token rows) and the store-wide token anomalies.

    ``orphan_tokens``: oauth_token rows of a consumer that no integration owns; ``duplicate_tokens``: consumers with
    more than one token row (Magento's services keep exactly one per integration).
    """
    connection = _connect(root)
    try:
        found = {}
        for integration_id, name, status, consumer_id in connection.execute(
                'SELECT integration_id, name, status, consumer_id FROM integration ORDER BY integration_id'):
            types = [r[0] for r in connection.execute('SELECT type FROM oauth_token WHERE consumer_id = ? ORDER BY entity_id',
                                                      (consumer_id,))]
            entry = found.setdefault(name.lower(), {'count': 0, 'ids': []})
            entry['count'] += 1
            entry['ids'].append(integration_id)
            entry.update(name=name, status=status, tokens=types)
        orphans = connection.execute('SELECT COUNT(*) FROM oauth_token WHERE consumer_id IS NOT NULL AND consumer_id NOT IN '
                                     '(SELECT consumer_id FROM integration WHERE consumer_id IS NOT NULL)').fetchone()[0]
        duplicates = connection.execute('SELECT COUNT(*) FROM (SELECT consumer_id FROM oauth_token WHERE consumer_id IS '
                                        'NOT NULL GROUP BY consumer_id HAVING COUNT(*) > 1)').fetchone()[0]
        consumers = connection.execute('SELECT COUNT(*) FROM oauth_consumer WHERE entity_id NOT IN '
                                       '(SELECT consumer_id FROM integration WHERE consumer_id IS NOT NULL)').fetchone()[0]
    finally:
        connection.close()
    return {'integrations': found, 'orphan_tokens': orphans, 'duplicate_tokens': duplicates, 'orphan_consumers': consumers}


def integration(root, name):
    """facts() of one integration name (case-insensitive), or ``{'count': 0}``."""
    return facts(root)['integrations'].get(name.lower(), {'count': 0})


def anomalies(root):
    """Store-wide token problems, as a list of sentences (empty = none)."""
    seen = facts(root)
    problems = ['%d integration(s) named %r' % (entry['count'], entry['name'])
                for entry in seen['integrations'].values() if entry['count'] != 1]
    if seen['orphan_tokens']:
        problems.append('%d orphan oauth_token row(s)' % seen['orphan_tokens'])
    if seen['duplicate_tokens']:
        problems.append('%d consumer(s) with more than one oauth_token row' % seen['duplicate_tokens'])
    if seen['orphan_consumers']:
        problems.append('%d oauth_consumer row(s) without an integration' % seen['orphan_consumers'])
    return problems


def config_value(root, path):
    connection = _connect(root)
    try:
        row = connection.execute("SELECT value FROM core_config_data WHERE path = ? AND scope = 'default'", (path,)).fetchone()
    finally:
        connection.close()
    return row[0] if row else None


def invalidated(root):
    """The cache types Magento marks invalidated (core_cache_invalidate, kept in var/cache/invalidated.json)."""
    path = os.path.join(root, 'var', 'cache', 'invalidated.json')
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return sorted(json.load(handle))


def credentials(root, name):
    """The integration's decrypted consumer and access token pairs, as IntegrationService::get() returns them."""
    if EMULATOR_PACKAGE not in sys.path:
        sys.path.insert(0, EMULATOR_PACKAGE)
    from magento_emulator import integrations, store  # pylint: disable=import-outside-toplevel
    connection = store.connect(root)
    try:
        row = integrations.find_by_name(connection, name)
        return integrations.credentials(connection, root, row) if row is not None else {}
    finally:
        connection.close()


def secrets_of(root, names):
    """Every secret string of these integrations (8 characters or more)."""
    found = set()
    for name in names:
        for key, value in credentials(root, name).items():
            if key != 'consumer_key' and isinstance(value, str) and len(value) >= 8:
                found.add(value)
    return found


def signed_get(base_url, creds, route=PROOF_ROUTE):
    """HTTP status of an OAuth 1.0a HMAC-SHA256 signed GET /rest<route> with an integration's tokens."""
    import requests  # pylint: disable=import-outside-toplevel
    from requests_oauthlib import OAuth1  # pylint: disable=import-outside-toplevel
    auth = OAuth1(creds['consumer_key'], creds['consumer_secret'], creds['access_token'], creds['access_token_secret'],
                  signature_method='HMAC-SHA256')
    session = requests.Session()
    session.trust_env = False
    return session.get(base_url.rstrip('/') + '/rest' + route, auth=auth, timeout=30).status_code


def anonymous_get(base_url, route=GUEST_ROUTE):
    import requests  # pylint: disable=import-outside-toplevel
    session = requests.Session()
    session.trust_env = False
    return session.get(base_url.rstrip('/') + '/rest' + route, timeout=30).status_code


def leaked(text, secrets):
    """The secrets found in text, masked but for their first 4 characters."""
    return sorted(secret[:4] + '...' for secret in secrets if secret in text)


def start_playbook(store, plays, name, new_session=False):
    """Start ansible-playbook on plays (a list of dicts) against the store, output to <workdir>/<name>.log.

    Returns (Popen, log path); the same command line as conftest's Store.playbook.
    """
    path = os.path.join(store.workdir, name + '.yml')
    with open(path, 'w') as handle:
        json.dump(plays, handle, indent=1)  # JSON is YAML
    log = os.path.join(store.workdir, name + '.log')
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
               '-e', 'ansible_python_interpreter=%s' % sys.executable, path]
    with open(log, 'w') as output:
        proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=store.env(), cwd=store.workdir,
                                start_new_session=new_session)
    return proc, log


def read_text(path):
    with open(path, errors='replace') as handle:
        return handle.read()
