#!/bin/sh
# Install Debian packages only when they are missing: by default what the test suite needs (Dovecot as the
# real IMAP server); `make` also calls it with python3-venv when the interpreter cannot create a venv.
set -eu
PKGS="${*:-dovecot-imapd}"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps the install small; dovecot is started by the tests, not by the system.
$SUDO apt-get install -y -qq --no-install-recommends $missing
# Debian starts the packaged service; the tests run their own instance, so stop the system one if it runs.
case "$missing" in *dovecot*) ;; *) exit 0 ;; esac
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop dovecot 2>/dev/null || true; fi
