#!/usr/bin/env bash
# Runs play.yml (every module of the collection) with -vvv --diff against its own emulator and a test third party,
# then asserts that no consumer secret, access token or token secret the play made appears in the play's output,
# in the emulator's log folder, in the third party's log, or in any file left under the play's temp dirs.
set -eu

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# ansible-test runs a copy of the targets without extensions/: find the collection where Ansible finds it.
collection_root=""
IFS=: read -r -a collection_paths <<< "${ANSIBLE_COLLECTIONS_PATH:-${ANSIBLE_COLLECTIONS_PATHS:-}}"
for path in "${collection_paths[@]}" "$here/../../../../../../.."; do
    if [ -n "$path" ] && [ -e "$path/ansible_collections/commerceops/magento/extensions/emulator/magento-emulator" ]; then
        collection_root="$(cd "$path/ansible_collections/commerceops/magento" && pwd)"
        break
    fi
done
if [ -z "$collection_root" ] && [ -e "$here/../../../../extensions/emulator/magento-emulator" ]; then
    collection_root="$(cd "$here/../../../.." && pwd)"
fi
if [ -z "$collection_root" ]; then
    echo "cannot find extensions/emulator/magento-emulator of commerceops.magento (ANSIBLE_COLLECTIONS_PATH)" >&2
    exit 1
fi
python="${PYTHON:-${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3)}}"
emulator="$collection_root/extensions/emulator/magento-emulator"
third_party="$here/../setup_third_party/files/third_party.py"

work="$(mktemp -d "${TMPDIR:-/tmp}/secrets-in-output.XXXXXX")"
mkdir -p "$work/credentials" "$work/tmp/local" "$work/tmp/remote" "$work/third-party"
chmod 0700 "$work/credentials"

cleanup() {
    "$python" "$third_party" stop --pidfile "$work/third-party/pid" >/dev/null 2>&1 || true
    "$python" "$emulator" stop --root "$work/root" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"$python" "$emulator" start --root "$work/root" --json > "$work/emulator.json"
"$python" "$third_party" start --log "$work/third-party/attempts.json" --pidfile "$work/third-party/pid" \
    > "$work/third-party.json"

"$python" - "$work" > "$work/vars.json" <<'PY'
import json, sys
work = sys.argv[1]
emulator = json.load(open(work + '/emulator.json'))
third_party = json.load(open(work + '/third-party.json'))
print(json.dumps({'magento_root': emulator['magento_root'], 'magento_base_url': emulator['base_url'],
                  'magento_php': emulator['php_executable'], 'third_party_url': third_party['base_url'],
                  'credentials_dir': work + '/credentials'}))
PY

# Everything the play writes to temp goes under $work/tmp, to be searched afterwards.
play_status=0
TMPDIR="$work/tmp" ANSIBLE_LOCAL_TEMP="$work/tmp/local" ANSIBLE_REMOTE_TEMP="$work/tmp/remote" \
ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
    ansible-playbook -vvv --diff -i localhost, -c local -e "ansible_python_interpreter=$python" \
    -e "@$work/vars.json" "$here/play.yml" > "$work/output.txt" 2>&1 || play_status=$?

if [ "$play_status" -ne 0 ]; then
    echo "play.yml failed (exit $play_status); last lines of its output:" >&2
    tail -n 60 "$work/output.txt" >&2
    exit 1
fi

"$python" - "$work" <<'PY'
import json, os, sys

work = sys.argv[1]
secrets = {}
files = sorted(os.listdir(os.path.join(work, 'credentials')))
for name in files:
    with open(os.path.join(work, 'credentials', name)) as handle:
        credentials = json.load(handle)
    for key in ('consumer_secret', 'access_token', 'access_token_secret'):
        value = credentials.get(key)
        if value:
            secrets.setdefault(value, '%s of %s' % (key, name))

expected_files = ['callback.json', 'direct.json', 'exchange.json', 'rotated.json']
if files != expected_files:
    sys.exit('expected credentials files %s, found %s' % (expected_files, files))
# consumer secrets of direct.json and rotated.json are the same one: 4 files x 3 secrets - 1.
if len(secrets) != 11:
    sys.exit('expected 11 distinct secrets in the credentials files, found %d' % len(secrets))

emulator = json.load(open(os.path.join(work, 'emulator.json')))
places = [os.path.join(work, 'output.txt'), os.path.join(work, 'third-party', 'attempts.json')]
counts = {}
for label, folder in (('emulator log', os.path.join(emulator['magento_root'], 'var', 'log')),
                      ('temp', os.path.join(work, 'tmp'))):
    counts[label] = 0
    for directory, _dirs, names in os.walk(folder):
        places.extend(os.path.join(directory, name) for name in names)
        counts[label] += len(names)
if not counts['emulator log']:
    sys.exit('the emulator wrote no log file under var/log: nothing to search there')

output_size = os.path.getsize(os.path.join(work, 'output.txt'))
if output_size < 10000:
    sys.exit('the play printed only %d bytes with -vvv: not a real run' % output_size)

# Magento itself logs every new access token in these two (SPEC 4.7, docs/security.md): reported apart, and
# nothing else of the run may be there.
magento_logs = [os.path.join(emulator['magento_root'], 'var', 'log', name) for name in ('system.log', 'debug.log')]
found = []
magento_own = []
for path in places:
    with open(path, 'rb') as handle:
        text = handle.read().decode('utf-8', 'replace')
    for secret, label in secrets.items():
        count = text.count(secret)
        if count:
            where = magento_own if path in magento_logs and label.startswith('access_token of') else found
            where.append('%s: %d occurrence(s) of the %s' % (os.path.relpath(path, work), count, label))
if magento_own:
    print("Magento's own log holds %d access token(s) (its INFO line at each activation, rotation and exchange; "
          "not the collection's output)" % len(magento_own))

print('searched %d secrets (consumer secrets, access tokens, token secrets) in %d files: play output (%d bytes), '
      'third party log, %d emulator log file(s), %d file(s) left under the temp dirs'
      % (len(secrets), len(places), output_size, counts['emulator log'], counts['temp']))
if found:
    print('SECRETS LEAKED:\n  ' + '\n  '.join(found))
    sys.exit(1)
print('no secret found in any of them')
PY
