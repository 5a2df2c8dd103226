#!/usr/bin/env bash
# Checks deploy/openapi.yaml against the real server.
#
#   Tests/openapi/run.sh [path/to/vigil]        (default .build/debug/vigil; it is not built here)
#
# 1. installs openapi-spec-validator, schemathesis, pytest and icalendar with pip when they are missing;
# 2. validates the spec (OpenAPI 3.1);
# 3. starts a 3-node TLS cluster from the binary on free ports and applies deploy/examples/oncall.yaml;
# 4. runs Tests/openapi/test_openapi.py: every Swift route is in the spec and vice versa, documented roles
#    agree with the middleware, 401/403 for every route, a scripted walk that answers every operation with a
#    2xx and checks every answer against the spec, and regressions for known server bugs;
# 5. runs schemathesis against a FOLLOWER (so forwarding to the leader is covered) with the bootstrap admin
#    token and the cluster CA: checks not_a_server_error, status_code_conformance, content_type_conformance
#    and response_schema_conformance, bounded by --max-examples and an overall timeout;
# 6. fails if any node died or is not ready afterwards (and prints where it crashed).
# Once the cluster is up every step runs, even after a failure; the exit status is non-zero if any failed. The nodes are
# always stopped. Knobs: VIGIL_OPENAPI_EXAMPLES (default 20), VIGIL_OPENAPI_SEED (default 1),
# VIGIL_OPENAPI_TIMEOUT (seconds for schemathesis, default 420), VIGIL_OPENAPI_KEEP=1 keeps the work directory.
set -uo pipefail
binary=${1:-}
[ -n "$binary" ] && [ "${binary#/}" = "$binary" ] && binary="$PWD/$binary"
cd "$(dirname "$0")/../.."
root=$PWD
binary=${binary:-$root/.build/debug/vigil}
examples=${VIGIL_OPENAPI_EXAMPLES:-20}
seed=${VIGIL_OPENAPI_SEED:-1}
st_timeout=${VIGIL_OPENAPI_TIMEOUT:-420}
export PYTHONDONTWRITEBYTECODE=1

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
started=$(date +%s)

[ -x "$binary" ] || { echo "no vigil binary at '$binary' (build it first: swift build --product vigil)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 2; }

missing=()
python3 -c 'import openapi_spec_validator' 2>/dev/null || missing+=(openapi-spec-validator)
python3 -c 'import schemathesis.cli' 2>/dev/null || missing+=(schemathesis)
python3 -c 'import pytest' 2>/dev/null || missing+=(pytest)
python3 -c 'import requests, yaml, jsonschema' 2>/dev/null || missing+=(requests pyyaml jsonschema)
python3 -c 'import icalendar' 2>/dev/null || missing+=(icalendar)
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}" || exit 2
fi
# Through python3, so that a pip install whose scripts directory is not on PATH works too.
schemathesis=(python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())')

step "validating deploy/openapi.yaml (OpenAPI 3.1)"
python3 -m openapi_spec_validator deploy/openapi.yaml || exit 1

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-openapi.XXXXXX")
pids=()
failed=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    if [ "${#failed[@]}" -eq 0 ] && [ -z "${VIGIL_OPENAPI_KEEP:-}" ]; then rm -rf "$work"; else echo "work directory (node logs): $work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source Tests/test-cluster.sh
start_test_cluster "$work" "$binary" || { failed+=(cluster); exit 1; }
token=$(cat "$work/c/admin.token")
api() { test_cluster_api "$1"; }
leader=$(curl -sf --cacert "$ca" "$(api 1)/api/v1/cluster" | python3 -c 'import json, sys; print(json.load(sys.stdin)["leader"])')
follower=1
[ "$leader" = 1 ] && follower=2
url=$(api "$follower")
echo "leader: node $leader; requests go to node $follower ($url)"

step "pytest Tests/openapi/test_openapi.py (routes, roles, every operation against the spec)"
# From the work directory, so that pytest plugins write nothing into the checkout.
(cd "$work" && VIGIL_URL="$url" VIGIL_CA="$ca" VIGIL_TOKEN="$token" VIGIL_ACK_SECRET_FILE="$work/c/node$follower/paging/ack.secret" \
    python3 -m pytest -p no:cacheprovider --rootdir "$work" -q -rfE "$root/Tests/openapi/test_openapi.py") || failed+=(pytest)

# Membership and leadership changes are exercised by the pytest above with care (a learner that holds no vote,
# a hand-over and back); fuzzed, they would remove voters until the cluster could not answer.
step "schemathesis against node $follower (max $examples examples per operation, seed $seed, at most ${st_timeout}s)"
(cd "$work" && timeout "$st_timeout" "${schemathesis[@]}" run "$root/deploy/openapi.yaml" --url "$url" \
    -H "Authorization: Bearer $token" --tls-verify "$ca" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing --max-examples "$examples" --seed "$seed" --workers 1 \
    --request-timeout 20 --max-failures 50 \
    --exclude-path-regex '^/api/v1/cluster/(members|leader|tls)') || failed+=(schemathesis)

step "every node still up and ready"
for n in 1 2 3; do
    if ! kill -0 "${pids[$((n - 1))]}" 2>/dev/null; then
        echo "node $n died:"
        grep -a -m1 -E 'Fatal error|runtime failure|Signal [0-9]+' "$work/node$n.log"
        grep -a -E " at /.*/Sources/" "$work/node$n.log" | grep -v -E 'Sources/(VigilNode/(StateView|RaftLoop|NodeStateMachine))' | head -3
        failed+=("node$n")
    elif ! curl -sf --cacert "$ca" "$(api "$n")/readyz" >/dev/null; then
        echo "node $n is not ready: $(curl -s --cacert "$ca" "$(api "$n")/readyz")"
        failed+=("node$n")
    fi
done

elapsed=$(( $(date +%s) - started ))
if [ "${#failed[@]}" -gt 0 ]; then
    step "FAILED: ${failed[*]} (${elapsed}s)"
    exit 1
fi
step "deploy/openapi.yaml matches the server (${elapsed}s)"
