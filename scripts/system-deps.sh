#!/usr/bin/env bash
# Install the Debian packages the test suite runs for real (PostgreSQL, Dovecot, Chromium,
# CJK fonts, QR and PDF tools). Does nothing when everything is already there.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || have pg_ctl || need+=(postgresql)
have dovecot || need+=(dovecot-imapd)
have chromium || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
have zbarimg || need+=(zbar-tools)
have pdftotext || need+=(poppler-utils)
python3 -c "import ensurepip" 2>/dev/null || need+=(python3-venv)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! have apt-get; then
  echo "Missing system packages: ${need[*]}. Install them (Debian/Ubuntu: apt-get install ${need[*]})." >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
