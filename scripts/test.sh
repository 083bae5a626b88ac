#!/usr/bin/env bash
# Run the collection's tests, stage by stage; stop at the first failing stage.
#
#   scripts/test.sh                 # every stage
#   scripts/test.sh sanity units    # only these stages (any order given is run in the canonical order)
#   scripts/test.sh --list          # list the stages
#
# Stages: php emulator sanity units integration reliability field phpcov lint molecule docs package
# (see docs/development.md). Needs scripts/bootstrap.sh to have run.
#
# Environment:
#   MAGENTO_ROOT, MAGENTO_BASE_URL, MAGENTO_PHP  test a real Magento instead of the emulator
#                                                (integration stage; passed through ansible-test)
#   SANITY_OLD=full|subset|none                  sanity on the oldest core (default: full)
#   KEEP_GOING=1                                 run the remaining stages after a failure
#   PHP_COVERAGE_MIN=90                          phpcov's floor (applies when emulator, integration, reliability passed)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2

ALL_STAGES=(php emulator sanity units integration reliability field phpcov lint molecule docs package)
# The suites that run the shipped PHP bridge (through the emulator) record its line coverage; phpcov sums it up.
PHP_COVERAGE_SUITES=(emulator integration reliability)

if [[ "${1:-}" == "--list" ]]; then printf '%s\n' "${ALL_STAGES[@]}"; exit 0; fi
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '2,16p' "$0"; exit 0; fi

if [[ ! -f .venv/env.sh ]]; then
    echo "[test] .venv/env.sh missing: run scripts/bootstrap.sh first" >&2
    exit 2
fi
# shellcheck disable=SC1091
source .venv/env.sh
# plain output in logs (CI has no terminal)
if [[ ! -t 1 ]]; then export NO_COLOR=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0; fi
PY_TEST_VERSION=3.12   # the Python that ansible-test --venv uses (controller and target)

# Sanity tests run on the oldest core when SANITY_OLD=subset (default: full): the
# ones whose result depends on the core version (module argument-spec and docs
# validation, ansible-doc, runtime metadata, import, compile).
SANITY_OLD_SUBSET=(validate-modules ansible-doc runtime-metadata import compile)
SANITY_OLD="${SANITY_OLD:-full}"

