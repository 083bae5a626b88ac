#!/usr/bin/env bash
# Packaging test: build the collection tarball, check what it holds, install it, and run the demo from the
# INSTALLED copy (not the checkout).
#
#   tests/package/build_and_install.sh
#
# 1. ansible-galaxy collection build into a temporary folder; list the tarball by top-level folder;
#    assert it holds no test junk (tests/output, .venv, .cache, __pycache__, .pytest_cache, .benchmarks,
#    benchmarks/results, .git, *.pyc) and does hold what users run; Galaxy's importer (galaxy-importer, with
#    ansible-lint; its ansible-test step needs containers, so off) accepts it.
# 2. a fresh virtualenv (ansible-core of the same version as the dev venv, requests, requests-oauthlib);
#    PACKAGE_FRESH_VENV=0 reuses the dev venv instead (offline machines).
# 3. ansible-galaxy collection install <tarball> -p <tmp>; ansible-doc reads a module from there.
# 4. ansible-playbook commerceops.magento.demo with ANSIBLE_COLLECTIONS_PATH = only the install folder and a
#    throwaway HOME (fresh emulator state): succeeds; a second run reports changed=0.
# Ends with "N passed, N failed"; exit code 1 when anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); printf 'ok   %s\n' "$*"; }
ko() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$*"; }
finish() {
    printf '%d passed, %d failed\n' "$PASS" "$FAIL"
    [[ $FAIL == 0 ]]
    exit $?
}

# --- the dev venv (the one scripts/bootstrap.sh makes, else /tmp/devvenv) -----------------------------------
DEV=""
while IFS= read -r venv; do
    if [[ -x "$venv/bin/ansible-galaxy" ]]; then DEV="$venv"; break; fi
done < <(find "$ROOT/.venv" -maxdepth 1 -name "core-*" 2>/dev/null | sort -rV; echo /tmp/devvenv)
if [[ -z "$DEV" ]]; then
    ko "no venv with ansible-galaxy (run scripts/bootstrap.sh)"
    finish
