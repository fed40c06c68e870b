#!/bin/bash
#
# nginx_dav.sh: a WebDAV server (nginx + dav + dav-ext) on 127.0.0.1.
#
#   nginx_dav.sh start STATE HTTP_PORT HTTPS_PORT CERTDIR USER PASSWORD
#   nginx_dav.sh stop STATE
#
# STATE is a fresh directory for the configuration, logs, temp files and
# the served tree (STATE/data).  CERTDIR holds server.pem and server.key
# (tests/servers/mkca.sh).  Every location asks for USER/PASSWORD (basic
# authentication):
#   /         dav_methods PUT DELETE MKCOL COPY MOVE, PROPFIND, OPTIONS
#   /nomove/  the same without COPY and MOVE (a server that refuses MOVE)
#   /broken/  answers 503 to everything
#   /moved/   redirects (301) to the same path over HTTPS
# start returns once both ports answer; nginx runs in the background with
# its pid in STATE/nginx.pid.

set -euo pipefail

MODULE=/usr/lib/nginx/modules/ngx_http_dav_ext_module.so

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
	local state=$1 http=$2 https=$3 certs=$4 user=$5 pass=$6 runas=""

	[ -x /usr/sbin/nginx ] || { echo "nginx is not installed" >&2; return 77; }
	[ -f "$MODULE" ] || { echo "libnginx-mod-http-dav-ext is not installed" >&2; return 77; }
	mkdir -p "$state/data/nomove" "$state/tmp"
	printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$pass")" >"$state/htpasswd"
	# Workers must be able to write the tree the test owns.
	[ "$(id -u)" -eq 0 ] && runas="user root root;"
	local dav="
		auth_basic \"arca test\";
		auth_basic_user_file $state/htpasswd;
		dav_ext_methods PROPFIND OPTIONS;
		dav_access user:rw group:r all:r;
		min_delete_depth 0;
		create_full_put_path off;"
	cat >"$state/nginx.conf" <<EOF
load_module $MODULE;
$runas
worker_processes 1;
daemon off;
pid $state/nginx.pid;
error_log $state/error.log info;
events { worker_connections 64; }
http {
	access_log $state/access.log;
	client_body_temp_path $state/tmp/body;
	proxy_temp_path $state/tmp/proxy;
	fastcgi_temp_path $state/tmp/fastcgi;
	uwsgi_temp_path $state/tmp/uwsgi;
	scgi_temp_path $state/tmp/scgi;
	client_max_body_size 0;
	server {
		listen 127.0.0.1:$http;
		listen 127.0.0.1:$https ssl;
		ssl_certificate $certs/server.pem;
		ssl_certificate_key $certs/server.key;
		root $state/data;
		location / {
			$dav
			dav_methods PUT DELETE MKCOL COPY MOVE;
		}
		location /nomove/ {
			$dav
			dav_methods PUT DELETE MKCOL;
		}
		location /broken/ {
			return 503;
		}
		location /moved/ {
			return 301 https://127.0.0.1:$https\$request_uri;
		}
	}
}
EOF
	/usr/sbin/nginx -e "$state/error.log" -c "$state/nginx.conf" \
	    >"$state/stdout.log" 2>&1 &
	echo $! >"$state/launcher.pid"
	if ! wait_port "$http" || ! wait_port "$https"; then
		cat "$state/error.log" "$state/stdout.log" >&2 || true
		stop "$state"
		echo "nginx did not start" >&2
		return 1
	fi
}

stop() {
	local state=$1 pid i
	for f in nginx.pid launcher.pid; do
		[ -f "$state/$f" ] || continue
		pid=$(cat "$state/$f")
		kill "$pid" 2>/dev/null || continue
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -f "$state/nginx.pid" "$state/launcher.pid"
}

case ${1:-} in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
*) echo "usage: nginx_dav.sh start STATE HTTP_PORT HTTPS_PORT CERTDIR USER PASSWORD | stop STATE" >&2; exit 2 ;;
esac