selected=()
if [[ $# -eq 0 ]]; then
    selected=("${ALL_STAGES[@]}")
else
    for want in "$@"; do
        found=0
        for s in "${ALL_STAGES[@]}"; do [[ "$s" == "$want" ]] && found=1; done
        [[ $found == 1 ]] || { echo "[test] unknown stage '$want'; stages: ${ALL_STAGES[*]}" >&2; exit 2; }
    done
    for s in "${ALL_STAGES[@]}"; do
        for want in "$@"; do [[ "$s" == "$want" ]] && selected+=("$s"); done
    done
fi

say() { printf '[test] %s\n' "$*"; }

# Every emulator the suites start runs the bridge with the real PHP (magento_emulator/realphp.py) and, with this
# set, records which of its lines ran; a run with any of those suites starts from an empty record.
export MAGENTO_EMULATOR_PHP_COVERAGE="$ROOT/.cache/php-coverage"
for s in "${selected[@]}"; do
    for c in "${PHP_COVERAGE_SUITES[@]}"; do
        if [[ "$s" == "$c" ]]; then rm -rf "$MAGENTO_EMULATOR_PHP_COVERAGE"; mkdir -p "$MAGENTO_EMULATOR_PHP_COVERAGE"; break 2; fi
    done
done
SUMMARY=()
PASSED=0 FAILED=0 SKIPPED=0
PASSED_STAGES=()
SKIP_REASON=""
skip() { SKIP_REASON="$*"; say "SKIP: $*"; return 77; }

# --- the copy ansible-test runs in --------------------------------------------------
# ansible-test needs the collection at .../ansible_collections/commerceops/magento
# and resolves symlinks, so it runs in a copy of the work tree (tracked and
# untracked-but-not-ignored files, as git sees them). The copy's own git index
# tells ansible-test which files belong to the collection. tests/output (with
# ansible-test's cached venvs) survives between runs.
AT_DIR="$ROOT/.cache/ansible-test/ansible_collections/commerceops/magento"
sync_copy() {
    mkdir -p "$AT_DIR"
    find "$AT_DIR" -mindepth 1 -maxdepth 1 ! -name tests ! -name .git -exec rm -rf {} +
    if [[ -d "$AT_DIR/tests" ]]; then
        find "$AT_DIR/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
    fi
    git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [[ -e "$f" || -L "$f" ]] && printf '%s\0' "$f"
    done | tar --null -T - -c | tar -x -C "$AT_DIR"
    # a real Magento, if named, and where the emulator records the bridge's coverage reach the targets as
    # extra vars (ansible-test passes only a fixed list of environment variables through)
    mkdir -p "$AT_DIR/tests/integration"
    {
        echo "# written by scripts/test.sh from the environment"
        printf 'MAGENTO_EMULATOR_PHP_COVERAGE: %s\n' "$(json_str "$MAGENTO_EMULATOR_PHP_COVERAGE")"
        if [[ -n "${MAGENTO_ROOT:-}" ]]; then
            printf 'MAGENTO_ROOT: %s\n' "$(json_str "$MAGENTO_ROOT")"
            printf 'MAGENTO_BASE_URL: %s\n' "$(json_str "${MAGENTO_BASE_URL:-}")"
            printf 'MAGENTO_PHP: %s\n' "$(json_str "${MAGENTO_PHP:-php}")"
        fi
    } > "$AT_DIR/tests/integration/integration_config.yml"
    (
        cd "$AT_DIR" || exit 1
        [[ -d .git ]] || git init -q
        git add -A >/dev/null 2>&1
        git add -f tests/integration/integration_config.yml >/dev/null 2>&1 || true
    )
}
json_str() { "$VENV_NEW/bin/python" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

# The environment ansible-test keeps (it drops the rest): ansible-test itself
# passes HOME, PATH, LC_ALL and a few more. For MAGENTO_* see sync_copy.
ansible_test() {  # ansible_test <venv> <args...>
    local venv="$1"; shift
    ( cd "$AT_DIR" && "$venv/bin/ansible-test" "$@" --color no )
}

with_venv() {  # run a command with the newest venv first on PATH
    env PATH="$VENV_NEW/bin:$PATH" "$@"
}

# --- stages ---------------------------------------------------------------------------
stage_php() {
    command -v php >/dev/null 2>&1 || { skip "php not installed (scripts/bootstrap.sh installs php-cli as root)"; return; }
    [[ -f plugins/module_utils/_bridge_php.py ]] || { skip "plugins/module_utils/_bridge_php.py not there yet"; return; }
    local tmp rc
    tmp="$(mktemp -d)"
    "$VENV_NEW/bin/python" - "$tmp/bridge.php" <<'EOF' || { rm -rf "$tmp"; return 1; }
import ast, sys
src = open('plugins/module_utils/_bridge_php.py').read()
for node in ast.walk(ast.parse(src)):
    if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'BRIDGE_SOURCE' for t in node.targets):
        value = ast.literal_eval(node.value)
        break
else:
    sys.exit('BRIDGE_SOURCE not found in plugins/module_utils/_bridge_php.py')
open(sys.argv[1], 'w').write(value)
print('[test] extracted the PHP bridge: %d lines' % value.count('\n'))
EOF
    php -l "$tmp/bridge.php"; rc=$?
    rm -rf "$tmp"
    [[ $rc == 0 ]] || return $rc
    local f
    for f in extensions/emulator/magento_emulator/php/*.php; do php -l "$f" >/dev/null || { php -l "$f"; return 1; }; done
    # The suites run the shipped bridge only with a PHP that can open the emulator's store; without one the
    # emulator falls back to its Python copy, and nothing else would say so.
    "$VENV_NEW/bin/python" - <<'EOF'
import sys
sys.path.insert(0, 'extensions/emulator')
from magento_emulator import realphp
php = realphp.find()
found = realphp.probe('php') or {}
if php is None:
    sys.exit('[test] FAIL: php lacks pdo_sqlite or sodium (%s): the suites would run the bridge\'s Python copy; '
             'install php-sqlite3 (scripts/bootstrap.sh does)' % found)
print('[test] the suites run the shipped bridge with %s (PHP %s, pdo_sqlite, sodium%s)'
      % (php, found.get('release'), ', pcov' if found.get('pcov') else '; no pcov, so no coverage: install php-pcov'))
EOF
}

stage_phpcov() {
    command -v php >/dev/null 2>&1 || { skip "php not installed"; return; }
    local -a args=("$MAGENTO_EMULATOR_PHP_COVERAGE")
    local all=1 c s found
    for c in "${PHP_COVERAGE_SUITES[@]}"; do
        found=0
        for s in "${PASSED_STAGES[@]}"; do [[ "$s" == "$c" ]] && found=1; done
        [[ $found == 1 ]] || all=0
    done
    if [[ $all == 1 ]]; then
        args+=(--min "${PHP_COVERAGE_MIN:-90}")
    else
        say "phpcov: ${PHP_COVERAGE_SUITES[*]} did not all pass in this run: coverage so far, no floor"
    fi
    "$VENV_NEW/bin/python" scripts/php_coverage.py "${args[@]}"
}

run_pytest() {  # run_pytest <dir> : exit 5 (no tests collected) is a failure, said out loud
    local dir="$1" rc
    [[ -d "$dir" ]] || { skip "$dir does not exist"; return; }
    ( export PYTHONDONTWRITEBYTECODE=1; cd "$ROOT" && "$VENV_NEW/bin/python" -m pytest -p no:cacheprovider -q --tb=short "$dir" ); rc=$?
    if [[ $rc == 5 ]]; then
        say "FAIL: pytest collected no tests in $dir (exit 5): a suite that runs nothing does not pass"
        return 1
    fi
    return $rc
}
stage_emulator() { run_pytest tests/emulator; }
stage_reliability() { run_pytest tests/reliability; }
# Over SSH to this machine as a deploy user with become_user, on a store owned by www-data (tests/field/run.sh);
# needs root: it installs openssh-server, sudo and acl when missing.
stage_field() {
    [[ -f tests/field/run.sh ]] || { skip "tests/field/run.sh does not exist"; return; }
    local rc
    bash tests/field/run.sh; rc=$?
    [[ $rc == 77 ]] && { skip "the field stage needs root"; return; }
    return $rc
}

# Stages that run on both cores run the second core even when the first one
# failed (more to read from one run); the stage fails if either did.
stage_sanity() {
    local rc=0 t0
    sync_copy
    t0=$SECONDS
    say "sanity: ansible-core $CORE_NEW, all tests"
    ansible_test "$VENV_NEW" sanity --venv --python "$PY_TEST_VERSION" || rc=1
    say "sanity on $CORE_NEW took $((SECONDS - t0))s"
    t0=$SECONDS
    case "$SANITY_OLD" in
        none) say "sanity on $CORE_OLD skipped (SANITY_OLD=none)"; return $rc ;;
        full) say "sanity: ansible-core $CORE_OLD, all tests"
              ansible_test "$VENV_OLD" sanity --venv --python "$PY_TEST_VERSION" || rc=1 ;;
        *)    say "sanity: ansible-core $CORE_OLD, subset: ${SANITY_OLD_SUBSET[*]} (SANITY_OLD=full for all)"
              local -a tests=()
              for t in "${SANITY_OLD_SUBSET[@]}"; do tests+=(--test "$t"); done
              ansible_test "$VENV_OLD" sanity --venv --python "$PY_TEST_VERSION" "${tests[@]}" || rc=1 ;;
    esac
    say "sanity on $CORE_OLD took $((SECONDS - t0))s"
    return $rc
}

core_of() { "$1/bin/python" -c 'import ansible.release as r; print(r.__version__)'; }

stage_units() {
    [[ -d tests/unit ]] || { skip "tests/unit does not exist"; return; }
    local v t0 rc=0
    sync_copy
    for v in "$VENV_NEW" "$VENV_OLD"; do
        t0=$SECONDS
        say "units: ansible-core $(core_of "$v")"
        ansible_test "$v" units --venv --python "$PY_TEST_VERSION" --requirements || rc=1
        say "units on $(core_of "$v") took $((SECONDS - t0))s"
    done
    return $rc
}

stage_integration() {
    [[ -d tests/integration/targets ]] || { skip "tests/integration/targets does not exist"; return; }
    local v t0 rc=0
    sync_copy
    if [[ -n "${MAGENTO_ROOT:-}" ]]; then
        say "integration: against the real Magento at MAGENTO_ROOT=$MAGENTO_ROOT (${MAGENTO_BASE_URL:-no MAGENTO_BASE_URL})"
    else
        say "integration: against the emulator (set MAGENTO_ROOT, MAGENTO_BASE_URL, MAGENTO_PHP for a real Magento)"
    fi
    for v in "$VENV_NEW" "$VENV_OLD"; do
        t0=$SECONDS
        say "integration: ansible-core $(core_of "$v")"
        ansible_test "$v" integration --venv --python "$PY_TEST_VERSION" --requirements || rc=1
        say "integration on $(core_of "$v") took $((SECONDS - t0))s"
    done
    return $rc
}

stage_lint() {
    [[ -x "$VENV_NEW/bin/ansible-lint" ]] || { say "ansible-lint missing in $VENV_NEW: run scripts/bootstrap.sh"; return 1; }
    with_venv ansible-lint --profile production --nocolor
}

stage_molecule() {
    [[ -d extensions/molecule ]] || { skip "extensions/molecule does not exist yet"; return; }
    local scen
    scen="$(find extensions/molecule -mindepth 2 -maxdepth 2 -name molecule.yml | wc -l)"
    [[ $scen -gt 0 ]] || { skip "no scenario (extensions/molecule/*/molecule.yml) yet"; return; }
    # Molecule 25.x+ in a collection: run from the collection root; it finds
    # extensions/molecule itself.
    ANSIBLE_PYTHON_INTERPRETER="$VENV_NEW/bin/python" with_venv molecule test --all
}

stage_docs() {
    compgen -G 'plugins/modules/*.py' >/dev/null || { skip "no modules yet"; return; }
    ( cd "$ROOT/.cache/collections/ansible_collections/commerceops/magento" || exit 1
      with_venv antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck . ) || return 1
    say "docs: changelog fragments (antsibull-changelog lint)"
    with_venv antsibull-changelog lint
}

stage_package() {
    local ran=0 rc=0
    if [[ -f tests/package/check_examples.py ]]; then
        ran=1
        say "package: every module's EXAMPLES (tests/package/check_examples.py)"
        "$VENV_NEW/bin/python" tests/package/check_examples.py || rc=1
    fi
    if [[ -f tests/package/build_and_install.sh ]]; then
        ran=1
        say "package: build, install and run from the tarball (tests/package/build_and_install.sh)"
        with_venv bash tests/package/build_and_install.sh || rc=1
    fi
    [[ $ran == 1 ]] || { skip "no tests/package/check_examples.py or build_and_install.sh yet"; return; }
    return $rc
}

# --- run ----------------------------------------------------------------------------------
T_ALL=$SECONDS
for stage in "${selected[@]}"; do
    say "=== stage $stage ==="
    t0=$SECONDS
    SKIP_REASON=""
    "stage_$stage"; rc=$?
    dt=$((SECONDS - t0))
    case $rc in
        0)  SUMMARY+=("$(printf '  %-12s PASS  %5ss' "$stage" "$dt")"); PASSED=$((PASSED + 1)); PASSED_STAGES+=("$stage") ;;
        77) SUMMARY+=("$(printf '  %-12s SKIP  %5ss  (%s)' "$stage" "$dt" "$SKIP_REASON")"); SKIPPED=$((SKIPPED + 1)) ;;
        *)  SUMMARY+=("$(printf '  %-12s FAIL  %5ss  (exit %s)' "$stage" "$dt" "$rc")"); FAILED=$((FAILED + 1)) ;;
    esac
    if [[ $rc != 0 && $rc != 77 && "${KEEP_GOING:-0}" != 1 ]]; then
        say "stage $stage failed: stopping (KEEP_GOING=1 runs the rest)"
        break
    fi
done

echo
say "summary (total $((SECONDS - T_ALL))s):"
printf '%s\n' "${SUMMARY[@]}"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[[ $FAILED == 0 ]]
