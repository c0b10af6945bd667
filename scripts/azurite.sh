#!/usr/bin/env bash
# Amber's local Azure Blob Storage endpoint for the integration tests (test/integration/azure-blob.test.ts):
# Azurite's blob service from node_modules, on 127.0.0.1 only, in memory, on a free port, telemetry off.
#
# Azurite does NOT implement immutability policies, legal holds or blob versioning: those requests are
# asserted at the HTTP level in unit tests (test/functions/azure/). Everything else (conditional writes,
# block lists, append blobs with append-position conditions) is checked against it.
#
#   bash scripts/azurite.sh start DIR   # starts (or reuses) Azurite, writes DIR/env
#   bash scripts/azurite.sh stop DIR    # stops the Azurite started from DIR
#
# Then: set -a; . DIR/env; set +a; npx vitest run test/integration/azure-blob.test.ts
# DIR/env holds AZURE_STORAGE_CONNECTION_STRING (the well-known devstoreaccount1 development key, which
# Azurite documents and accepts; it is no secret) and AMBER_AZURITE=1.
set -euo pipefail

usage() {
  echo "usage: bash scripts/azurite.sh start DIR | stop DIR" >&2
  exit 2
}
fail() {
  echo "azurite: $*" >&2
  exit 1
}

cmd=${1:-}
[ -n "$cmd" ] && [ -n "${2:-}" ] || usage
D=$(realpath -m -- "$2")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/node_modules/.bin/azurite-blob"
# Published by Microsoft for the storage emulator: https://learn.microsoft.com/azure/storage/common/storage-use-azurite
ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

stop() {
  [ -f "$D/azurite.pid" ] || return 0
  local pid
  pid=$(cat "$D/azurite.pid")
  # Only the pid this directory recorded: never a kill by name.
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$D/azurite.pid" "$D/env"
}

# Any HTTP answer from the port means the blob service is listening (it answers 400 or 403 to a bare GET).
answers() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/$ACCOUNT?comp=list" || true)
  [ -n "$code" ] && [ "$code" != "000" ]
}

running() {
  [ -f "$D/azurite.pid" ] && [ -f "$D/env" ] || return 1
  kill -0 "$(cat "$D/azurite.pid")" 2>/dev/null || return 1
  answers "$(sed -n 's/^AMBER_AZURITE_PORT=//p' "$D/env")"
}

case "$cmd" in
  stop) stop; exit 0 ;;
  start) ;;
  *) usage ;;
esac

[ -x "$BIN" ] || fail "$BIN is missing; run npm ci first (azurite is a devDependency)"
mkdir -p "$D"
if running; then
  echo "azurite: already running from $D"
  exit 0
fi
stop

# A free port chosen by the kernel on 127.0.0.1 (released just before Azurite binds it).
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# AZURITE_DISABLE_TELEMETRY as well as the flag: some releases read one, some the other.
# Run from DIR so nothing it might write lands in the working copy.
(cd "$D" && AZURITE_DISABLE_TELEMETRY=true exec nohup "$BIN" --blobHost 127.0.0.1 --blobPort "$PORT" \
  --skipApiVersionCheck --inMemoryPersistence --disableTelemetry --silent >"$D/azurite.log" 2>&1) &
echo $! >"$D/azurite.pid"

for _ in $(seq 1 60); do
  if answers "$PORT"; then
    cat >"$D/env" <<EOF
AZURE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$PORT/$ACCOUNT;'
AMBER_AZURITE=1
AMBER_AZURITE_PORT=$PORT
EOF
    echo "azurite: blob service on http://127.0.0.1:$PORT/$ACCOUNT (env in $D/env)"
    exit 0
  fi
  kill -0 "$(cat "$D/azurite.pid")" 2>/dev/null || { cat "$D/azurite.log" >&2; rm -f "$D/azurite.pid"; fail "Azurite exited during start-up (log above)"; }
  sleep 0.25
done
cat "$D/azurite.log" >&2
stop
fail "Azurite did not answer on 127.0.0.1:$PORT within 15 s"
