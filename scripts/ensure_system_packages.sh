#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks need, if they are missing:
# Chromium for the browser tests (Playwright drives Debian's build, never a downloaded one),
# wrk for the load benchmarks, gettext for the translations, fonts for the PDFs.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v pgbench >/dev/null 2>&1 || missing+=(postgresql-contrib)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# WeasyPrint subsets fonts with HarfBuzz; without it, it warns (an error under pytest).
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || missing+=(libharfbuzz-subset0)

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installation des paquets système manquants : ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
