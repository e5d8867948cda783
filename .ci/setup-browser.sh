#!/usr/bin/env bash
# Browser for the end-to-end tests of the web page (tests/test_serve_browser.py, issue 5):
# Debian's chromium (driven by Playwright for Python; Playwright's own browser download is
# not used) and fonts for Cyrillic (DejaVu) and Devanagari (Lohit) so screenshots of the
# samples render their text. Run as root on Debian 12 by .ci/run. Idempotent: installs only
# what is missing, and does nothing at all when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(chromium fonts-dejavu-core fonts-lohit-deva)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-browser: missing ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  echo "setup-browser: installed ${missing[*]}"
fi

test -x /usr/bin/chromium
if [ -e .ci/services.env ] && ! grep -q '^NARRASCOPE_CHROMIUM=' .ci/services.env; then
  echo "NARRASCOPE_CHROMIUM=/usr/bin/chromium" >> .ci/services.env
fi
