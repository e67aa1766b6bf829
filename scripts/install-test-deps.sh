#!/usr/bin/env bash
# Installs the system packages some tests use, only when missing (quick when
# already there): rsyslog and its omelasticsearch output module, for the
# vigil serve test that ships a file with rsyslog. Needs root (CI runs as
# root); without apt-get it says so and exits 0, and the test then skips.
set -euo pipefail

need=()
command -v rsyslogd >/dev/null 2>&1 || need+=(rsyslog)
have_omes=
for f in /usr/lib/*/rsyslog/omelasticsearch.so /usr/lib/rsyslog/omelasticsearch.so; do
	[ -e "$f" ] && have_omes=1
done
[ -n "$have_omes" ] || need+=(rsyslog-elasticsearch)
if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-test-deps: no apt-get; missing ${need[*]} (the rsyslog test will skip)" >&2
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-test-deps: not root; missing ${need[*]} (the rsyslog test will skip)" >&2
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# An update only when the package lists do not know the packages yet.
if ! apt-cache show rsyslog-elasticsearch >/dev/null 2>&1; then
	apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-test-deps: installed ${need[*]}"
