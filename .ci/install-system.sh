#!/usr/bin/env bash
# System packages the tests need on a fresh Debian machine. Idempotent.
set -euo pipefail
PACKAGES=(
  # Qt offscreen (PySide6 wizard tests) and Korean glyphs
  libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0 fonts-nanum
  # ODBC: driver manager and the drivers users have (SQLite, MariaDB, PostgreSQL, FreeTDS for SQL Server)
  unixodbc unixodbc-dev libsqliteodbc odbc-mariadb odbc-postgresql tdsodbc
  # Real database servers the tests start on 127.0.0.1
  mariadb-server mariadb-client postgresql
  # openssl CLI: an independent CMS verifier in the bundle tests
  openssl
  # Locale data: the GUI and CLI tests also run under ko_KR.UTF-8, the founder's desktop (see below)
  locales
  # makensis: tests/test_installer.py compiles the Windows installer script (installer/emr-exporter.nsi)
  nsis
)
# Node.js + npm: the upload interop tests run two independent tus servers from npm (.ci/node/package.json).
# A node already on the machine (>= 20.19, which @tus/server needs) is used as it is.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi
node_too_old() {  # @tus/server 2.4.5 needs Node >= 20.19; Debian bookworm's own nodejs is 18
  command -v node >/dev/null 2>&1 && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a==20&&b>=19)?1:0)'
}
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive TMPDIR=/var/tmp
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# ko_KR.UTF-8: what a Korean desktop runs the program in. strftime, Qt's setlocale and the default file
# encoding follow it, so the GUI and CLI tests run under it too (.ci/run, tests/conftest.py korean_locale).
if ! locale -a 2>/dev/null | grep -qi '^ko_KR\.utf-\?8$'; then
  sed -i 's/^# *\(ko_KR.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  grep -q '^ko_KR.UTF-8 UTF-8' /etc/locale.gen || echo 'ko_KR.UTF-8 UTF-8' >> /etc/locale.gen
  locale-gen >/dev/null
fi
if node_too_old; then
  echo "warning: Node $(node --version) is older than 20.19, which @tus/server (upload interop tests) needs;" \
       "install Node 20 LTS or newer (e.g. from nodesource) before .ci/run." >&2
fi
