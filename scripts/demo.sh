#!/usr/bin/env bash
# The onboarding demo: playbooks/demo.yml on this machine, with the repository's
# own virtualenv and this checkout as the collection commerceops.magento.
#
#   scripts/demo.sh                       # against the collection's Magento emulator (started if needed)
#   scripts/demo.sh -v --check --diff     # extra arguments go to ansible-playbook
#   MAGENTO_ROOT=/var/www/magento MAGENTO_BASE_URL=https://shop.example MAGENTO_PHP=/usr/bin/php8.3 \
#     scripts/demo.sh                     # against a real Magento on this host (run it as the owner of its files)
#   scripts/demo.sh -e emulator_state=stopped    # stop the emulator
#
# On a fresh machine it runs scripts/bootstrap.sh first (once: it is skipped
# when .venv/env.sh and the venv's ansible-playbook exist). The run ends with
# the onboarding summary and the PLAY RECAP; a second run reports changed=0.
# The emulator keeps its state in ~/.cache/commerceops-magento-emulator and the
# demo's credentials files are written to ~/.cache/commerceops-magento-demo-credentials.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '[demo] %s\n' "$*"; }

venv_ready() {
    [[ -f .venv/env.sh ]] || return 1
    # shellcheck disable=SC1091
    ( source .venv/env.sh && [[ -x "$VENV_NEW/bin/ansible-playbook" ]] )
}

if ! venv_ready; then
    say "no virtualenv yet (.venv/env.sh): running scripts/bootstrap.sh first"
    bash scripts/bootstrap.sh
    venv_ready || { say "scripts/bootstrap.sh did not leave a usable .venv (see above)" >&2; exit 1; }
fi
# shellcheck disable=SC1091
source .venv/env.sh   # VENV_NEW, ANSIBLE_COLLECTIONS_PATH

# This checkout is the collection commerceops.magento (bootstrap.sh makes the link; make sure of it).
link="$ROOT/.cache/collections/ansible_collections/commerceops/magento"
if [[ ! -e "$link/galaxy.yml" ]]; then
    mkdir -p "$(dirname "$link")"
    ln -sfn "$ROOT" "$link"
fi
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"

# A readable summary: the role's debug message as YAML lines, not a JSON list.
export ANSIBLE_CALLBACK_RESULT_FORMAT="${ANSIBLE_CALLBACK_RESULT_FORMAT:-yaml}"
if [[ ! -t 1 ]]; then export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0; fi

if [[ -n "${MAGENTO_ROOT:-}" ]]; then
    say "against the Magento at MAGENTO_ROOT=$MAGENTO_ROOT (${MAGENTO_BASE_URL:-no MAGENTO_BASE_URL})"
else
    say "against the collection's Magento emulator (set MAGENTO_ROOT, MAGENTO_BASE_URL, MAGENTO_PHP for a real Magento)"
fi

exec "$VENV_NEW/bin/ansible-playbook" \
    --inventory localhost, \
    --extra-vars "ansible_python_interpreter=$VENV_NEW/bin/python" \
    "$ROOT/playbooks/demo.yml" "$@"
