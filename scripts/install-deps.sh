#!/bin/sh
# Installs what maildesk needs to build and test, from Debian 12's packages.
# Safe to run again: it does nothing when everything is installed.
set -eu

PACKAGES="build-essential autoconf automake pkg-config
libgmime-3.0-dev libglib2.0-dev libsqlite3-dev sqlite3 libcurl4-gnutls-dev
libetpan-dev libgnutls28-dev nettle-dev libjson-glib-dev libxml2-dev libytnef0-dev
python3 postfix swaks groff-base tzdata valgrind"
# tests/e2e/fetch.py: a real IMAP and POP3 server, and openssl for its
# test certificates
PACKAGES="$PACKAGES dovecot-imapd dovecot-pop3d openssl"
# tests/fuzz: clang with libFuzzer (libclang-rt-14-dev), and llvm for
# llvm-symbolizer, which makes the sanitizers' stack traces readable
PACKAGES="$PACKAGES clang libclang-rt-14-dev llvm"
# tests/e2e/lmtpd.py: strace shows lmtpd's fdatasync of the log comes
# before each 250
PACKAGES="$PACKAGES strace"

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing:$missing"
# Postfix must not ask questions nor start a system instance of its own
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
