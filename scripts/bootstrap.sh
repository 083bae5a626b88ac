#!/usr/bin/env bash
# Set up everything the tests need, idempotently.
#
#   scripts/bootstrap.sh            # create/refresh .venv/ and .cache/
#
# - picks a Python >= 3.12 for the controller (ansible-core 2.20+ needs it)
# - one virtualenv per ansible-core version under test: .venv/core-<X.Y>
# - php-cli, php-sqlite3 and php-pcov from Debian when missing and we are root (the emulator runs the
#   shipped PHP bridge with them and records its coverage)
# - the collection tree ansible needs (ansible_collections/commerceops/magento)
# - an offline pip bootstrap script for `ansible-test --venv` (see
#   docs/development.md, "The offline get-pip trick")
# - writes .venv/env.sh, which scripts/test.sh sources
set -euo pipefail

# ---------------------------------------------------------------------------
# Pinned versions: the one place to change them.
# CORE_OLD: oldest ansible-core we support (meta/runtime.yml says >=2.19.0).
# CORE_NEW: newest ansible-core release on PyPI.
CORE_OLD=2.19.14
CORE_NEW=2.21.5
ANSIBLE_LINT_VERSION=26.10.1      # newest venv only
MOLECULE_VERSION=26.10.0          # newest venv only
ANTSIBULL_DOCS_VERSION=2.28.0
ANTSIBULL_CHANGELOG_VERSION=0.36.0
PYTEST_VERSION=9.2.0
PYTEST_MOCK_VERSION=3.17.0
# Galaxy's importer (package stage), in a venv of its own: it pins attrs<24 and flake8<7.
GALAXY_IMPORTER_VERSION=0.4.44
# ---------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

# This machine's pip config lists local index folders that may not exist:
# drop pip's "Location ... is ignored" noise, keep everything else.
quiet_pip() { grep -v "^WARNING: Location 'file://.*' is ignored" || true; }

