/**
 * `check-ledger.sh`, shipped in every export bundle: checks the custody ledger's hash chain, its checkpoints and
 * the sealed manifests with POSIX sh and coreutils only (sha256sum, sed, cut, tail, wc), so someone without
 * Amber can run it. It relies on how Amber writes these files: one JSON entry per line, each line ended by a line
 * feed (LF), starting `{"seq":N,"prev":"<64 hex>"`; checkpoints as one line `{"case":..,"seq":N,"sha256":"..",
 * "prev":{"seq":N,"sha256":".."}|null}`; a `sealed` entry's detail naming `"manifest":"cases/<case>/_amber/...",
 * "sha256":".."` side by side.
 */

/** The script's exact text (its bytes are part of the bundle and of SHA256SUMS). */
export const CHECK_LEDGER_SH = `#!/bin/sh
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

n=0
prev=$zero
while IFS= read -r line; do
  n=$((n + 1))
  seq=$(printf '%s\\n' "$line" | sed -n 's/^{"seq":\\([0-9][0-9]*\\),"prev":"[0-9a-f]\\{64\\}".*/\\1/p')
  got=$(printf '%s\\n' "$line" | sed -n 's/^{"seq":[0-9][0-9]*,"prev":"\\([0-9a-f]\\{64\\}\\)".*/\\1/p')
  if [ -z "$got" ]; then
    bad "line $n is not a ledger entry (it does not start with {\\"seq\\":N,\\"prev\\":\\"<sha256>\\")"
  else
    [ "$seq" = "$n" ] || bad "line $n holds entry $seq: an entry was removed, inserted or reordered"
    [ "$got" = "$prev" ] || bad "line $n: its prev is $got, but the SHA-256 of line $((n - 1)) is $prev: line $((n - 1)) was edited, or a line was removed, inserted or reordered"
  fi
  case $line in
    *'"action":"sealed"'*)
      named=$(printf '%s\\n' "$line" | sed -n 's/.*"manifest":"cases\\/[^/"]*\\/\\(_amber\\/manifests\\/[0-9A-Za-z._-]*\\)","sha256":"\\([0-9a-f]\\{64\\}\\)".*/\\1 \\2/p')
      file=\${named% *}
      want=\${named#* }
      if [ -z "$named" ]; then
        bad "line $n is a sealed entry whose manifest and SHA-256 cannot be read"
      elif [ ! -f "$file" ]; then
        bad "line $n seals $file, which is missing"
      else
        have=$(sha256sum < "$file" | cut -d' ' -f1)
        [ "$have" = "$want" ] || bad "$file has SHA-256 $have, but line $n sealed it with $want: the manifest was changed"
      fi
      ;;
  esac
  prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
done < "$ledger"

newest=0
previous=
for cp in _amber/checkpoints/*.json; do
  [ -f "$cp" ] || continue
  text=$(cat "$cp")
  cseq=$(printf '%s\\n' "$text" | sed -n 's/^{"case":"[^"]*","seq":\\([0-9][0-9]*\\),.*/\\1/p')
  csha=$(printf '%s\\n' "$text" | sed -n 's/^{"case":"[^"]*","seq":[0-9][0-9]*,"sha256":"\\([0-9a-f]\\{64\\}\\)".*/\\1/p')
  if [ -z "$cseq" ] || [ -z "$csha" ]; then
    bad "$cp is not a readable checkpoint"
    continue
  fi
  if [ "$cseq" -gt "$n" ]; then
    bad "$cp anchors entry $cseq, but the ledger has $n lines: entries were removed from its end"
  else
    have=$(sed -n "\${cseq}p" "$ledger")
    have=$(printf '%s' "$have" | sha256sum | cut -d' ' -f1)
    [ "$have" = "$csha" ] || bad "$cp anchors entry $cseq with SHA-256 $csha, but line $cseq hashes to $have: that line was edited"
  fi
  pprev=$(printf '%s\\n' "$text" | sed -n 's/.*"prev":{"seq":[0-9][0-9]*,"sha256":"\\([0-9a-f]\\{64\\}\\)"}.*/\\1/p')
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
`;
