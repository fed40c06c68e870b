#!/usr/bin/env bash
# swift.sh: a real OpenStack Swift with the s3api middleware on 127.0.0.1,
# for the S3 tests (facts: /work/shared/servers.md).
#
#   swift.sh start DIR [TLSDIR]
#			configure and start proxy, account, container and
#			object servers with everything under DIR; writes
#			DIR/env (S3_ENDPOINT, S3_HOSTPORT, S3_ACCESS_KEY,
#			S3_SECRET_KEY, S3_REGION) and returns once S3
#			answers.  With TLSDIR (server.pem and server.key,
#			as tests/servers/mkca.sh makes them), a second
#			proxy serves HTTPS too: S3_TLS_HOSTPORT
#   swift.sh stop DIR	stop the servers started for DIR
#
# Four foreground processes with workers = 0 (no forking), rings built in
# process, tempauth with one admin user.  Logs go to DIR/log/*.log.
# Sourcing scripts should call "stop" from an EXIT trap.
set -euo pipefail

PY=/usr/bin/python3
SERVERS="account container object proxy proxytls"

die() {
	echo "swift.sh: $*" >&2
	exit 1
}

# Ports nobody listens on right now; the kernel picks them.  A race with
# another program between here and the servers' bind is possible but
# would show as a failed start, not as talking to the wrong server.
free_ports() {
	$PY - "$1" <<-'EOF'
	import socket, sys
	socks = []
	for _ in range(int(sys.argv[1])):
	    s = socket.socket()
	    s.bind(("127.0.0.1", 0))
	    socks.append(s)
	print(" ".join(str(s.getsockname()[1]) for s in socks))
	EOF
}

write_conf() {
	local dir=$1 name=$2 port=$3 extra=$4
	cat >"$dir/$name-server.conf" <<-EOF
	[DEFAULT]
	bind_ip = 127.0.0.1
	bind_port = $port
	workers = 0
	user = $(id -un)
	swift_dir = $dir
	devices = $dir/srv
	mount_check = false
	log_level = WARNING
	$extra
	EOF
}

start() {
	local dir=$1 tls=${2:-} p pa pc po pp pt s
	[ -d "$dir" ] || die "no directory $dir"
	# find_spec, not import: importing Swift costs seconds here.
	$PY -c 'import importlib.util as u, sys
sys.exit(u.find_spec("swift") is None)' ||
		die "python3-swift is not installed (scripts/deps.sh)"
	mkdir -p "$dir/srv/sdb1" "$dir/log" "$dir/run"
	# Swift keeps metadata in user xattrs: say so plainly if unsupported.
	$PY -c 'import os,sys; os.setxattr(sys.argv[1], "user.t", b"1")' \
		"$dir/srv/sdb1" 2>/dev/null ||
		die "$dir does not support user xattrs (Swift needs them)"
	read -r pa pc po pp pt <<<"$(free_ports 5)"

	cat >"$dir/swift.conf" <<-EOF
	[swift-hash]
	swift_hash_path_suffix = arca-test-$$
	swift_hash_path_prefix = arca-test
	[storage-policy:0]
	name = gold
	default = yes
	EOF

	$PY - "$dir" "$pa" "$pc" "$po" <<-'EOF'
	import sys
	from swift.common.ring import RingBuilder
	d = sys.argv[1]
	for name, port in zip(("account", "container", "object"), sys.argv[2:]):
	    b = RingBuilder(6, 1, 1)
	    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1",
	               "port": int(port), "device": "sdb1", "weight": 100})
	    b.rebalance()
	    b.get_ring().save("%s/%s.ring.gz" % (d, name))
	EOF

	for s in account container object; do
		case $s in
		account) p=$pa ;;
		container) p=$pc ;;
		object) p=$po ;;
		esac
		write_conf "$dir" "$s" "$p" ""
		cat >>"$dir/$s-server.conf" <<-EOF
		[pipeline:main]
		pipeline = $s-server
		[app:$s-server]
		use = egg:swift#$s
		[$s-replicator]
		[$s-updater]
		[$s-auditor]
		EOF
	done

	# The S3 user: tempauth's access key is "account:user".
	write_conf "$dir" proxy "$pp" ""
	cat >>"$dir/proxy-server.conf" <<-EOF
	[pipeline:main]
	pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server
	[app:proxy-server]
	use = egg:swift#proxy
	account_autocreate = true
	[filter:tempauth]
	use = egg:swift#tempauth
	user_test_tester = arca-swift-S3cret .admin
	[filter:s3api]
	use = egg:swift#s3api
	location = us-east-1
	[filter:catch_errors]
	use = egg:swift#catch_errors
	[filter:gatekeeper]
	use = egg:swift#gatekeeper
	[filter:healthcheck]
	use = egg:swift#healthcheck
	[filter:proxy-logging]
	use = egg:swift#proxy_logging
	[filter:cache]
	use = egg:swift#memcache
	[filter:listing_formats]
	use = egg:swift#listing_formats
	[filter:bulk]
	use = egg:swift#bulk
	[filter:copy]
	use = egg:swift#copy
	[filter:slo]
	use = egg:swift#slo
	[filter:dlo]
	use = egg:swift#dlo
	EOF

	# The HTTPS proxy: the same pipeline and backends, another port.
	if [ -n "$tls" ]; then
		[ -r "$tls/server.pem" ] && [ -r "$tls/server.key" ] ||
			die "no server.pem and server.key in $tls"
		sed -e "s/^bind_port = $pp\$/bind_port = $pt/" \
		    -e "s|^\[DEFAULT\]\$|[DEFAULT]\ncert_file = $tls/server.pem\nkey_file = $tls/server.key|" \
		    "$dir/proxy-server.conf" >"$dir/proxytls-server.conf"
	fi

	for s in $SERVERS; do
		[ -f "$dir/$s-server.conf" ] || continue
		setsid $PY -c '
