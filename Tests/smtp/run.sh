#!/usr/bin/env bash
# Customers' e-mail both ways: Python's smtplib sends real mail (plain and STARTTLS) to a 3-node TLS cluster started
# here, the tests read the tickets back through the API (one kills the leader with -9 while messages arrive), and an
# aiosmtpd relay receives what the cluster mails customers: acknowledgements, replies, satisfaction links.
#
#   Tests/smtp/run.sh [path/to/vigil]        (default .build/debug/vigil; it is not built here)
#
# Installs pytest and requests (pip) when missing. The nodes are always stopped; VIGIL_SMTP_KEEP=1 keeps the work
# directory with their logs.
set -uo pipefail
binary=${1:-}
[ -n "$binary" ] && [ "${binary#/}" = "$binary" ] && binary="$PWD/$binary"
cd "$(dirname "$0")/../.."
root=$PWD
binary=${binary:-$root/.build/debug/vigil}
export PYTHONDONTWRITEBYTECODE=1
step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

[ -x "$binary" ] || { echo "no vigil binary at '$binary' (build it first)" >&2; exit 2; }
python3 -c 'import pytest, requests, aiosmtpd' 2>/dev/null || {
    step "installing pytest, requests, aiosmtpd"
    python3 -m pip install --quiet --disable-pip-version-check pytest requests aiosmtpd==1.4.6 || exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-smtp.XXXXXX")
pids=()
status=1
cleanup() {
    # The test restarts the node it killed; it writes the new process id here.
    [ -f "$work/restarted.pids" ] && while read -r pid; do pids+=("$pid"); done <"$work/restarted.pids"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "$status" -eq 0 ] && [ -z "${VIGIL_SMTP_KEEP:-}" ]; then rm -rf "$work"; else echo "work directory (node logs): $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Node n takes mail on base+200+n for two mailboxes of the example's `web` service, and sends customers' mail
# through the relay the test runs on base+250 (aiosmtpd).
configure_test_node() {
    sed -i "s/^paging:\$/paging:\n  smtp: {host: 127.0.0.1, port: $((base + 250)), security: plaintext, from: desk@example.com}/" "$2"
    cat >>"$2" <<YAML
intake:
  smtp:
    listen: 127.0.0.1:$((base + 200 + $1))
    max_message_bytes: 262144
    mailboxes:
      - {address: support@example.com, service: web, kind: consultation, priority: P3}
      - {address: complaints@example.com, service: web, kind: complaint, priority: P2}
YAML
}

source Tests/test-cluster.sh
start_test_cluster "$work" "$binary" || exit 1
printf '%s\n' "${pids[@]}" >"$work/pids"

step "pytest Tests/smtp/test_smtp.py (smtplib against the nodes' SMTP intake)"
(cd "$work" && VIGIL_BASE_PORT="$base" VIGIL_CA="$ca" VIGIL_TOKEN="$(cat "$work/c/admin.token")" VIGIL_WORK="$work" \
    VIGIL_BINARY="$vigil" timeout 900 python3 -m pytest -p no:cacheprovider --rootdir "$work" -q -rfE "$root/Tests/smtp/test_smtp.py")
status=$?
exit $status