fi
echo "dev venv: $DEV"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/commerceops-package.XXXXXX")"
EMU_ROOT="$TMP/home/.cache/commerceops-magento-emulator"
INSTALL="$TMP/collections"
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    local script="$INSTALL/ansible_collections/commerceops/magento/extensions/emulator/magento-emulator"
    if [[ -f "$script" && -d "$EMU_ROOT" ]]; then
        "${RUN_PY:-$DEV/bin/python}" "$script" stop --root "$EMU_ROOT" >/dev/null 2>&1 || true
    fi
    if [[ "${KEEP_PACKAGE_TMP:-0}" == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# --- 1. build -----------------------------------------------------------------------------------------------
if "$DEV/bin/ansible-galaxy" collection build --force --output-path "$TMP/build" "$ROOT" > "$TMP/build.log" 2>&1; then
    ok "ansible-galaxy collection build"
else
    ko "ansible-galaxy collection build: $(tail -5 "$TMP/build.log")"
    finish
fi
TARBALL="$(find "$TMP/build" -name 'commerceops-magento-*.tar.gz' | head -1)"
echo "tarball: $(basename "$TARBALL") ($(du -k "$TARBALL" | cut -f1) KiB)"
tar -tzf "$TARBALL" | sed 's|^\./||' | grep -v '^$' > "$TMP/contents.txt"
echo "contents by top-level folder (files and folders):"
cut -d/ -f1 "$TMP/contents.txt" | sort | uniq -c | sed 's/^/    /'

junk="$(grep -E '(^|/)(tests/output|\.venv|\.cache|__pycache__|\.pytest_cache|\.benchmarks|\.git|\.tox|\.mypy_cache)(/|$)|^benchmarks/results(/|$)|\.pyc$|\.tar\.gz$' "$TMP/contents.txt" || true)"
if [[ -z "$junk" ]]; then
    ok "no test junk in the tarball"
else
    ko "test junk in the tarball ($(wc -l <<< "$junk") entries), e.g.: $(head -5 <<< "$junk" | tr '\n' ' ')"
fi

missing=()
for need in MANIFEST.json FILES.json README.md meta/runtime.yml playbooks/demo.yml \
            plugins/modules/magento_integration.py plugins/module_utils/_bridge_php.py \
            roles/integration_onboarding/tasks/main.yml roles/emulator/tasks/main.yml \
            extensions/emulator/magento-emulator extensions/emulator/magento_emulator/cli.py \
            extensions/emulator/magento_emulator/php/bootstrap.php extensions/emulator/magento_emulator/data/magento.json; do
    grep -qx "$need" "$TMP/contents.txt" || missing+=("$need")
done
if [[ ${#missing[@]} == 0 ]]; then
    ok "the tarball holds what users run (modules, roles, demo playbook, emulator with its PHP stand-ins)"
else
    ko "missing from the tarball: ${missing[*]}"
fi

# --- 1b. Galaxy's importer ------------------------------------------------------------------------------------
# What Galaxy runs on upload (galaxy-importer, its own venv made by scripts/bootstrap.sh): ansible-doc, ansible-lint,
# the collection's and each role's metadata and README. Its ansible-test step needs containers: off.
IMPORTER="${VENV_IMPORTER:-$ROOT/.venv/galaxy-importer}"
if [[ -x "$IMPORTER/bin/python" ]] && "$IMPORTER/bin/python" -c 'import galaxy_importer' 2>/dev/null; then
    printf '[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\nRUN_ANSIBLE_DOC = True\nCHECK_CHANGELOG = True\n' \
        > "$TMP/galaxy-importer.cfg"
    if (cd "$TMP" && env GALAXY_IMPORTER_CONFIG="$TMP/galaxy-importer.cfg" PATH="$IMPORTER/bin:$PATH" HOME="$TMP/importer-home" \
            "$IMPORTER/bin/python" -m galaxy_importer.main "$TARBALL") > "$TMP/importer.log" 2>&1; then
        ok "galaxy-importer $("$IMPORTER/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))') accepts the tarball (ansible-lint on, ansible-test off)"
        grep -E '^(WARNING|ERROR)' "$TMP/importer.log" | sed 's/^/    /' | head -20
    else
        ko "galaxy-importer refuses the tarball; its last lines:"
        tail -15 "$TMP/importer.log" | sed 's/^/    /'
    fi
else
    ko "galaxy-importer missing at $IMPORTER (run scripts/bootstrap.sh)"
fi

# --- 2. a fresh venv ----------------------------------------------------------------------------------------
CORE_VERSION="$("$DEV/bin/python" -c 'import ansible.release as r; print(r.__version__)')"
if [[ "${PACKAGE_FRESH_VENV:-1}" == 1 ]]; then
    if "$DEV/bin/python" -m venv "$TMP/venv" > "$TMP/venv.log" 2>&1 \
       && "$TMP/venv/bin/python" -m pip install -q --disable-pip-version-check \
            "ansible-core==$CORE_VERSION" requests requests-oauthlib >> "$TMP/venv.log" 2>&1; then
        RUN="$TMP/venv"
        ok "fresh venv with ansible-core $CORE_VERSION, requests, requests-oauthlib"
    else
        ko "fresh venv: $(grep -v "^WARNING: Location" "$TMP/venv.log" | tail -3 | tr '\n' ' ') (PACKAGE_FRESH_VENV=0 reuses $DEV)"
        finish
    fi
else
    RUN="$DEV"
    echo "PACKAGE_FRESH_VENV=0: using $DEV"
fi
RUN_PY="$RUN/bin/python"

# --- 3. install ---------------------------------------------------------------------------------------------
mkdir -p "$INSTALL" "$TMP/home" "$TMP/work"
# Only the install folder: no checkout, no ~/.ansible, no site-packages collections, no ansible.cfg.
run_env=(env -i "PATH=$RUN/bin:/usr/local/bin:/usr/bin:/bin" "HOME=$TMP/home" "LANG=C.UTF-8"
         "ANSIBLE_COLLECTIONS_PATH=$INSTALL" "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false"
         "ANSIBLE_CONFIG=$TMP/work/none.cfg" "ANSIBLE_LOCALHOST_WARNING=false"
         "ANSIBLE_INVENTORY_UNPARSED_WARNING=false" "ANSIBLE_NOCOLOR=1" "ANSIBLE_FORCE_COLOR=0")
: > "$TMP/work/none.cfg"
if (cd "$TMP/work" && "${run_env[@]}" ansible-galaxy collection install "$TARBALL" -p "$INSTALL") > "$TMP/install.log" 2>&1 \
   && [[ -f "$INSTALL/ansible_collections/commerceops/magento/MANIFEST.json" ]]; then
    ok "ansible-galaxy collection install -p $INSTALL"
else
    ko "ansible-galaxy collection install: $(tail -5 "$TMP/install.log")"
    finish
fi


doc_path="$(cd "$TMP/work" && "${run_env[@]}" ansible-doc --json commerceops.magento.magento_integration 2>/dev/null \
            | "$RUN_PY" -c 'import json,sys; print(json.load(sys.stdin)["commerceops.magento.magento_integration"]["doc"]["filename"])' 2>/dev/null)"
if [[ "$doc_path" == "$INSTALL"/* ]]; then
    ok "ansible-doc reads the module from the installed copy ($doc_path)"
else
    ko "ansible-doc commerceops.magento.magento_integration: not from $INSTALL (got '${doc_path:-nothing}')"
fi

# --- 4. the demo from the installed copy --------------------------------------------------------------------
recap() {  # recap <log> <field>: the field's value in the PLAY RECAP line of localhost
    grep -E '^localhost +:' "$1" | tail -1 | grep -oE "$2=[0-9]+" | cut -d= -f2
}
for pass in 1 2; do
    log="$TMP/demo-$pass.log"
    (cd "$TMP/work" && "${run_env[@]}" ansible-playbook -v commerceops.magento.demo) > "$log" 2>&1
    rc=$?
    changed="$(recap "$log" changed)"
    failed="$(recap "$log" failed)"
    if [[ $pass == 1 ]]; then
        if grep -qE "$INSTALL/ansible_collections/commerceops/magento/(roles/emulator/\.\./\.\./)?extensions/emulator/magento-emulator" "$log"; then
            ok "demo run 1 ran the installed copy's emulator"
        else
            ko "demo run 1: no sign of the installed copy's emulator ($INSTALL/...) in the -v output"
        fi
    fi
    if [[ $rc != 0 || "${failed:-1}" != 0 ]]; then
        ko "demo run $pass from the installed copy: rc=$rc failed=${failed:-?}; last lines:"
        tail -25 "$log" | sed 's/^/    /'
        break
    fi
    ok "demo run $pass from the installed copy succeeds (changed=$changed)"
    # The role's summary (extended regular expressions of short fragments: the debug output wraps long lines)
    if [[ $pass == 1 ]]; then
        expected=("Config: oauth/consumer/enable_integration_as_bearer" "Caches refreshed: config([\"',]|\$)"
                  "Demo ERP connector: active, custom access \(7 resources\)" "Demo reporting: active, all access,")
    else
        expected=("Config: no change" "Caches refreshed: none" "custom access \(7 resources\), tokens proven"
                  "Demo reporting: active, all access, tokens proven")
    fi
    missing=()
    for fragment in "${expected[@]}"; do
        grep -qE -- "$fragment" "$log" || missing+=("$fragment")
    done
    if [[ ${#missing[@]} == 0 ]]; then
        ok "demo run $pass prints the expected summary"
    else
        ko "demo run $pass: the summary lacks: ${missing[*]}"
        sed -n '/Summarize the onboarding/,/PLAY RECAP/p' "$log" | sed 's/^/    /'
    fi
    if [[ $pass == 2 ]]; then
        if [[ "$changed" == 0 ]]; then
            ok "demo rerun reports changed=0"
        else
            ko "demo rerun reports changed=$changed (expected 0); changed tasks:"
            grep -E '^(TASK|changed:)' "$log" | grep -B1 '^changed:' | sed 's/^/    /'
        fi
    fi
done
if [[ -d "$EMU_ROOT" ]]; then
    ok "the demo's emulator state lives under the throwaway HOME ($EMU_ROOT)"
else
    ko "no emulator root under the throwaway HOME ($EMU_ROOT)"
fi

finish
