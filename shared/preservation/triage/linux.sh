#!/bin/sh
# Amber volatile triage (Linux). Read-only: prints what is lost when the instance stops. Every section is
# framed by "=== amber-section NAME begin ===" and "=== amber-section NAME end rc=N ===" lines so the output
# parses even when a tool is missing (its error goes into the section, the rest goes on).
LC_ALL=C
export LC_ALL
section() {
  name="$1"
  shift
  echo "=== amber-section $name begin ==="
  ( "$@" ) 2>&1
  rc=$?
  echo "=== amber-section $name end rc=$rc ==="
}
host_info() {
  echo "hostname: $(hostname 2>/dev/null)"
  echo "utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "uptime: $(cat /proc/uptime 2>/dev/null)"
  uname -a
}
processes() {
  # pid, ppid, user, start, full command line; then each executable's path and SHA-256 (deleted binaries show as such).
  ps -eo pid=,ppid=,user=,lstart=,args= 2>/dev/null || ps -ef
}
process_executables() {
  # pid, SHA-256, path. Each path is hashed once (many processes share a binary); a deleted binary is hashed
  # through /proc/PID/exe, which still reads it.
  seen=$(mktemp 2>/dev/null) || seen=''
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    exe=$(readlink "$d/exe" 2>/dev/null) || continue
    sum=''
    case "$exe" in
      *' (deleted)') ;;
      *) [ -n "$seen" ] && sum=$(awk -F '\t' -v e="$exe" '$2 == e { print $1; exit }' "$seen") ;;
    esac
    if [ -z "$sum" ]; then
      sum=$(sha256sum "$d/exe" 2>/dev/null | cut -d' ' -f1)
      [ -n "$seen" ] && [ -n "$sum" ] && printf '%s\t%s\n' "$sum" "$exe" >> "$seen"
    fi
    printf '%s\t%s\t%s\n' "$pid" "${sum:--}" "$exe"
  done
  [ -n "$seen" ] && rm -f "$seen"
  return 0
}
network() {
  if command -v ss >/dev/null 2>&1; then ss -tunap; else netstat -tunap; fi
}
users() {
  who -a
  echo '--- last'
  last -n 50 2>/dev/null
}
scheduled() {
  for f in /etc/crontab /etc/cron.d/* /var/spool/cron/* /var/spool/cron/crontabs/*; do
    [ -f "$f" ] && { echo "--- $f"; cat "$f"; }
  done
  echo '--- systemd timers'
  systemctl list-timers --all --no-pager 2>/dev/null
}
histories() {
  for f in /root/.*history /home/*/.*history; do
    [ -f "$f" ] && { echo "--- $f sha256 $(sha256sum "$f" | cut -d' ' -f1)"; cat "$f"; }
  done
}
modules() {
  cat /proc/modules
}
section host host_info
section processes processes
section process-executables process_executables
section network network
section users users
section scheduled scheduled
section histories histories
section kernel-modules modules
echo "=== amber-triage complete ==="