# --- 1. a Python >= 3.12 ----------------------------------------------------
py_ok() {
    "$1" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

pick_python() {
    local cand
    if [[ -n "${BOOTSTRAP_PYTHON:-}" ]]; then
        py_ok "$BOOTSTRAP_PYTHON" || die "BOOTSTRAP_PYTHON=$BOOTSTRAP_PYTHON is not a working Python >= 3.12"
        echo "$BOOTSTRAP_PYTHON"; return
    fi
    # Real interpreters first: pyenv *shims* on PATH can point at a version
    # that is not selected and then fail, so resolve them before trusting them.
    for cand in /root/.pyenv/versions/3.12.*/bin/python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3 \
                /usr/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/local/bin/python3.13 \
                "$(command -v python3.12 2>/dev/null || true)" "$(command -v python3.13 2>/dev/null || true)" \
                /root/.pyenv/versions/3.13.*/bin/python3 "$(command -v python3 2>/dev/null || true)"; do
        [[ -n "$cand" && -x "$cand" ]] || continue
        if py_ok "$cand"; then
            # resolve a shim to the interpreter it runs
            "$cand" -c 'import sys; print(sys.executable)'
            return
        fi
    done
    die "no Python >= 3.12 found. Install one, e.g. 'apt-get install python3.12-venv' (Debian 13 has 3.13: 'apt-get install python3 python3-venv'), or 'pyenv install 3.12', or set BOOTSTRAP_PYTHON=/path/to/python3.12"
}

PYTHON="$(pick_python)"
PY_VER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
log "using Python $PY_VER at $PYTHON"

# --- 2. Debian packages: php-cli, php-sqlite3, php-pcov (the bridge under test), shellcheck (sanity) ----------
apt_pkgs=()
php_has() { command -v php >/dev/null 2>&1 && php -r "exit(extension_loaded('$1') ? 0 : 1);" >/dev/null 2>&1; }
command -v php >/dev/null 2>&1 || apt_pkgs+=(php-cli)
php_has pdo_sqlite || apt_pkgs+=(php-sqlite3)
php_has pcov || php_has xdebug || apt_pkgs+=(php-pcov)
command -v shellcheck >/dev/null 2>&1 || apt_pkgs+=(shellcheck)
if [[ ${#apt_pkgs[@]} -gt 0 ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian packages: ${apt_pkgs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
    else
        log "WARNING: missing ${apt_pkgs[*]} and not root: install them (apt-get install ${apt_pkgs[*]});"
        log "         without php the 'php' stage is skipped; without php-sqlite3 the emulator runs the bridge's Python"
        log "         copy and the 'php' stage fails; without php-pcov 'phpcov' has no coverage; without shellcheck"
        log "         sanity skips that test"
    fi
fi
command -v php >/dev/null 2>&1 && log "php: $(command -v php) ($(php -r 'echo PHP_VERSION;' 2>/dev/null || echo '?');" \
    "pdo_sqlite: $(php_has pdo_sqlite && echo yes || echo no), pcov: $(php_has pcov && echo yes || echo no))"
command -v shellcheck >/dev/null 2>&1 && log "shellcheck: $(command -v shellcheck)"

# --- 3. virtualenvs -------------------------------------------------------------
mkdir -p .venv .cache
stamp_of() {  # what a venv was built from; rebuild when it changes
    cat "$ROOT/requirements.txt" "$ROOT/tests/unit/requirements.txt" "$ROOT/tests/integration/requirements.txt" 2>/dev/null
    echo "$PYTHON $* $PYTEST_VERSION $PYTEST_MOCK_VERSION $ANTSIBULL_DOCS_VERSION $ANTSIBULL_CHANGELOG_VERSION"
}

make_venv() {  # make_venv <core version> <newest:0|1>
    local core="$1" newest="$2"
    local name="core-${core%.*}" dir
    dir=".venv/$name"
    local -a pkgs=("ansible-core==$core" "pytest==$PYTEST_VERSION" "pytest-mock==$PYTEST_MOCK_VERSION"
                   "antsibull-docs==$ANTSIBULL_DOCS_VERSION" "antsibull-changelog==$ANTSIBULL_CHANGELOG_VERSION"
                   -r requirements.txt)
    [[ -f tests/unit/requirements.txt ]] && pkgs+=(-r tests/unit/requirements.txt)
    [[ -f tests/integration/requirements.txt ]] && pkgs+=(-r tests/integration/requirements.txt)
    if [[ "$newest" == 1 ]]; then
        pkgs+=("ansible-lint==$ANSIBLE_LINT_VERSION" "molecule==$MOLECULE_VERSION")
    fi
    local stamp
    stamp="$(stamp_of "${pkgs[@]}" | sha256sum | cut -c1-16)"
    if [[ -x "$dir/bin/ansible-test" && "$(cat "$dir/.stamp" 2>/dev/null)" == "$stamp" ]]; then
        log "$dir up to date (ansible-core $core)"
        return
    fi
    log "creating $dir (ansible-core $core)"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --upgrade pip 2>&1 | quiet_pip
    # ansible-core pinned again as a constraint so that nothing (ansible-lint,
    # molecule) can move it.
    echo "ansible-core==$core" > "$dir/constraints.txt"
    "$dir/bin/python" -m pip install -q -c "$dir/constraints.txt" "${pkgs[@]}" 2>&1 | quiet_pip
    log "$dir: ansible-core $("$dir/bin/python" -c 'import ansible.release as r; print(r.__version__)')"
    echo "$stamp" > "$dir/.stamp"
}

make_importer_venv() {  # galaxy-importer with the newest core and our ansible-lint, as Galaxy runs it on upload
    local dir=.venv/galaxy-importer stamp
    stamp="$(echo "$PYTHON $GALAXY_IMPORTER_VERSION $CORE_NEW $ANSIBLE_LINT_VERSION" | sha256sum | cut -c1-16)"
    if [[ -x "$dir/bin/python" && "$(cat "$dir/.stamp" 2>/dev/null)" == "$stamp" ]] \
       && "$dir/bin/python" -c 'import galaxy_importer' 2>/dev/null; then
        log "$dir up to date (galaxy-importer $GALAXY_IMPORTER_VERSION)"
        return
    fi
    log "creating $dir (galaxy-importer $GALAXY_IMPORTER_VERSION)"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    printf 'ansible-core==%s\nansible-lint==%s\n' "$CORE_NEW" "$ANSIBLE_LINT_VERSION" > "$dir/constraints.txt"
    "$dir/bin/python" -m pip install -q -c "$dir/constraints.txt" "galaxy-importer==$GALAXY_IMPORTER_VERSION" 2>&1 | quiet_pip
    "$dir/bin/python" -c 'import galaxy_importer' || return 1
    echo "$stamp" > "$dir/.stamp"
}

make_venv "$CORE_NEW" 1 &
pid_new=$!
make_venv "$CORE_OLD" 0 &
pid_old=$!
make_importer_venv &
pid_importer=$!
rc=0
wait "$pid_new" || rc=$?
wait "$pid_old" || rc=$?
wait "$pid_importer" || rc=$?
[[ $rc == 0 ]] || die "virtualenv creation failed"

# --- 4. offline pip bootstrap for ansible-test --venv ---------------------------
# ansible-test bootstraps pip in each venv it makes by downloading
# get-pip-<ver>.py from a host we cannot reach; it first looks in
# ~/.ansible/test/cache/get_pip_<ver>.py. We put there a small stand-in that
# installs pip from the pip wheel on PyPI (same CLI as get-pip.py).
seed_get_pip() {
    local venv="$1" ver cache wheeldir
    ver="$("$venv/bin/python" - <<'EOF'
import re, ansible_test, os
src = open(os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')).read()
print(re.search(r"default_packages = dict\(\s*pip='([^']+)'", src).group(1))
EOF
)"
    cache="$HOME/.ansible/test/cache"
    wheeldir="$cache/pip-wheels"
    mkdir -p "$wheeldir"
    local whl
    whl="$(find "$wheeldir" -maxdepth 1 -name "pip-$ver-*.whl" | head -1)"
    if [[ -z "$whl" ]]; then
        "$venv/bin/python" -m pip download -q --no-deps --only-binary=:all: -d "$wheeldir" "pip==$ver" 2>&1 | quiet_pip
    fi
    whl="$(find "$wheeldir" -maxdepth 1 -name "pip-$ver-*.whl" | head -1)"
    cat > "$cache/get_pip_${ver//./_}.py" <<EOF
# Offline stand-in for get-pip-$ver.py, written by scripts/bootstrap.sh.
# ansible-test runs it as: python quiet_pip.py [pip install options] pip==$ver [--no-setuptools] [--no-wheel]
import os, sys
WHEEL = ${whl@Q}
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.path.insert(0, WHEEL)
from pip._internal.cli.main import main
sys.exit(main(['install', '--no-index', '--find-links', os.path.dirname(WHEEL)] + args))
EOF
    log "seeded $cache/get_pip_${ver//./_}.py (pip $ver wheel, offline)"
}
seed_get_pip ".venv/core-${CORE_NEW%.*}"
seed_get_pip ".venv/core-${CORE_OLD%.*}"

# --- 5. the collection tree -------------------------------------------------------
# ansible (playbooks, ansible-lint, molecule, antsibull-docs) finds the
# collection through a symlink. ansible-test resolves the real path of its
# working directory, so it cannot run through a symlink: scripts/test.sh runs
# it in a copy (.cache/ansible-test/ansible_collections/commerceops/magento)
# that it refreshes before each ansible-test stage.
COLL_BASE="$ROOT/.cache/collections"
mkdir -p "$COLL_BASE/ansible_collections/commerceops"
ln -sfn "$ROOT" "$COLL_BASE/ansible_collections/commerceops/magento"
log "collection visible at $COLL_BASE/ansible_collections/commerceops/magento -> $ROOT"

# --- 6. env file for scripts/test.sh ------------------------------------------------
cat > .venv/env.sh <<EOF
# written by scripts/bootstrap.sh; sourced by scripts/test.sh
BOOTSTRAP_PYTHON_USED=${PYTHON@Q}
CORE_OLD=$CORE_OLD
CORE_NEW=$CORE_NEW
VENV_OLD=${ROOT@Q}/.venv/core-${CORE_OLD%.*}
VENV_NEW=${ROOT@Q}/.venv/core-${CORE_NEW%.*}
VENV_IMPORTER=${ROOT@Q}/.venv/galaxy-importer
export ANSIBLE_COLLECTIONS_PATH=${COLL_BASE@Q}
EOF
log "done. To use a venv by hand: source .venv/env.sh; source \"\$VENV_NEW/bin/activate\""
log "ANSIBLE_COLLECTIONS_PATH=$COLL_BASE"
