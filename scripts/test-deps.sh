#!/usr/bin/env bash
# Debian packages the test suite needs besides Node.js, installed with apt-get when missing (root or sudo):
#   poppler-utils   pdftotext and pdfinfo, which read the court papers' PDFs back in the tests
#   openssl         the timestamp authority of the tests (openssl ts) and the export bundle's signature checks
#   unzip           the export bundle tests unzip a handover zip as its recipient would
# Usage: bash scripts/test-deps.sh        (prints what it installs; does nothing when all are present)
set -euo pipefail

fail() {
  echo "test-deps: $*" >&2
  exit 1
}

missing=()
command -v pdftotext >/dev/null && command -v pdfinfo >/dev/null || missing+=(poppler-utils)
command -v openssl >/dev/null || missing+=(openssl)
command -v unzip >/dev/null && command -v zipinfo >/dev/null || missing+=(unzip)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || fail "missing ${missing[*]} and installing needs root; run as root or: apt-get install ${missing[*]}"
  SUDO=sudo
fi
echo "test-deps: installing ${missing[*]}" >&2
apt_log=$(mktemp -t test-deps-apt.XXXXXX.log)
if ! ($SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >"$apt_log" 2>&1; then
  tail -n 20 "$apt_log" >&2
  fail "installing ${missing[*]} failed; full log: $apt_log"
fi
rm -f "$apt_log"
