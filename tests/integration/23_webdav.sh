#!/bin/bash
#
# 23_webdav.sh: webdav:// and webdavs:// against a real nginx (dav +
# dav-ext) on 127.0.0.1, with basic authentication, over HTTP and over
# HTTPS with a throwaway CA.
#
# webdav://   password in the URL (with ':' and '@' escaped), a target path
#             with a space and a non-ASCII letter whose parents do not
#             exist yet (MKCOL): full, incremental,
#             collection-status, list-current-files (same as from a file://
#             copy), restore now and at the full's time, duplicity 0.8.22
#             restoring arca's target, remove-all-but-n-full (DELETE).
# webdavs://  password from FTP_PASSWORD, the CA from --ssl-cacert-file,
#             full, then duplicity's own incremental on
#             top, then arca's incremental, list and restore of the chain.
# Apache      mod_dav with digest authentication (the second server, the
#             one that speaks digest): full, incremental, collection-status,
#             restore, a wrong password.  (duplicity 0.8.22's own digest
#             login fails against Apache, so it is not asked to restore.)
# Refusals    no CA given (the machine's CURL_CA_BUNDLE/SSL_CERT_FILE point
#             at the system bundle, which must not make it trusted), another
#             CA given, --ssl-no-check-certificate (warns, works); wrong and
#             missing passwords (31); a missing target; a server that refuses
#             MOVE (upload in place, with a warning); a redirect (named,
#             not followed); 503s and a server that never answers (retried,
#             then exit 50).  The password appears
#             in no output.
# Everything runs --no-encryption: encryption is not the backend's business
# (and gpg is slow on a loaded machine).

. "$(dirname "$0")/lib.sh"
need openssl duplicity
[ -x /usr/sbin/nginx ] || skip "nginx is not installed"
[ -x /usr/sbin/apache2 ] || skip "apache2 is not installed"

SERVERS=$TESTS/servers
export HOME=$WORK/home
mkdir -p "$HOME"
BT=(1700003600 1700090000 1700176400)
PASSWD='S3cr:t@dav pw'
PWURL='S3cr%3At%40dav%20pw'
USR=arca
unset FTP_PASSWORD PASSPHRASE

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

BLACKHOLE_PID=
# Apache's children run as www-data when started as root: its state is
# outside the private $WORK.
APACHE=$(mktemp -d /tmp/arca-apache-XXXXXX)
cleanup() {
	bash "$SERVERS/nginx_dav.sh" stop "$WORK/nginx" || true
	bash "$SERVERS/apache_dav.sh" stop "$APACHE" || true
	rm -rf "$APACHE"
	[ -z "$BLACKHOLE_PID" ] || kill "$BLACKHOLE_PID" 2>/dev/null || true
	cleanup_work
}
trap cleanup EXIT

step "servers: CAs, nginx"
bash "$SERVERS/mkca.sh" "$WORK/ca"
bash "$SERVERS/mkca.sh" "$WORK/evil"
HTTP=$(free_port)
HTTPS=$(free_port)
bash "$SERVERS/nginx_dav.sh" start "$WORK/nginx" "$HTTP" "$HTTPS" "$WORK/ca" \
    "$USR" "$PASSWD" || fail "nginx did not start"
DATA=$WORK/nginx/data
CA=(--ssl-cacert-file "$WORK/ca/ca.pem")

# no_secret: the password is in none of the outputs so far
no_secret() {
	! grep -rqF -e "$PASSWD" -e "$PWURL" "$WORK/out" "$WORK/err" ||
	    fail "the password appears in arca's output"
}

# no_temps DIR: no upload left under a temp name
no_temps() {
	if ls -A "$1" | grep -q 'arca-tmp'; then
		ls -A "$1" >&2
		fail "temp files left in $1"
	fi
}

# ---------------------------------------------------------------- webdav://
SRC=$WORK/src
URL="webdav://$USR:$PWURL@127.0.0.1:$HTTP/arca%20t%C3%A9st/deep/er"
TGT="$DATA/arca tést/deep/er"
for p in 0 1; do
	mode=full
	[ "$p" = 1 ] && mode=incremental
	step "webdav: $mode (phase $p), and the same to file://"
	$MKTREE "$SRC" "$p"
	cp -a "$SRC" "$WORK/snap$p"
	expect_exit 0 arca "$mode" --no-encryption --volsize 1 --archive-dir "$WORK/c-dav" \
	    --current-time "${BT[$p]}" "$SRC" "$URL"
	no_secret
	expect_exit 0 arca "$mode" --no-encryption --volsize 1 --archive-dir "$WORK/c-file" \
	    --current-time "${BT[$p]}" "$SRC" "file://$WORK/file-tgt"
