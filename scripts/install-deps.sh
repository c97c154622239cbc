#!/usr/bin/env bash
# Installs what Switchboard needs to build, run and test; safe to run again (and offline) once all is present.
#
#   scripts/install-deps.sh          build/run deps: libcurl, SQLite headers, python3 + pip, curl; pytest, requests, schemathesis
#   scripts/install-deps.sh --test   also the tools of the test and benchmark suites: wrk, headless Chromium and
#                                    its driver; Selenium and websockets for Python
#
# Debian packages come from apt-get (through sudo when not root); Python packages from pip.
# Packages already installed are skipped, so `apt-get update` only runs when something is missing.
set -euo pipefail

APT_PACKAGES=(libcurl4-openssl-dev libsqlite3-dev python3 python3-pip curl)
APT_TEST_PACKAGES=(wrk chromium chromium-driver)
PIP_PACKAGES=(pytest requests schemathesis)
PIP_MODULES=(pytest requests schemathesis)  # import names of PIP_PACKAGES
PIP_TEST_PACKAGES=(selenium websockets)
PIP_TEST_MODULES=(selenium websockets)

with_test=0
for arg in "$@"; do
    case "$arg" in
        --test) with_test=1 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-deps.sh: unknown argument: $arg (expected --test)" >&2; exit 2 ;;
    esac
done

log() { echo "install-deps: $*" >&2; }

# --- Debian packages ---------------------------------------------------------------------------

wanted=("${APT_PACKAGES[@]}")
if [ "$with_test" -eq 1 ]; then wanted+=("${APT_TEST_PACKAGES[@]}"); fi

is_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    missing=()
    for package in "${wanted[@]}"; do
        is_installed "$package" || missing+=("$package")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" -eq 0 ]; then
            as_root=(env)
        elif command -v sudo >/dev/null 2>&1; then
            as_root=(sudo env)
        else
            log "need root or sudo to install: ${missing[*]}"
            exit 1
        fi
        log "installing ${missing[*]}"
        "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get update -q
        "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        log "Debian packages present: ${wanted[*]}"
    fi
else
    log "no dpkg/apt-get here: install ${wanted[*]} (or their equivalents) yourself"
fi

# --- Python packages ---------------------------------------------------------------------------

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null 2>&1; then
    log "$python not found"
    exit 1
fi

if [ "$with_test" -eq 1 ]; then
    PIP_PACKAGES+=("${PIP_TEST_PACKAGES[@]}")
    PIP_MODULES+=("${PIP_TEST_MODULES[@]}")
fi
imports=$(IFS=,; echo "${PIP_MODULES[*]}")
if "$python" -c "import ${imports}" >/dev/null 2>&1; then
    log "Python packages present: ${PIP_PACKAGES[*]}"
else
    log "pip-installing ${PIP_PACKAGES[*]}"
    pip_log=$(mktemp)
    trap 'rm -f "$pip_log"' EXIT
    if ! "$python" -m pip install --quiet "${PIP_PACKAGES[@]}" 2>"$pip_log"; then
        if grep -q 'externally-managed-environment' "$pip_log"; then
            # PEP 668: this interpreter's packages belong to the OS; pip must be told it may add to them.
            "$python" -m pip install --quiet --break-system-packages "${PIP_PACKAGES[@]}"
        else
            cat "$pip_log" >&2
            exit 1
        fi
    fi
    "$python" -c "import ${imports}"
fi
