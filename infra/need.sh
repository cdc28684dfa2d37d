#!/usr/bin/env bash
# Make sure a Debian package's program is here: infra/need.sh <package> <program> [why]
# Installs it with apt when missing and apt is usable (as root); otherwise stops with the one
# command to run. Used by `make test` (chromium for the dashboard's browser test, prometheus for
# the metrics test) so that a fresh machine needs nothing done by hand.
set -euo pipefail
pkg=$1 program=$2 why=${3:-}
command -v "$program" >/dev/null 2>&1 && exit 0
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "need: installing Debian's $pkg${why:+ ($why)}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg"; } >/dev/null \
    || { echo "need: apt-get install $pkg failed" >&2; exit 1; }
  command -v "$program" >/dev/null 2>&1 || { echo "need: $pkg installed but $program is not on PATH" >&2; exit 1; }
  exit 0
fi
echo "need: $program is missing${why:+ ($why)}; run: sudo apt-get install -y $pkg" >&2
exit 1