done
[ -d "$TGT" ] || fail "target collection not made"
grep -q '"MKCOL /arca%20t%C3%A9st/ HTTP/1.1" 201' "$WORK/nginx/access.log" ||
    fail "no MKCOL of the first missing parent"
grep -q '"MOVE /arca%20t%C3%A9st/deep/er/\.duplicity-full\.[0-9TZ]*\.vol1\.difftar\.gz\.arca-tmp-[0-9]* HTTP/1.1" 204' \
    "$WORK/nginx/access.log" || fail "volume not uploaded under a temp name and moved"
no_temps "$TGT"
diff <(ls "$TGT") <(ls "$WORK/file-tgt") >&2 ||
    fail "the webdav target does not hold the same files as the file:// one"
n=$(ls "$TGT" | grep -c '^duplicity-full\.[0-9TZ]*\.vol[0-9]*\.difftar\.gz$' || true)
[ "$n" -ge 2 ] || fail "full has $n volumes, want >= 2 with --volsize 1"

step "webdav: collection-status and list-current-files with a fresh cache"
expect_exit 0 arca collection-status --no-encryption --archive-dir "$WORK/c-dav2" "$URL"
no_secret
grep -q "Found primary backup chain" "$WORK/out" &&
    grep -Eq "^ *Incremental " "$WORK/out" &&
    grep -Eq "^ *Full " "$WORK/out" ||
    { cat "$WORK/out" >&2; fail "collection-status over webdav"; }
expect_exit 0 arca list-current-files --no-encryption --archive-dir "$WORK/c-dav3" "$URL"
cp "$WORK/out" "$WORK/ls-dav"
expect_exit 0 arca list-current-files --no-encryption --archive-dir "$WORK/c-file" \
    "file://$WORK/file-tgt"
diff "$WORK/ls-dav" "$WORK/out" >&2 ||
    fail "list-current-files over webdav differs from file://"
grep -q ' big\.bin$' "$WORK/ls-dav" || fail "list-current-files lacks big.bin"

step "webdav: restore (fresh cache), now and at the full's time"
expect_exit 0 arca restore --no-encryption --archive-dir "$WORK/c-dav4" "$URL" "$WORK/r1"
$TREECMP "$WORK/snap1" "$WORK/r1" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "restore over webdav differs from phase 1"; }
expect_exit 0 arca restore --no-encryption --archive-dir "$WORK/c-dav4" --time "${BT[0]}" \
    "$URL" "$WORK/r0"
$TREECMP "$WORK/snap0" "$WORK/r0" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "restore --time over webdav differs from phase 0"; }

step "webdav: duplicity 0.8.22 restores arca's webdav target"
FTP_PASSWORD=$PASSWD duplicity restore --no-encryption --archive-dir "$WORK/dcache" \
    "webdav://$USR@127.0.0.1:$HTTP/arca%20t%C3%A9st/deep/er" "$WORK/rd" \
    >"$WORK/dup.log" 2>&1 || { tail -n 30 "$WORK/dup.log" >&2; fail "duplicity restore over webdav"; }
$TREECMP "$WORK/snap1" "$WORK/rd" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "duplicity's restore differs from phase 1"; }

step "webdav: a second full, then remove-all-but-n-full 1 deletes the first chain"
expect_exit 0 arca full --no-encryption --archive-dir "$WORK/c-dav" --current-time "${BT[2]}" \
    "$SRC" "$URL"
expect_exit 0 arca remove-all-but-n-full 1 --force --no-encryption --archive-dir "$WORK/c-dav" "$URL"
no_secret
grep -q '"DELETE /arca%20t%C3%A9st/deep/er/duplicity-full\.[0-9TZ]*\.vol1\.difftar\.gz HTTP/1.1" 204' \
    "$WORK/nginx/access.log" || fail "no DELETE of the old chain's volumes"
