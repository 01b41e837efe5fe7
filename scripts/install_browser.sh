#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the browser tests (tests/web/test_e2e.py).
# Idempotent and quiet: does nothing when both are already installed. Debian's
# packages, so nothing is downloaded at test time (Selenium Manager is not used).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

if [ -x "$CHROMIUM" ] && [ -x "$DRIVER" ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "install_browser.sh: chromium is missing and this user cannot install packages; browser tests will be skipped" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >/dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null

if [ -x "$CHROMIUM" ] && [ -x "$DRIVER" ]; then
  echo "install_browser.sh: $("$CHROMIUM" --version 2>/dev/null | head -n1) and chromedriver installed"
else
  echo "install_browser.sh: chromium or chromedriver still missing after apt-get install" >&2
  exit 1
fi
