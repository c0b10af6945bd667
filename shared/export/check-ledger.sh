#!/bin/sh
# Checks the custody ledger of this bundle with standard tools only. Run it in the bundle folder:
#   sh check-ledger.sh
# custody-ledger.jsonl holds one JSON entry per line, each line ended by a line feed (LF). The "prev" of an
# entry is the SHA-256 of the previous line's exact text (without its line feed); the first entry's "prev" is
# 64 zeros, and an entry's "seq" is its line number. Each checkpoint (_amber/checkpoints/*.json) names an entry
# and the SHA-256 of its line, and the previous checkpoint and the SHA-256 of that file; the newest one names the
# last line. Each "sealed" entry names a manifest (_amber/manifests/*.json) and the SHA-256 of its exact bytes.
# Exit status 0: all of that holds; 1: a break, each printed on its own line.
set -u
LC_ALL=C
export LC_ALL
ledger=custody-ledger.jsonl
zero=0000000000000000000000000000000000000000000000000000000000000000
fail=0
bad() {
  echo "FAIL: $*"
  fail=1
}
if [ ! -f "$ledger" ]; then
  echo "FAIL: $ledger is missing (run this script in the bundle folder)"
  exit 1
fi
if [ -s "$ledger" ] && [ "$(tail -c 1 "$ledger" | wc -l)" -ne 1 ]; then
  bad "the last line of $ledger has no line feed: it was cut short or changed"
fi

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
# The exact text of each line, without its line feed, in a file of its own: one sha256sum hashes them all.
awk -v dir="$work" '{ f = sprintf("%s/%012d", dir, NR); printf "%s", $0 > f; close(f) }' "$ledger"
(cd "$work" && find . -type f -name '[0-9]*' | sort | xargs -r sha256sum) > "$work/hashes"
# Each line's seq and prev ("- -" when the line does not start as a ledger entry does).
sed 's/^{"seq":\([0-9][0-9]*\),"prev":"\([0-9a-f]\{64\}\)".*/\1 \2/;t;s/.*/- -/' "$ledger" > "$work/links"
awk -v zero="$zero" '
  NR == FNR { h[FNR] = $1; next }
  {
    n = FNR
    if ($1 == "-") { print "FAIL: line " n " is not a ledger entry (it does not start with {\"seq\":N,\"prev\":\"<sha256>\")"; bad = 1; next }
    if ($1 != n) { print "FAIL: line " n " holds entry " $1 ": an entry was removed, inserted or reordered"; bad = 1 }
    want = (n == 1) ? zero : h[n - 1]
    if ($2 != want) { print "FAIL: line " n ": its prev is " $2 ", but the SHA-256 of line " (n - 1) " is " want ": line " (n - 1) " was edited, or a line was removed, inserted or reordered"; bad = 1 }
  }
  END { exit bad }
' "$work/hashes" "$work/links" || fail=1
n=$(wc -l < "$work/links")
n=$((n + 0))

# Sealed entries: the manifest each names must have the SHA-256 it records.
grep -n '^{"seq":[0-9]*,"prev":"[0-9a-f]*","at":"[^"]*","action":"sealed",' "$ledger" > "$work/sealed"
while IFS= read -r hit; do
  at=${hit%%:*}
  named=$(printf '%s\n' "$hit" | sed -n 's/.*"manifest":"cases\/[^/"]*\/\(_amber\/manifests\/[0-9A-Za-z._-]*\)","sha256":"\([0-9a-f]\{64\}\)".*/\1 \2/p')
  file=${named% *}
  want=${named#* }
  if [ -z "$named" ]; then
    bad "line $at is a sealed entry whose manifest and SHA-256 cannot be read"
  elif [ ! -f "$file" ]; then
    bad "line $at seals $file, which is missing"
  else
    have=$(sha256sum < "$file" | cut -d' ' -f1)
    [ "$have" = "$want" ] || bad "$file has SHA-256 $have, but line $at sealed it with $want: the manifest was changed"
  fi
done < "$work/sealed"

newest=0
previous=
for cp in _amber/checkpoints/*.json; do
  [ -f "$cp" ] || continue
  text=$(cat "$cp")
  cseq=$(printf '%s\n' "$text" | sed -n 's/^{"case":"[^"]*","seq":\([0-9][0-9]*\),.*/\1/p')
  csha=$(printf '%s\n' "$text" | sed -n 's/^{"case":"[^"]*","seq":[0-9][0-9]*,"sha256":"\([0-9a-f]\{64\}\)".*/\1/p')
  if [ -z "$cseq" ] || [ -z "$csha" ]; then
    bad "$cp is not a readable checkpoint"
    continue
  fi
  if [ "$cseq" -gt "$n" ]; then
    bad "$cp anchors entry $cseq, but the ledger has $n lines: entries were removed from its end"
  else
    have=$(sed -n "${cseq}p" "$work/hashes" | cut -c1-64)
    [ "$have" = "$csha" ] || bad "$cp anchors entry $cseq with SHA-256 $csha, but line $cseq hashes to $have: that line was edited"
  fi
  pprev=$(printf '%s\n' "$text" | sed -n 's/.*"prev":{"seq":[0-9][0-9]*,"sha256":"\([0-9a-f]\{64\}\)"}.*/\1/p')
  if [ -n "$previous" ] && [ -n "$pprev" ]; then
    was=$(sha256sum < "$previous" | cut -d' ' -f1)
    [ "$was" = "$pprev" ] || bad "$cp names a previous checkpoint with SHA-256 $pprev, but $previous hashes to $was"
  fi
  previous=$cp
  [ "$cseq" -gt "$newest" ] && newest=$cseq
done
if [ "$newest" -ne "$n" ]; then
  bad "the newest checkpoint anchors entry $newest, but the ledger has $n entries: its end is not anchored"
fi

if [ "$fail" -eq 0 ]; then
  echo "OK: $n ledger entries chained; the last one anchored by a checkpoint; every sealed manifest matches"
fi
exit "$fail"
