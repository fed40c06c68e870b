#!/bin/bash
#
# 25_conformance.sh: one backend conformance suite (tests/conformance/
# conformance.c, driving the backend API as the engine does) run unchanged
# against every backend, each against a real server on 127.0.0.1:
#
#   file://    a local directory
#   sftp://    OpenSSH sshd (key login)         scp://  the same sshd
#   webdav://  nginx (basic)                    webdavs://  nginx over TLS
#   webdav://  Apache mod_dav (digest)
#   s3://      OpenStack Swift with s3api (SigV4 checked), chunks of 5 MiB
#   rclone://  rclone driving SFTP to the sshd
#   dpbx://    tests/servers/dropbox_emulator.py over TLS, upload sessions
#              above a lowered threshold
#
# Every target's path prefix holds a space and a non-ASCII letter.  Checks
# (see conformance.c): round trip, every name duplicity uses, a file over
# one multipart chunk, a listing of 1050 files with batch delete, a missing
# file, bad credentials, and a server that goes away mid-transfer (a TCP
# proxy, tests/conformance/cutproxy.py, that resets each connection after
# 1 MiB).  What cannot apply is said per backend with --na, and is short:
#   file://  badauth: no credentials; cut: no server or connection.
#   rclone://, dpbx://, s3://  many: arca does not put the 1050 files
#            itself (one rclone process per put, one HTTPS call per put
#            to the emulator, ~0.1 s per PUT on Swift: minutes); they are
#            made on the server (boto3 for S3, in parallel), then listed
#            and (batch-)deleted through the backend in a run of its own.
# rclone is given 25 s, not 10, to report a refused login: rclone itself
# tries the SSH connection again (its --low-level-retries, 10 by default,
# ~11 s) before it gives up; arca does not retry it.
# The S3 cut-off upload is a multipart one (6 MiB in 5 MiB parts).  The
# targets run in parallel groups: each waits mostly on its own server.

. "$(dirname "$0")/lib.sh"
need ssh-keygen rclone openssl
[ "$(id -u)" -eq 0 ] || skip "needs root (useradd for sshd)"

SERVERS=$TESTS/servers
CONF=${ARCA_UNIT_DIR:-$(dirname "$ARCA")/tests}/conformance
[ -x "$CONF" ] || fail "conformance not built (looked for $CONF)"
PROXY="$PY $TESTS/conformance/cutproxy.py"
CUT=1048576

export HOME=$WORK/home
mkdir -p "$HOME"
unset FTP_PASSWORD PASSPHRASE SSH_AUTH_SOCK AWS_SESSION_TOKEN AWS_REGION \
    AWS_DEFAULT_REGION DPBX_ACCESS_TOKEN DPBX_REFRESH_TOKEN DPBX_APP_KEY \
    DPBX_APP_SECRET ARCA_DROPBOX_API_URL ARCA_DROPBOX_CONTENT_URL
for v in $(env | sed -n 's/^\(RCLONE_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
export RCLONE_CONFIG=/dev/null
# rclone's S3 and others read it; our servers use their own CA.
unset AWS_CA_BUNDLE

DIRNAME='conf t%C3%A9st'	# in URLs
DIRREAL='conf tést'		# on disk
PWD_DAV='S3cr:t@dav pw'
PWURL='S3cr%3At%40dav%20pw'
USR=arca
APACHE=$(mktemp -d /tmp/arca-apache-XXXXXX)
PIDS=()
cleanup_conf() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	bash "$SERVERS/swift.sh" stop "$WORK/swift" 2>/dev/null || true
	bash "$SERVERS/nginx_dav.sh" stop "$WORK/nginx" 2>/dev/null || true
	bash "$SERVERS/apache_dav.sh" stop "$APACHE" 2>/dev/null || true
	bash "$SERVERS/sshd.sh" stop "$WORK/sshd" 2>/dev/null || true
	rm -rf "$APACHE"
	cleanup_work
}
trap cleanup_conf EXIT
# A CTest timeout sends TERM: stop the servers then too.
trap 'exit 143' TERM INT

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# proxy NAME HOST:PORT: a cutting proxy to HOST:PORT; sets PPORT
proxy() {
	local i
	$PROXY --target "$2" --cut "$CUT" --port-file "$WORK/$1.pport" \
	    2>"$WORK/$1.proxy.log" &
	PIDS+=($!)
	for i in $(seq 1 100); do
		[ -s "$WORK/$1.pport" ] && break
		sleep 0.05
	done
	[ -s "$WORK/$1.pport" ] || fail "proxy for $1 did not start"
	PPORT=$(cat "$WORK/$1.pport")
}