old=$(date -u -d "@${BT[0]}" +%Y%m%dT%H%M%SZ)
! ls "$TGT" | grep -q "$old" || { ls "$TGT" >&2; fail "the old chain is still there"; }
ls "$TGT" | grep -q "duplicity-full\.$(date -u -d "@${BT[2]}" +%Y%m%dT%H%M%SZ)\.manifest" ||
    fail "the new full went missing"

# --------------------------------------------------------------- webdavs://
SURL="webdavs://$USR@127.0.0.1:$HTTPS/tls"
rm -rf "$SRC"
export FTP_PASSWORD=$PASSWD
step "webdavs: full (phase 0), FTP_PASSWORD and --ssl-cacert-file"
$MKTREE "$SRC" 0
expect_exit 0 arca full --no-encryption --volsize 1 "${CA[@]}" \
    --archive-dir "$WORK/c-s" --current-time "${BT[0]}" "$SRC" "$SURL"
no_temps "$DATA/tls"

step "webdavs: duplicity's incremental on top (phase 1)"
$MKTREE "$SRC" 1
duplicity incremental --no-encryption --volsize 1 "${CA[@]}" \
    --archive-dir "$WORK/dcache" --name s --current-time "${BT[1]}" \
    "$SRC" "$SURL" >"$WORK/dup.log" 2>&1 ||
    { tail -n 30 "$WORK/dup.log" >&2; fail "duplicity incremental over webdavs"; }

step "webdavs: arca's incremental (phase 2), status, list, restore"
$MKTREE "$SRC" 2
cp -a "$SRC" "$WORK/snap2"
expect_exit 0 arca incremental --no-encryption --volsize 1 "${CA[@]}" \
    --archive-dir "$WORK/c-s" --current-time "${BT[2]}" "$SRC" "$SURL"
expect_exit 0 arca collection-status --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c-s2" "$SURL"
[ "$(grep -Ec '^ *Incremental ' "$WORK/out")" = 2 ] ||
    { cat "$WORK/out" >&2; fail "collection-status over webdavs: want 2 incrementals"; }
expect_exit 0 arca list-current-files --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c-s3" "$SURL"
grep -q ' big\.bin$' "$WORK/out" || fail "list over webdavs lacks big.bin"
expect_exit 0 arca restore --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c-s4" "$SURL" "$WORK/rs"
$TREECMP "$WORK/snap2" "$WORK/rs" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "restore over webdavs differs from phase 2"; }
no_secret

step "Apache, digest authentication: full, incremental, status, restore"
APORT=$(free_port)
bash "$SERVERS/apache_dav.sh" start "$APACHE" "$APORT" "$USR" "$PASSWD" ||
    fail "apache did not start"
AURL="webdav://$USR@127.0.0.1:$APORT/apache/bk"
rm -rf "$SRC"
$MKTREE "$SRC" 0
expect_exit 0 arca full --no-encryption --volsize 1 --archive-dir "$WORK/c-ap" \
    --current-time "${BT[0]}" "$SRC" "$AURL"
$MKTREE "$SRC" 1
expect_exit 0 arca incremental --no-encryption --volsize 1 \
    --archive-dir "$WORK/c-ap" --current-time "${BT[1]}" "$SRC" "$AURL"
grep -q '"MKCOL /apache/ HTTP/1.1" 201' "$APACHE/access.log" ||
    fail "no MKCOL on Apache"
grep -q '^127.0.0.1 '"$USR"' "MOVE /apache/bk/\.duplicity-full\.[0-9TZ]*\.vol1\.difftar\.gz\.arca-tmp-[0-9]* HTTP/1.1" 201' \
    "$APACHE/access.log" || fail "no MOVE of a volume on Apache"
# The digest nonce is reused: not a 401 before every request.
[ "$(grep -c '" 401$' "$APACHE/access.log")" -le 4 ] ||
    fail "a digest challenge before every request"
no_temps "$APACHE/data/apache/bk"
expect_exit 0 arca collection-status --no-encryption --archive-dir "$WORK/c-ap2" "$AURL"
grep -Eq "^ *Incremental " "$WORK/out" ||
    { cat "$WORK/out" >&2; fail "collection-status over Apache"; }
expect_exit 0 arca restore --no-encryption --archive-dir "$WORK/c-ap3" "$AURL" "$WORK/ra"
$TREECMP "$WORK/snap1" "$WORK/ra" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "restore from Apache differs from phase 1"; }
FTP_PASSWORD=wrong expect_exit 31 arca collection-status --no-encryption \
    --archive-dir "$WORK/c-ap4" "$AURL"
