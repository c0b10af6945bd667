#!/usr/bin/env bash
# Amber's own real S3 endpoint with Object Lock, for the integration tests (test/integration/s3-*.test.ts).
# Debian's Ceph packages on 127.0.0.1 only: one monitor, one in-memory OSD and the RADOS Gateway (radosgw),
# no auth between daemons. The project carries this copy because CI starts on a fresh machine.
#
# Verified behaviour: buckets created with ObjectLockEnabledForBucket; COMPLIANCE default retention;
# deleting a locked version answers 403; shortening retention 403; suspending versioning 409.
# It does NOT verify x-amz-checksum-sha256: Amber hashes in the application.
#
#   bash scripts/s3-server.sh start DIR [PORT]   # installs packages if missing, starts (or reuses), writes DIR/env
#   bash scripts/s3-server.sh stop DIR           # stops the daemons started from DIR
#   bash scripts/s3-server.sh status DIR         # exit 0 when the gateway started from DIR answers
#
# Then: set -a; . DIR/env; set +a; npx vitest run test/integration
# Clients: endpoint http://127.0.0.1:PORT, path-style, region us-east-1, access key "amber", secret
# "amber-secret". With @aws-sdk/client-s3 set forcePathStyle: true and
# requestChecksumCalculation: 'WHEN_REQUIRED' (streamed uploads otherwise get 411 MissingContentLength).
set -euo pipefail

usage() {
  echo "usage: bash scripts/s3-server.sh start DIR [PORT] | stop DIR | status DIR" >&2
  exit 2
}
fail() {
  echo "s3-server: $*" >&2
  exit 1
}

cmd=${1:-}
[ -n "$cmd" ] && [ -n "${2:-}" ] || usage
# Absolute, because the Ceph daemons chdir to / when they daemonize and would lose relative paths.
D=$(realpath -m -- "$2")
case "$D" in
  / | /bin | /boot | /dev | /etc | /home | /lib | /proc | /root | /sys | /tmp | /usr | /var)
    fail "refusing to use $D as the state directory (it is wiped on start); pass a dedicated folder such as .s3-server" ;;
esac

