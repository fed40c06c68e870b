#!/bin/bash
#
# apache_dav.sh: a WebDAV server (Apache httpd, mod_dav + mod_dav_fs) on
# 127.0.0.1 with digest authentication, the second opinion to nginx:
# closer to RFC 4918, and the one that speaks digest.
#
#   apache_dav.sh start STATE PORT USER PASSWORD
#   apache_dav.sh stop STATE
#
# STATE is a fresh directory (it is made traversable, and the served tree
# STATE/data writable, by the user Apache's children run as when started
# as root).  Realm "arca-test".  start returns once the port answers;
# httpd runs in the background with its pid in STATE/httpd.pid.

set -euo pipefail

MODS=/usr/lib/apache2/modules
REALM=arca-test

wait_port() {
	local port=$1 i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

start() {
	local state=$1 port=$2 user=$3 pass=$4 m ha1 runas=""

	[ -x /usr/sbin/apache2 ] || { echo "apache2 is not installed" >&2; return 77; }
	mkdir -p "$state/data" "$state/run"
	ha1=$(printf '%s:%s:%s' "$user" "$REALM" "$pass" | md5sum | cut -d' ' -f1)
	printf '%s:%s:%s\n' "$user" "$REALM" "$ha1" >"$state/htdigest"
	if [ "$(id -u)" -eq 0 ]; then
		# httpd will not run its children as root.
		runas="User www-data
Group www-data"
		chmod 755 "$state"
		chown -R www-data:www-data "$state/data" "$state/run"
		chmod 644 "$state/htdigest"
	fi
	{
		for m in mpm_prefork authn_core authn_file authz_core authz_user \
		    auth_digest dav dav_fs alias; do
			echo "LoadModule ${m}_module $MODS/mod_$m.so"
		done
		cat <<EOF
$runas
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $state/httpd.pid
DefaultRuntimeDir $state/run
ErrorLog $state/error.log
LogFormat "%h %u \"%r\" %>s" short
CustomLog $state/access.log short
StartServers 2
MinSpareServers 1
MaxSpareServers 3
DocumentRoot $state/data
DavLockDB $state/run/davlock
<Directory $state/data>
	Dav On
	AuthType Digest
	AuthName "$REALM"
	AuthDigestDomain /
	AuthDigestProvider file
	AuthUserFile $state/htdigest
	Require valid-user
</Directory>
EOF
	} >"$state/httpd.conf"
	# Its own session: on shutdown, prefork signals its whole process
	# group, which would otherwise be the test's.
	setsid /usr/sbin/apache2 -f "$state/httpd.conf" -DFOREGROUND \
	    >"$state/stdout.log" 2>&1 </dev/null &
	echo $! >"$state/launcher.pid"
	if ! wait_port "$port"; then
		cat "$state/error.log" "$state/stdout.log" >&2 || true
		stop "$state"
		echo "apache did not start" >&2
		return 1
	fi
}

stop() {
	local state=$1 pid i f
	for f in httpd.pid launcher.pid; do
		[ -f "$state/$f" ] || continue
		pid=$(cat "$state/$f")
		kill "$pid" 2>/dev/null || continue
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -f "$state/httpd.pid" "$state/launcher.pid"
}

case ${1:-} in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) echo "usage: apache_dav.sh start STATE PORT USER PASSWORD | stop STATE" >&2; exit 2 ;;
esac
