#!/usr/bin/env bash
# Installs what Switchboard needs to build, run and test; safe to run again (and offline) once all is present.
#
#   scripts/install-deps.sh          build/run deps: libcurl, SQLite headers, python3 + pip, curl; pytest, requests, schemathesis
#   scripts/install-deps.sh --test   also the tools of the test and benchmark suites: wrk, headless Chromium and
#                                    its driver, Dovecot (IMAP), Postfix (for smtp-sink/smtp-source); Selenium,
#                                    websockets and aiosmtpd for Python
#
# Debian packages come from apt-get (through sudo when not root); Python packages from pip.
# Packages already installed are skipped, so `apt-get update` only runs when something is missing.
set -euo pipefail

APT_PACKAGES=(libcurl4-openssl-dev libsqlite3-dev python3 python3-pip curl)
APT_TEST_PACKAGES=(wrk chromium chromium-driver dovecot-imapd postfix openssl)
PIP_PACKAGES=(pytest requests schemathesis)
PIP_MODULES=(pytest requests schemathesis)  # import names of PIP_PACKAGES
PIP_TEST_PACKAGES=(selenium websockets aiosmtpd)
PIP_TEST_MODULES=(selenium websockets aiosmtpd)

with_test=0
for arg in "$@"; do
    case "$arg" in
        --test) with_test=1 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-deps.sh: unknown argument: $arg (expected --test)" >&2; exit 2 ;;
    esac
done

log() { echo "install-deps: $*" >&2; }

POLICY_RC=/usr/sbin/policy-rc.d
remove_policy=0
pip_log=""
cleanup() {
    if [ "$remove_policy" -eq 1 ]; then "${as_root[@]}" rm -f "$POLICY_RC"; fi
    if [ -n "$pip_log" ]; then rm -f "$pip_log"; fi
}
trap cleanup EXIT

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
        if printf '%s\n' "${missing[@]}" | grep -qx postfix && command -v debconf-set-selections >/dev/null 2>&1; then
            # Only postfix's smtp-sink and smtp-source are wanted (Benchmarks/email.sh): install it unconfigured,
            # not as this machine's mail server (no questions asked, no main.cf written, nothing listening on :25).
            echo "postfix postfix/main_mailer_type select No configuration" | "${as_root[@]}" debconf-set-selections
        fi
        if [ ! -e "$POLICY_RC" ]; then
            # No service starts while installing: the tests run their own Dovecot on a free port, and in a container
            # without an init system a failed start in a maintainer script (dovecot, postfix: `invoke-rc.d … || exit 1`)
            # would fail the whole install. Exit 101 = "action forbidden by policy"; invoke-rc.d then skips the start.
            printf '#!/bin/sh\n# installed for the duration of scripts/install-deps.sh\nexit 101\n' | "${as_root[@]}" tee "$POLICY_RC" >/dev/null
            "${as_root[@]}" chmod 755 "$POLICY_RC"
            remove_policy=1
        fi
        "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get update -q
        "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
        if [ "$remove_policy" -eq 1 ]; then
            "${as_root[@]}" rm -f "$POLICY_RC"
            remove_policy=0
        fi
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