pids_of() {
  local f
  for f in "$D"/run/*.pid; do [ -f "$f" ] && cat "$f"; done
  return 0
}

stop() {
  local pids pid
  pids=$(pids_of | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  # Only the pids this state directory recorded: never a broad kill by name.
  kill $pids 2>/dev/null || true
  for pid in $pids; do
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -f "$D"/run/*.pid
}

# The gateway this directory started is up: its pid lives and its port answers.
running() {
  [ -f "$D/env" ] && [ -f "$D/run/client.rgw.a.pid" ] || return 1
  kill -0 "$(cat "$D/run/client.rgw.a.pid")" 2>/dev/null || return 1
  local endpoint
  endpoint=$(sed -n 's/^AWS_ENDPOINT_URL_S3=//p' "$D/env")
  [ -n "$endpoint" ] && curl -s -o /dev/null --max-time 3 "$endpoint/"
}

case "$cmd" in
  stop) stop; exit 0 ;;
  status)
    if running; then echo "s3-server: running from $D"; cat "$D/env"; exit 0; fi
    echo "s3-server: not running from $D" >&2; exit 1 ;;
  start) ;;
  *) usage ;;
esac

PORT=${3:-17480}
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65534 ] ||
  fail "port '$PORT' is not usable; pass a free port between 1024 and 65534, e.g. 17480"
MONPORT=$((PORT + 1)) # the monitor listens on the next port

# Idempotent: a healthy server from the same directory and port is reused (its buckets are kept).
if running; then
  if grep -qx "AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PORT" "$D/env"; then
    echo "s3-server: already running from $D" >&2
    cat "$D/env"
    exit 0
  fi
  echo "s3-server: running from $D on another port; restarting on $PORT" >&2
fi

if ! command -v radosgw >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v uuidgen >/dev/null ||
  ! command -v curl >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "the Ceph packages are missing and installing them needs root; run as root or: apt-get install radosgw ceph-mon ceph-osd ceph-common uuid-runtime curl"
    SUDO=sudo
  fi
  echo "s3-server: installing radosgw ceph-mon ceph-osd ceph-common uuid-runtime curl (first run, ~15-60 s)" >&2
  apt_log=$(mktemp -t s3-server-apt.XXXXXX.log)
  if ! ($SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    radosgw ceph-mon ceph-osd ceph-common uuid-runtime curl) >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    fail "installing the Ceph packages failed; full log: $apt_log"
  fi
  rm -f "$apt_log"
fi

# The directory is wiped on start; refuse to wipe one that is not ours.
if [ -e "$D" ] && [ -n "$(ls -A "$D" 2>/dev/null)" ] && [ ! -f "$D/ceph.conf" ]; then
  fail "$D exists, is not empty and holds no ceph.conf, so it is not an s3-server state directory; pass another folder"
fi
stop
for p in "$PORT" "$MONPORT"; do
  if ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
    fail "port $p on this machine is already in use (another s3-server?); stop it or pass another PORT, e.g. $((PORT + 10))"
  fi
done
rm -rf "$D"
mkdir -p "$D"/{mon,osd0,run,log}
LOG="$D/log"

# On failure say which step broke and where its log is, and stop what did start (the logs stay).
step=""
on_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] && return 0
  echo "s3-server: failed while: $step" >&2
  stop
  rm -f "$D/env"
  echo "s3-server: logs in $LOG (setup.log, mon.a.log, osd.0.log, client.rgw.a.log); the daemons that had started were stopped" >&2
  exit "$rc"
}
trap on_exit EXIT

FSID=$(uuidgen)
cat >"$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MONPORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 2147483648
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd\$id
keyring = $D/keyring
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw dns name = localhost
CONF
export CEPH_CONF="$D/ceph.conf"

step="creating the monitor"
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --add a "v1:127.0.0.1:$MONPORT" --fsid "$FSID" "$D/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" >>"$LOG/setup.log" 2>&1
step="starting the monitor"
ceph-mon -i a >>"$LOG/setup.log" 2>&1

step="creating the OSD"
OSD_UUID=$(uuidgen)
ID=$(timeout 60 ceph osd new "$OSD_UUID")
ceph-osd -i "$ID" --mkfs --osd-uuid "$OSD_UUID" >>"$LOG/setup.log" 2>&1
step="starting the OSD"
# Ceph's OSD can ask the monitor for its CRUSH class before it has learnt the cluster's fsid ("wrong fsid"
# in osd.0.log) and exit; seen mostly with standard input closed, as in CI. It is registered already, so
# starting the daemon again a moment later is enough.
for attempt in 1 2 3 4 5; do
  if ceph-osd -i "$ID" >>"$LOG/setup.log" 2>&1 </dev/null; then break; fi
  [ "$attempt" -lt 5 ] || false
  echo "s3-server: the OSD exited during start-up (attempt $attempt); starting it again" >&2
  sleep 1
done
step="waiting for the OSD to come up (60 s)"
up=""
for _ in $(seq 1 120); do
  if timeout 10 ceph osd stat 2>/dev/null | grep -q '1 up'; then up=1; break; fi
  sleep 0.5
done
[ -n "$up" ] || false

step="starting radosgw"
radosgw -n client.rgw.a >>"$LOG/setup.log" 2>&1
step="waiting for radosgw to answer on 127.0.0.1:$PORT (60 s)"
up=""
for _ in $(seq 1 120); do
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then up=1; break; fi
  sleep 0.5
done
[ -n "$up" ] || false

step="creating the S3 user"
radosgw-admin user create --uid=amber --display-name=amber --access-key=amber --secret=amber-secret \
  >>"$LOG/setup.log" 2>&1

cat >"$D/env" <<ENV
AWS_ENDPOINT_URL_S3=http://127.0.0.1:$PORT
AWS_ACCESS_KEY_ID=amber
AWS_SECRET_ACCESS_KEY=amber-secret
AWS_REGION=us-east-1
ENV
step=""
echo "s3-server: running from $D; load with: set -a; . $D/env; set +a" >&2
cat "$D/env"