import sys
from swift.common.utils import set_swift_dir
from swift.common.wsgi import run_wsgi
# Read swift.conf from the temp dir, not /etc/swift, before validation.
set_swift_dir(sys.argv[3])
sys.exit(run_wsgi(sys.argv[1], sys.argv[2], verbose=True))
' "$dir/$s-server.conf" "${s%tls}-server" "$dir" \
			>"$dir/log/$s.log" 2>&1 </dev/null &
		echo $! >"$dir/run/$s.pid"
	done

	cat >"$dir/env" <<-EOF
	S3_ENDPOINT=http://127.0.0.1:$pp
	S3_HOSTPORT=127.0.0.1:$pp
	S3_ACCESS_KEY=test:tester
	S3_SECRET_KEY=arca-swift-S3cret
	S3_REGION=us-east-1
	EOF
	[ -z "$tls" ] || echo "S3_TLS_HOSTPORT=127.0.0.1:$pt" >>"$dir/env"

	# Ready when the proxy answers and the backend servers accept.
	for _ in $(seq 1 150); do
		if $PY - "$pp" "$pa" "$pc" "$po" ${tls:+"$pt"} <<-'EOF' 2>/dev/null
		import socket, sys, urllib.request
		for p in sys.argv[2:]:
		    socket.create_connection(("127.0.0.1", int(p)), 1).close()
		urllib.request.urlopen("http://127.0.0.1:%s/healthcheck" % sys.argv[1],
		                       timeout=2).read()
		EOF
		then
			return 0
		fi
		for s in $SERVERS; do
			[ -f "$dir/run/$s.pid" ] || continue
			kill -0 "$(cat "$dir/run/$s.pid")" 2>/dev/null || {
				cat "$dir/log/$s.log" >&2
				stop "$dir"
				die "the $s server exited during start"
			}
		done
		sleep 0.2
	done
	stop "$dir"
	die "Swift did not answer within 30 s (logs in $dir/log)"
}

stop() {
	local dir=$1 s pid
	for s in $SERVERS; do
		[ -f "$dir/run/$s.pid" ] || continue
		pid=$(cat "$dir/run/$s.pid")
		# setsid made each server a process group leader.
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	done
	for s in $SERVERS; do
		[ -f "$dir/run/$s.pid" ] || continue
		pid=$(cat "$dir/run/$s.pid")
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		rm -f "$dir/run/$s.pid"
	done
}

case ${1:-} in
start) start "${2:?usage: swift.sh start DIR [TLSDIR]}" "${3:-}" ;;
stop) stop "${2:?usage: swift.sh stop DIR}" ;;
*) die "usage: swift.sh start DIR [TLSDIR] | stop DIR" ;;
esac
