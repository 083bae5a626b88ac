#!/usr/bin/env bash
# Benchmark of the role integration_onboarding against the naive onboarding (see docs/performance.md).
#
#   scripts/bench.sh                    # 1, 10 and 50 integrations on the emulator
#   scripts/bench.sh --sizes 1,5 --keep # other sizes; keep the work folder
#   MAGENTO_ROOT=... MAGENTO_BASE_URL=... MAGENTO_PHP=... scripts/bench.sh   # on a real (disposable) Magento
#
# Uses the newest venv of scripts/bootstrap.sh (.venv/core-*), else /tmp/devvenv, else the ansible on PATH.
# Results: a Markdown table on stdout and in benchmarks/results/ (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PY=""
if [[ -f "$ROOT/.venv/env.sh" ]]; then
    # shellcheck disable=SC1091
    VENV_NEW="$(. "$ROOT/.venv/env.sh" && echo "${VENV_NEW:-}")"
    [[ -n "$VENV_NEW" && -x "$VENV_NEW/bin/ansible-playbook" ]] && PY="$VENV_NEW/bin/python"
fi
if [[ -z "$PY" ]]; then
    while IFS= read -r venv; do
        if [[ -x "$venv/bin/ansible-playbook" ]]; then PY="$venv/bin/python"; break; fi
    done < <(find "$ROOT/.venv" -maxdepth 1 -name "core-*" 2>/dev/null | sort -rV; echo /tmp/devvenv)
fi
if [[ -z "$PY" ]]; then
    command -v ansible-playbook >/dev/null 2>&1 || { echo "bench.sh: no ansible found; run scripts/bootstrap.sh first" >&2; exit 1; }
    PY="$(head -1 "$(command -v ansible-playbook)" | sed 's/^#! *//')"
fi
echo "bench.sh: using $PY"
exec "$PY" "$ROOT/benchmarks/bench.py" "$@"