expect_err "refused the login \(401\)"
no_secret

step "webdavs: an untrusted certificate is refused"
# No CA: the system bundle (CURL_CA_BUNDLE, SSL_CERT_FILE in this
# environment) does not know the throwaway CA.
expect_exit 50 arca collection-status --no-encryption \
    --archive-dir "$WORK/c-t1" "$SURL"
expect_err "TLS connection to https://127.0.0.1:$HTTPS failed"
! grep -q "retrying" "$WORK/err" || fail "a TLS failure was retried"
expect_exit 50 arca collection-status --no-encryption \
    --ssl-cacert-file "$WORK/evil/ca.pem" --archive-dir "$WORK/c-t2" "$SURL"
expect_err "TLS connection .* failed: .*certificate"
expect_exit 0 arca collection-status --no-encryption --ssl-no-check-certificate \
    --archive-dir "$WORK/c-t3" "$SURL"
expect_err "ssl-no-check-certificate"
expect_exit 2 arca collection-status --no-encryption \
    --ssl-cacert-file "$WORK/none.pem" "$SURL"
expect_err "cannot read --ssl-cacert-file"

step "refused logins, a missing target"
expect_exit 31 arca collection-status --no-encryption --archive-dir "$WORK/c-a" \
    "webdav://$USR:wrong@127.0.0.1:$HTTP/tls"
expect_err "refused the login \(401\): check the user name and password"
unset FTP_PASSWORD
expect_exit 31 arca collection-status --no-encryption --archive-dir "$WORK/c-a" \
    "webdav://$USR@127.0.0.1:$HTTP/tls"
expect_err "FTP_PASSWORD"
expect_exit 31 arca collection-status --no-encryption --archive-dir "$WORK/c-a" \
    "webdav://127.0.0.1:$HTTP/tls"
expect_err "give user\[:password\]@ in the URL"
export FTP_PASSWORD=$PASSWD
expect_exit 19 arca restore --no-encryption --archive-dir "$WORK/c-a" \
    "webdav://$USR@127.0.0.1:$HTTP/no/such/dir" "$WORK/rx"
expect_err "does not exist"
[ ! -e "$DATA/no" ] || fail "a restore created the missing target"
no_secret

step "a server that refuses MOVE: upload in place, with a warning"
expect_exit 0 arca full --no-encryption --volsize 1 --archive-dir "$WORK/c-nm" \
    --current-time "${BT[0]}" "$WORK/snap0" "webdav://$USR@127.0.0.1:$HTTP/nomove/t"
expect_err "refuses MOVE \(405\): uploading in place"
no_temps "$DATA/nomove/t"
expect_exit 0 arca restore --no-encryption --archive-dir "$WORK/c-nm2" \
    "webdav://$USR@127.0.0.1:$HTTP/nomove/t" "$WORK/rnm"
$TREECMP "$WORK/snap0" "$WORK/rnm" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "restore from the MOVE-less server"; }

step "a redirect is not followed, but named"
expect_exit 50 arca collection-status --no-encryption --archive-dir "$WORK/c-m" \
    "webdav://$USR@127.0.0.1:$HTTP/moved/t"
expect_err "redirects \(301\) to https://127.0.0.1:$HTTPS/moved/t/; give that address"

step "503s and a server that never answers: retried, then exit 50"
expect_exit 50 arca collection-status --no-encryption --archive-dir "$WORK/c-b" \
    --num-retries 2 --backend-retry-delay 0.1 \
    "webdav://$USR@127.0.0.1:$HTTP/broken/t"
expect_err "attempt 1 of 2"
expect_err "failed after 2 attempts: .*answered 503 Service Unavailable"
HOLE=$(free_port)
$PY -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(600)' "$HOLE" &
BLACKHOLE_PID=$!
sleep 0.5
start=$(date +%s)
expect_exit 50 arca collection-status --no-encryption --archive-dir "$WORK/c-h" \
    --num-retries 2 --backend-retry-delay 0.1 --timeout 1 \
    "webdav://$USR@127.0.0.1:$HOLE/t"
expect_err "failed after 2 attempts: .*(timed out|Timeout)"
[ $(($(date +%s) - start)) -lt 30 ] || fail "--timeout 1 took too long"
no_secret

echo "PASS: 23_webdav"
