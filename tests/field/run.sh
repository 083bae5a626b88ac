#!/usr/bin/env bash
# The field stage (docs/development.md): the collection as a production-like host runs it.
#
# On this machine (needs root; installs openssh-server, sudo and acl when missing): an sshd on a loopback port, a
# deploy user with sudo, an emulated store whose files and server belong to www-data (generated/ emptied, as a
# deploy leaves it). Then, over SSH:
#   1. tests/field/onboard.yml, the README's role example (become: true, become_user: www-data), twice: the second
#      run reports changed=0;
#   2. tests/field/as_root.yml, tasks run as root (become: true, no become_user), and one as the deploy user (refused
#      before PHP, naming the owner and become_user);
#   3. no file in the store belongs to anyone but www-data.
# Everything it started is stopped and its folder removed at the end; the users and packages stay.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO" || exit 2
# shellcheck disable=SC1091
source .venv/env.sh
OWNER=www-data
EMULATOR=(/usr/bin/python3 "$REPO/extensions/emulator/magento-emulator")
say() { printf '[field] %s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[[ $(id -u) == 0 ]] || { say "SKIP: needs root (users, sshd, packages)"; exit 77; }
[[ -x /usr/bin/python3 ]] || { say "SKIP: needs /usr/bin/python3 for the managed node"; exit 77; }

WORK="$(mktemp -d /tmp/cmb-field-XXXXXX)"
chmod 0755 "$WORK"
STORE="$WORK/store/magento"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    bash tests/field/host.sh sshd-stop "$WORK/ssh" 2>/dev/null
    [[ -d "$STORE" ]] && runuser -u "$OWNER" -- "${EMULATOR[@]}" stop --root "$STORE" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT

bash tests/field/host.sh install || fail "could not install openssh-server, sudo, acl"
bash tests/field/host.sh users || fail "could not create the users"
PORT="$(bash tests/field/host.sh sshd-start "$WORK/ssh")" || fail "sshd did not start"

install -d -o "$OWNER" -g "$OWNER" "$WORK/store"
runuser -u "$OWNER" -- "${EMULATOR[@]}" start --root "$STORE" --json > "$WORK/emulator.json" || fail "the emulator did not start"
find "$STORE/generated" -mindepth 1 -delete
BASE_URL="$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["base_url"])' "$WORK/emulator.json")"
say "store $STORE (owner $OWNER) at $BASE_URL"

cat > "$WORK/inventory.ini" <<INV
[magento]
field ansible_host=127.0.0.1 ansible_port=$PORT ansible_user=cmb-deploy ansible_ssh_private_key_file=$WORK/ssh/client_key ansible_python_interpreter=/usr/bin/python3

[magento:vars]
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
field_magento_root=$STORE
field_php_executable=$STORE/bin/php
field_base_url=$BASE_URL
INV
cp tests/field/onboard.yml tests/field/as_root.yml "$WORK/"

playbook() {  # playbook NAME.yml LOG
    env ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=false \
        "$VENV_NEW/bin/ansible-playbook" -i "$WORK/inventory.ini" "$WORK/$1" > "$WORK/$2" 2>&1
}
recap() { grep -E '^field +:' "$WORK/$1" | tr -s ' '; }

rc=0
playbook onboard.yml run1.log || { tail -40 "$WORK/run1.log"; fail "the README's role example failed over SSH"; }
say "onboard, run 1: $(recap run1.log)"
playbook onboard.yml run2.log || { tail -40 "$WORK/run2.log"; fail "the rerun failed"; }
say "onboard, run 2: $(recap run2.log)"
recap run2.log | grep -q ' changed=0 ' || { rc=1; say "FAIL: the rerun changed something:"; grep -E '^changed:' "$WORK/run2.log"; }
if grep -q '\[WARNING\]' "$WORK/run2.log"; then
    rc=1; say "FAIL: warnings on the rerun:"; grep -A2 '\[WARNING\]' "$WORK/run2.log"
fi
[[ -s "$WORK/credentials/field/Acme_ERP.json" ]] || { rc=1; say "FAIL: no credentials file on the controller"; }

playbook as_root.yml run3.log || { tail -40 "$WORK/run3.log"; rc=1; say "FAIL: the tasks as root (or the refused one) did not go as expected"; }
say "as root, then as the deploy user: $(recap run3.log)"

foreign="$(find "$STORE" ! -user "$OWNER" -printf '%P (%u)\n' | head -40)"
written="$(find "$STORE/generated" -type f | wc -l)"
if [[ -n "$foreign" ]]; then
    rc=1; say "FAIL: files in the store not owned by $OWNER:"; printf '  %s\n' "$foreign"
elif [[ "$written" == 0 ]]; then
    rc=1; say "FAIL: PHP wrote no generated code: the owner check checked nothing"
else
    say "every file in the store belongs to $OWNER ($written generated files written since the deploy)"
fi
exit $rc
