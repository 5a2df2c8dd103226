#!/usr/bin/env bash
# The console in a real browser: headless Chromium driven through WebDriver (selenium) against a 3-node TLS
# cluster started here from the binary.
#
#   Tests/console/run.sh [path/to/vigil]        (default .build/debug/vigil; it is not built here)
#
# Installs chromium, chromium-driver and fonts-noto-cjk (apt) and selenium and pytest (pip) when missing.
# Screenshots of every page go to $VIGIL_CONSOLE_SHOTS (default .build/console-shots; not committed).
# The nodes are always stopped; VIGIL_CONSOLE_KEEP=1 keeps the work directory with their logs.
set -uo pipefail
binary=${1:-}
[ -n "$binary" ] && [ "${binary#/}" = "$binary" ] && binary="$PWD/$binary"
cd "$(dirname "$0")/../.."
root=$PWD
binary=${binary:-$root/.build/debug/vigil}
shots=${VIGIL_CONSOLE_SHOTS:-$root/.build/console-shots}
export PYTHONDONTWRITEBYTECODE=1
step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

[ -x "$binary" ] || { echo "no vigil binary at '$binary' (build it first)" >&2; exit 2; }
missing=()
for package in chromium chromium-driver fonts-noto-cjk; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || exit 2
fi
python3 -c 'import selenium, pytest, requests' 2>/dev/null || {
    step "installing selenium, pytest, requests"
    python3 -m pip install --quiet --disable-pip-version-check selenium pytest requests || exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-console.XXXXXX")
pids=()
status=1
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "$status" -eq 0 ] && [ -z "${VIGIL_CONSOLE_KEEP:-}" ]; then rm -rf "$work"; else echo "work directory (node logs): $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source Tests/test-cluster.sh
start_test_cluster "$work" "$binary" || exit 1

step "pytest Tests/console/test_console.py (headless Chromium; screenshots in $shots)"
mkdir -p "$shots"
(cd "$work" && VIGIL_BASE_PORT="$base" VIGIL_CA="$ca" VIGIL_TOKEN="$(cat "$work/c/admin.token")" VIGIL_CONSOLE_SHOTS="$shots" \
    timeout 900 python3 -m pytest -p no:cacheprovider --rootdir "$work" -q -rfE "$root/Tests/console/test_console.py")
status=$?
for n in 1 2 3; do
    kill -0 "${pids[$((n - 1))]}" 2>/dev/null || { echo "node $n died"; tail -20 "$work/node$n.log"; status=1; }
done
exit $status
