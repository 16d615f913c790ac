#!/usr/bin/env bash
# Install what the real-browser tests (tests/harness/) need, on Debian/Ubuntu:
#   - apt: chromium, chromium-driver unless a browser and a matching driver are already installed
#     (tests/harness/browser_paths.py); default-jre-headless only if no Java 11+ is present
#     (nodejs + npm too if npm is missing)
#   - npm ci in the repository root: axe-core and vnu-jar, pinned in package-lock.json
# Idempotent: installs only what is missing. Run as root (CI) or: sudo bash scripts/install_test_deps.sh
set -euo pipefail

log() { printf 'install_test_deps: %s\n' "$*"; }
die() { printf 'install_test_deps: ERROR: %s\n' "$*" >&2; exit 1; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

java_ok() {
    command -v java >/dev/null 2>&1 || return 1
    local major
    major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\.\{0,1\}\([0-9]*\).*/\1 \2/p' | head -n1)"
    set -- $major
    if [ "${1:-0}" = 1 ]; then major="${2:-0}"; else major="${1:-0}"; fi
    [ "$major" -ge 11 ]
}

# --- apt ---------------------------------------------------------------------
# A Chromium or Chrome with a chromedriver of the same version that is already installed is used as it is
# (GitHub's Ubuntu runners ship Chrome and chromedriver, and their `chromium` package is a snap shim).
wanted=()
if browser="$(python3 tests/harness/browser_paths.py)"; then
    log "using the browser already installed: $browser"
else
    wanted+=(chromium chromium-driver)
fi
java_ok || wanted+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || wanted+=(nodejs npm)

missing=()
for pkg in "${wanted[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]}: sudo bash scripts/install_test_deps.sh"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ${missing[*]} by hand"
    log "apt-get update"
    apt-get update -qq || die "apt-get update failed"
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
else
    log "apt: nothing to install"
fi

# --- npm -----------------------------------------------------------------------
# Up to date when every package in package-lock.json is in node_modules at its locked version.
npm_up_to_date() {
    [ -d node_modules ] || return 1
    node -e '
        const lock = require("./package-lock.json").packages;
        for (const [dir, meta] of Object.entries(lock)) {
            if (!dir) continue;
            let version;
            try { version = require("./" + dir + "/package.json").version; } catch (e) { process.exit(1); }
            if (version !== meta.version) process.exit(1);
        }' 2>/dev/null
}

if npm_up_to_date; then
    log "node_modules matches package-lock.json"
else
    # --ignore-scripts: vnu-jar's postinstall would download a Java runtime from GitHub;
    # the system Java installed above is used instead.
    log "npm ci (axe-core, vnu-jar)"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
fi

# --- check -----------------------------------------------------------------------
browser="$(python3 tests/harness/browser_paths.py)" || die "no Chromium with a matching chromedriver after install"
java_ok || die "no Java 11+ after install"
[ -f node_modules/axe-core/axe.min.js ] || die "node_modules/axe-core/axe.min.js missing after npm ci"
[ -f node_modules/vnu-jar/build/dist/vnu.jar ] || die "node_modules/vnu-jar/build/dist/vnu.jar missing after npm ci"

log "ready: $browser ($("${browser#* }" --version | cut -d' ' -f1-2)), $(java -version 2>&1 | head -n1), axe-core $(node -p 'require("./node_modules/axe-core/package.json").version'), vnu-jar $(node -p 'require("./node_modules/vnu-jar/package.json").version')"