# conf NAME ARGS...: the suite against one backend; its output goes to
# $WORK/NAME.log, its exit status to $WORK/NAME.rc.  The backends run in
# parallel groups (each waits mostly on its server); report() shows them
# in order.
NAMES=()
conf() {
	local name=$1 t0=$SECONDS rc=0
	shift
	"$CONF" "$@" >"$WORK/$name.log" 2>&1 || rc=$?
	echo "  ($name: $((SECONDS - t0)) s, exit $rc)" >>"$WORK/$name.log"
	echo $rc >"$WORK/$name.rc"
}

report() {
	local name failed=()
	for name in "${NAMES[@]}"; do
		step "$name"
		sed 's/^/  /' "$WORK/$name.log" 2>/dev/null || echo "  no output"
		[ "$(cat "$WORK/$name.rc" 2>/dev/null)" = 0 ] || failed+=("$name")
		# The password given for the real logins appears nowhere.
		! grep -qF -e "$PWD_DAV" -e "$PWURL" "$WORK/$name.log" ||
		    failed+=("$name(password shown)")
	done
	[ ${#failed[@]} -eq 0 ] || fail "conformance failed for: ${failed[*]}"
}

step "servers: CA, sshd, nginx, Apache, Swift, the Dropbox emulator"
bash "$SERVERS/mkca.sh" "$WORK/ca"
CA=$WORK/ca/ca.pem
mkdir -p "$WORK/sshd"
bash "$SERVERS/sshd.sh" start "$WORK/sshd"
. "$WORK/sshd/env"
HTTP=$(free_port)
HTTPS=$(free_port)
bash "$SERVERS/nginx_dav.sh" start "$WORK/nginx" "$HTTP" "$HTTPS" "$WORK/ca" \
    "$USR" "$PWD_DAV" || fail "nginx did not start"
APORT=$(free_port)
bash "$SERVERS/apache_dav.sh" start "$APACHE" "$APORT" "$USR" "$PWD_DAV" ||
    fail "apache did not start"
mkdir "$WORK/swift"
bash "$SERVERS/swift.sh" start "$WORK/swift" || fail "Swift did not start"
. "$WORK/swift/env"
DTOK=arca-conformance-token-0123456789abcdef
mkdir -p "$WORK/dpbx"
$PY "$SERVERS/dropbox_emulator.py" --root "$WORK/dpbx/store" \
    --cert "$WORK/ca/server.pem" --key "$WORK/ca/server.key" \
    --port-file "$WORK/dpbx/port" --app-key conformancekey \
    --access-token "$DTOK" --page-size 500 \
    >"$WORK/dpbx/stdout" 2>"$WORK/dpbx/log" &
PIDS+=($!)
for i in $(seq 1 100); do
	[ -s "$WORK/dpbx/port" ] && break
	sleep 0.1
done
[ -s "$WORK/dpbx/port" ] || { cat "$WORK/dpbx/log" >&2; fail "the Dropbox emulator did not start"; }
DPORT=$(cat "$WORK/dpbx/port")

# ------------------------------------------------------------------ file://
mkdir -p "$WORK/$DIRREAL/file"
NAMES+=(file)
conf file "file://$WORK/$DIRREAL/file" \
    --na "badauth=file:// has no credentials" \
    --na "cut=file:// has no server or connection to lose" &

# ------------------------------------------------------ sftp://, scp://
# The proxy's port needs its own known_hosts line (same host key).
proxy ssh "127.0.0.1:$SSHD_PORT"
SSH_PPORT=$PPORT
KH=$WORK/known_hosts
cp "$SSHD_KNOWN_HOSTS" "$KH"
sed "s/^\[127.0.0.1\]:$SSHD_PORT /[127.0.0.1]:$PPORT /" "$SSHD_KNOWN_HOSTS" >>"$KH"
SSHO=(-o "ssh-options=-oIdentityFile=$SSHD_KEY -oUserKnownHostsFile=$KH")
NAMES+=(sftp scp)
for s in sftp scp; do
	conf "$s" "${SSHO[@]}" "$s://$SSHD_USER@127.0.0.1:$SSHD_PORT/$DIRNAME/$s" \
	    --bad-url "$s://nosuchuser:wrong-pw@127.0.0.1:$SSHD_PORT/$DIRNAME/$s" \
	    --bad-secret wrong-pw \
	    --cut-url "$s://$SSHD_USER@127.0.0.1:$PPORT/$DIRNAME/$s" &
done

# ------------------------------------------------------- webdav(s)://
NAMES+=(webdav-nginx webdavs-nginx webdav-apache)
proxy nginx "127.0.0.1:$HTTP"
N1=$PPORT
proxy nginxs "127.0.0.1:$HTTPS"
N2=$PPORT
proxy apache "127.0.0.1:$APORT"
N3=$PPORT
(
conf webdav-nginx "webdav://$USR:$PWURL@127.0.0.1:$HTTP/$DIRNAME/dav" \
    --bad-url "webdav://$USR:wrong-pw@127.0.0.1:$HTTP/$DIRNAME/dav" \
    --bad-secret wrong-pw \
    --cut-url "webdav://$USR:$PWURL@127.0.0.1:$N1/$DIRNAME/dav"
conf webdavs-nginx -o "ssl-cacert-file=$CA" \
    "webdavs://$USR:$PWURL@127.0.0.1:$HTTPS/$DIRNAME/davs" \
    --bad-url "webdavs://$USR:wrong-pw@127.0.0.1:$HTTPS/$DIRNAME/davs" \
    --bad-secret wrong-pw \
    --cut-url "webdavs://$USR:$PWURL@127.0.0.1:$N2/$DIRNAME/davs"
conf webdav-apache "webdav://$USR:$PWURL@127.0.0.1:$APORT/$DIRNAME/apache" \
    --bad-url "webdav://$USR:wrong-pw@127.0.0.1:$APORT/$DIRNAME/apache" \
    --bad-secret wrong-pw \
    --cut-url "webdav://$USR:$PWURL@127.0.0.1:$N3/$DIRNAME/apache"
) &

# -------------------------------------------------------------------- s3://
NAMES+=(s3-many s3)
proxy s3 "$S3_HOSTPORT"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
(
# Swift takes ~0.1 s per PUT: 1050 of them one after the other would be
# most of this test's time.  The many check lists and batch-deletes files
# that boto3 (python3-boto3) puts in parallel.
S3_ENDPOINT=$S3_ENDPOINT S3_ACCESS_KEY=$S3_ACCESS_KEY S3_SECRET_KEY=$S3_SECRET_KEY \
    $PY - "arca-conf" "$DIRREAL/s3many/" <<'EOF' || fail "seeding S3 with boto3"
import concurrent.futures, os, sys
import boto3, botocore.config
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"],
                  aws_access_key_id=os.environ["S3_ACCESS_KEY"],
                  aws_secret_access_key=os.environ["S3_SECRET_KEY"],
                  region_name="us-east-1",
                  config=botocore.config.Config(
                      signature_version="s3v4", max_pool_connections=16,
                      s3={"addressing_style": "path"}))
bucket, prefix = sys.argv[1], sys.argv[2]
try:
    s3.create_bucket(Bucket=bucket)
except s3.exceptions.ClientError:
    pass
with concurrent.futures.ThreadPoolExecutor(12) as ex:
    list(ex.map(lambda i: s3.put_object(Bucket=bucket, Body=b"x",
                Key="%smany-%05d" % (prefix, i)), range(1050)))
EOF
conf s3-many -o s3-unencrypted-connection \
    "s3://$S3_HOSTPORT/arca-conf/$DIRNAME/s3many" --only many --many-seeded
conf s3 -o s3-unencrypted-connection -o s3-multipart-chunk-size=5 \
    --na "many=the 1050 files are put by boto3 in parallel (Swift is slow per PUT), listed and batch-deleted in the run above" \
    --cut-mib 6 \
    "s3://$S3_HOSTPORT/arca-conf/$DIRNAME/s3" \
    --bad-env AWS_SECRET_ACCESS_KEY=wrong-secret-key --bad-secret wrong-secret-key \
    --cut-url "s3://127.0.0.1:$PPORT/arca-conf/$DIRNAME/s3"
) &

# ---------------------------------------------------------------- rclone://
RC=":sftp,host=127.0.0.1,user=$SSHD_USER,key_file=$SSHD_KEY,known_hosts_file=$KH"
mkdir -p "$SSHD_HOME/$DIRREAL/rclone"
for i in $(seq -f %05g 0 1049); do
	printf x >"$SSHD_HOME/$DIRREAL/rclone/many-$i"
done
chown -R "$SSHD_USER:" "$SSHD_HOME/$DIRREAL"
NAMES+=(rclone-many rclone)
(
conf rclone-many "rclone://$RC,port=$SSHD_PORT:$DIRREAL/rclone" \
    --only many --many-seeded
rm -rf "$SSHD_HOME/$DIRREAL/rclone"
conf rclone "rclone://$RC,port=$SSHD_PORT:$DIRREAL/rclone" \
    --na "many=rclone runs one process per put: the 1050 files are made on the server, listed and deleted through rclone in the run above" \
    --bad-url "rclone://:sftp,host=127.0.0.1,port=$SSHD_PORT,user=nosuchuser,key_file=$SSHD_KEY,known_hosts_file=$KH:$DIRREAL/rclone" \
    --bad-max 25 \
    --cut-url "rclone://$RC,port=$SSH_PPORT:$DIRREAL/rclone"
) &

# ------------------------------------------------------------------ dpbx://
# The emulator keeps files as files: the 1050 are made there (one HTTPS
# call per put takes a minute), listed and deleted through the backend.
mkdir -p "$WORK/dpbx/store/$DIRREAL/dpbxmany"
for i in $(seq -f %05g 0 1049); do
	printf x >"$WORK/dpbx/store/$DIRREAL/dpbxmany/many-$i"
done
NAMES+=(dpbx-many dpbx)
proxy dpbx "127.0.0.1:$DPORT"
export DPBX_ACCESS_TOKEN=$DTOK
export ARCA_DROPBOX_API_URL=https://127.0.0.1:$DPORT
export ARCA_DROPBOX_CONTENT_URL=https://127.0.0.1:$DPORT
(
conf dpbx-many -o "ssl-cacert-file=$CA" "dpbx:///$DIRNAME/dpbxmany" \
    --only many --many-seeded
conf dpbx -o "ssl-cacert-file=$CA" -o dpbx-upload-threshold=4M \
    --na "many=the 1050 files are made in the emulator's store, listed and deleted through the backend in the run above" \
    "dpbx:///$DIRNAME/dpbx" \
    --bad-env DPBX_ACCESS_TOKEN=wrong-token-0123456789 \
    --bad-secret wrong-token-0123456789 \
    --cut-env "ARCA_DROPBOX_API_URL=https://127.0.0.1:$PPORT" \
    --cut-env "ARCA_DROPBOX_CONTENT_URL=https://127.0.0.1:$PPORT"
) &

step "running the suite against ${#NAMES[@]} targets in parallel groups"
wait_all() {
	local p
	for p in $(jobs -p); do
		case " ${PIDS[*]} " in
		*" $p "*) ;;	# a server or proxy: runs until the end
		*) wait "$p" || true ;;
		esac
	done
}
wait_all
report
echo "all backends conform ($SECONDS s)"
