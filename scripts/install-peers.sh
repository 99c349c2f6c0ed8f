#!/usr/bin/env bash
# Installs the Debian programs the tests talk to (real peers, not mocks). As root it installs
# what is missing; otherwise it names the command to run. Under CI=true a missing peer fails.
set -u
need=(socat:socat mosquitto:mosquitto mosquitto_sub:mosquitto-clients gpsfake:gpsd-clients gpsd:gpsd chromium:chromium mbpoll:mbpoll openssl:openssl systemd-analyze:systemd script:bsdutils)
missing=()
for pair in "${need[@]}"; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$pkg")
done
# The receiver's tests start a real PostgreSQL server (test/helpers/postgres.ts).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
/usr/bin/python3 -c 'import pymodbus' >/dev/null 2>&1 || missing+=(python3-pymodbus)
# pymodbus 3.0 imports serial_asyncio whenever its server module loads, TCP too.
/usr/bin/python3 -c 'import serial_asyncio' >/dev/null 2>&1 || missing+=(python3-serial-asyncio)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-peers: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "install-peers: apt-get install ${missing[*]} failed" >&2; exit 1; }
  exit 0
fi
echo "install-peers: the tests need these Debian packages: ${missing[*]}" >&2
echo "install-peers: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
[ "${CI:-}" = true ] && exit 1
echo "install-peers: tests that need them will fail until they are installed" >&2
exit 0
