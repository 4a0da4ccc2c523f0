#!/usr/bin/env bash
# Conformance run: schemathesis, with every check, against the server's own /openapi.json.
# Starts a throwaway server (private PostgreSQL cluster in a temporary directory), signs in to
# each dialect, and runs `schemathesis run --checks all` with tests/schemathesis/schemathesis.toml.
#
#   tests/schemathesis/run.sh [--max-examples N] [any other schemathesis option]
#
# Needs `st` on PATH or SCHEMATHESIS=/path/to/st (install: python3 -m venv v && v/bin/pip install schemathesis)
# and a built binary (LEDGER_BIN, default target/debug/ledger; `cargo build` makes it).
set -euo pipefail
cd "$(dirname "$0")/../.."

st=${SCHEMATHESIS:-st}
ledger=${LEDGER_BIN:-target/debug/ledger}
port=${SCHEMATHESIS_PORT:-18181}
base="http://127.0.0.1:$port"
data=$(mktemp -d)
[ "$(id -u)" = 0 ] && chown postgres "$data"
export LEDGER_ADMIN_KEY="schemathesis-admin-key-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

"$ledger" --data-dir "$data" serve --listen "127.0.0.1:$port" >"$data/server.log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$data"
}
trap stop EXIT
for _ in $(seq 1 120); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$data/server.log"; exit 1; }
  sleep 0.5
done

# One user for every dialect: a myLightning session and its CSRF token, a Gradido session.
"$ledger" --data-dir "$data" admin create-user --email fuzz@example.com --username fuzz \
  --password 'fuzz-password' >/dev/null
cookie=$(curl -fsS -D - -o /dev/null -H 'content-type: application/json' \
  -d '{"username":"fuzz","password":"fuzz-password"}' "$base/rest/v1/login" |
  sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
csrf=$(curl -fsS -H "cookie: $cookie" "$base/rest/v1/getalldata" | python3 -c 'import json,sys; print(json.load(sys.stdin)["_csrf"])')
export LIGHTNING_SESSION="${cookie#*=}" LIGHTNING_CSRF="$csrf"

set +e
"$st" --config-file tests/schemathesis/schemathesis.toml run "$base/openapi.json" --checks all "$@"
status=$?
set -e
if [ "$status" -ne 0 ]; then tail -50 "$data/server.log"; fi
exit "$status"
