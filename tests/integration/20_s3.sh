#!/bin/bash
#
# 20_s3.sh: the S3 backend against a real OpenStack Swift with s3api on
# 127.0.0.1 (tests/servers/swift.sh), which checks every SigV4 signature,
# Content-MD5 and multipart part size as AWS does.
#
# Round trip  s3://host:port/bucket/prefix, encrypted: full, incremental,
#             collection-status, list-current-files, restore now and at
#             the full's time; the same target read through
#             s3:///bucket/prefix and s3+http://bucket/prefix with
#             --s3-endpoint-url, and over HTTPS with --ssl-cacert-file
#             (refused without it, or with another CA); a second full,
#             then remove-all-but-n-full and cleanup delete what they
#             should.
# Cross-check boto3 (Debian's python3-boto3) lists exactly the files arca
#             lists, and every volume it downloads has the SHA1 that the
#             (decrypted) manifest records.
# Multipart   --volsize above --s3-multipart-chunk-size: the volume is a
#             multipart object (ETag "-N") and restores.
# Paging      1001 other objects under a prefix sort before the backup's:
#             only ListObjectsV2 continuation finds the chain.
# Backend     test_s3's live tests drive the backend through the core's
#             interface: every character duplicity names use, empty and
#             multipart files, batch delete, a missing file, a wrong key,
#             a listing of more than 1000 files.
# Faults      through a proxy: a connection reset in the middle of an
#             upload and two 503 SlowDown answers are retried, and the
#             backup is whole.
# Refusals    wrong secret, missing credentials, missing bucket, wrong
#             region, a clock two hours off (faketime), a storage class
#             Swift does not offer, a refused port and a server that never
#             answers (retried, then exit 50).  The secret appears in no
#             output.

. "$(dirname "$0")/lib.sh"
need faketime

SERVERS=$TESTS/servers
UNIT=${ARCA_UNIT_DIR:-$(dirname "$ARCA")/tests}
[ -x "$UNIT/test_s3" ] || fail "test_s3 not built in $UNIT"
export HOME=$WORK/home
mkdir -p "$HOME"
unset PASSPHRASE AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION
BT=(1700003600 1700090000 1700176400)
PASS=arca-s3-pass

SEED_PID=
HOLE_PID=
FAULT_PID=
cleanup_s3() {
	[ -z "$SEED_PID" ] || kill "$SEED_PID" 2>/dev/null || true
	[ -z "$HOLE_PID" ] || kill "$HOLE_PID" 2>/dev/null || true
	[ -z "$FAULT_PID" ] || kill "$FAULT_PID" 2>/dev/null || true
	bash "$SERVERS/swift.sh" stop "$WORK/swift" || true
	cleanup_work
}
trap cleanup_s3 EXIT

step "server: Swift with s3api, over HTTP and HTTPS (a throwaway CA)"
bash "$SERVERS/mkca.sh" "$WORK/ca"
bash "$SERVERS/mkca.sh" "$WORK/evil"
mkdir "$WORK/swift"
bash "$SERVERS/swift.sh" start "$WORK/swift" "$WORK/ca" ||
    fail "Swift did not start"
. "$WORK/swift/env"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
BUCKET=arca-test
BASE=s3://$S3_HOSTPORT/$BUCKET
PLAIN=(--s3-unencrypted-connection)

# s3py CMD ARGS: boto3, path-style, SigV4, at the test server
cat >"$WORK/s3.py" <<'EOF'
import concurrent.futures, hashlib, os, re, subprocess, sys
import boto3, botocore.config
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"],
                  aws_access_key_id=os.environ["S3_ACCESS_KEY"],
                  aws_secret_access_key=os.environ["S3_SECRET_KEY"],
                  region_name="us-east-1",
                  config=botocore.config.Config(
                      signature_version="s3v4", max_pool_connections=16,
                      s3={"addressing_style": "path"}))
cmd, bucket = sys.argv[1], sys.argv[2]

def keys(prefix):
    out, tok = [], None
    while True:
        kw = {"Bucket": bucket, "Prefix": prefix}
        if tok:
            kw["ContinuationToken"] = tok
        r = s3.list_objects_v2(**kw)
        out += [o["Key"][len(prefix):] for o in r.get("Contents", [])]
        if not r.get("IsTruncated"):
            return out
        tok = r["NextContinuationToken"]

if cmd == "mkbucket":
    s3.create_bucket(Bucket=bucket)
elif cmd == "seed":
    prefix, n = sys.argv[3], int(sys.argv[4])
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        list(ex.map(lambda i: s3.put_object(
            Bucket=bucket, Key="%saaa-other-%05d" % (prefix, i), Body=b""),
            range(n)))
elif cmd == "keys":
    print("\n".join(sorted(keys(sys.argv[3]))))
elif cmd == "etag":
    print(s3.head_object(Bucket=bucket, Key=sys.argv[3])["ETag"])
elif cmd == "verify":
    # Every manifest's volume hashes match the objects boto3 downloads.
    prefix, passphrase = sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ""
    names = keys(prefix)
    nvol = 0
    for m in [k for k in names if ".manifest" in k]:
        data = s3.get_object(Bucket=bucket, Key=prefix + m)["Body"].read()
        if m.endswith(".gpg"):
            data = subprocess.run(
                ["gpg", "--batch", "--quiet", "--no-symkey-cache",
                 "--pinentry-mode", "loopback", "--passphrase", passphrase,
                 "--decrypt"], input=data, check=True,
                capture_output=True).stdout
        text = data.decode("utf-8", "replace")
        vols = re.findall(r"Volume (\d+):.*?Hash SHA1 ([0-9a-f]{40})", text,
                          re.S)
        if not vols:
            sys.exit("no volumes in " + m)
        stem = m.split(".manifest")[0]
        for n, sha in vols:
            vol = [k for k in names if k.startswith("%s.vol%s.difftar" %
                                                    (stem, n))]
            if len(vol) != 1:
                sys.exit("volume %s of %s: %r" % (n, m, vol))
            body = s3.get_object(Bucket=bucket, Key=prefix + vol[0])["Body"]
            got = hashlib.sha1(body.read()).hexdigest()
            if got != sha:
                sys.exit("%s: sha1 %s, manifest says %s" % (vol[0], got, sha))
            nvol += 1
    print("%d volumes verified" % nvol)
EOF
export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY
s3py() {
	$PY "$WORK/s3.py" "$@"
}

# x CODE CMD...: expect_exit, keeping every output for the secret check
x() {
	expect_exit "$@"
	cat "$WORK/out" "$WORK/err" >>"$WORK/all"
}

step "boto3 creates the bucket; 1001 other objects go in, in the background"
s3py mkbucket "$BUCKET" || fail "boto3 could not create the bucket"
s3py seed "$BUCKET" many/ 1001 >"$WORK/seed.log" 2>&1 &
SEED_PID=$!

SRC=$WORK/src
URL=$BASE/enc/dir
C=(--archive-dir "$WORK/cache" --name enc)
export PASSPHRASE=$PASS

step "encrypted full and incremental to $URL"
$MKTREE "$SRC" 0
cp -a "$SRC" "$WORK/snap0"
x 0 arca full "${PLAIN[@]}" "${C[@]}" --current-time "${BT[0]}" \
    "$SRC" "$URL"
$MKTREE "$SRC" 1
cp -a "$SRC" "$WORK/snap1"
x 0 arca incremental "${PLAIN[@]}" "${C[@]}" \
    --current-time "${BT[1]}" "$SRC" "$URL"

step "collection-status and list-current-files"
x 0 arca collection-status "${PLAIN[@]}" "${C[@]}" "$URL"
grep -q "Number of contained backup sets: 2" "$WORK/out" ||
    { cat "$WORK/out"; fail "collection-status does not show the chain"; }
x 0 arca list-current-files "${PLAIN[@]}" "${C[@]}" "$URL"
[ "$(wc -l <"$WORK/out")" -gt 10 ] || fail "list-current-files is short"

step "restore now and at the full's time"
x 0 arca restore "${PLAIN[@]}" "${C[@]}" "$URL" "$WORK/r1"
$TREECMP "$WORK/snap1" "$WORK/r1" >/dev/null || fail "restore differs"
x 0 arca restore "${PLAIN[@]}" "${C[@]}" --time "${BT[0]}" \
    "$URL" "$WORK/r0"
$TREECMP "$WORK/snap0" "$WORK/r0" >/dev/null || fail "restore --time differs"

step "boto3: the same files, and every volume matches its manifest"
s3py keys "$BUCKET" enc/dir/ >"$WORK/boto.list"
[ "$(wc -l <"$WORK/boto.list")" -eq 6 ] ||
    { cat "$WORK/boto.list"; fail "expected 6 objects (2 sets)"; }
s3py verify "$BUCKET" enc/dir/ "$PASS" >"$WORK/verify.out" ||
    fail "boto3 cross-check failed"
grep -q "^2 volumes verified" "$WORK/verify.out" || fail "verify: $(cat "$WORK/verify.out")"

step "the same target as s3:///bucket/prefix and s3+http://bucket/prefix"
for u in "s3:///$BUCKET/enc/dir" "s3+http://$BUCKET/enc/dir" \
    "s3://$BUCKET//enc//dir/"; do
	x 0 arca list-current-files --s3-endpoint-url "$S3_ENDPOINT" \
	    --archive-dir "$WORK/cache2" --name enc2 "$u"
	[ "$(wc -l <"$WORK/out")" -gt 10 ] || fail "$u: nothing listed"
done

step "HTTPS: s3://host:port and --s3-endpoint-url https://, CA given"
for e in "" "--s3-endpoint-url=https://$S3_TLS_HOSTPORT"; do
	u=s3://$S3_TLS_HOSTPORT/$BUCKET/enc/dir
	[ -z "$e" ] || u=s3:///$BUCKET/enc/dir
	x 0 arca list-current-files --ssl-cacert-file "$WORK/ca/ca.pem" $e \
	    --archive-dir "$WORK/cache2" --name enc3 "$u"
	[ "$(wc -l <"$WORK/out")" -gt 10 ] || fail "$u over HTTPS: nothing listed"
done
# The machine's CA bundle variables must not make the test CA trusted, nor
# another CA.
x 50 arca list-current-files --num-retries 1 --archive-dir "$WORK/cache2" \
    --name enc3 "s3://$S3_TLS_HOSTPORT/$BUCKET/enc/dir"
expect_err "TLS certificate of https://$S3_TLS_HOSTPORT is not trusted"
x 50 arca list-current-files --num-retries 1 --archive-dir "$WORK/cache2" \
    --ssl-cacert-file "$WORK/evil/ca.pem" --name enc3 \
    "s3://$S3_TLS_HOSTPORT/$BUCKET/enc/dir"
expect_err "is not trusted"

step "a second full, remove-all-but-n-full 1, cleanup"
x 0 arca full "${PLAIN[@]}" "${C[@]}" --current-time "${BT[2]}" \
    "$SRC" "$URL"
T0=$(date -u -d "@${BT[0]}" +%Y%m%dT%H%M%SZ)
T2=$(date -u -d "@${BT[2]}" +%Y%m%dT%H%M%SZ)
x 0 arca remove-all-but-n-full 1 --force "${PLAIN[@]}" "${C[@]}" "$URL"
s3py keys "$BUCKET" enc/dir/ >"$WORK/boto.list"
! grep -q "$T0" "$WORK/boto.list" || { cat "$WORK/boto.list"; fail "old chain left"; }
[ "$(grep -c "$T2" "$WORK/boto.list")" -eq 3 ] || fail "new chain damaged"
x 0 arca cleanup --force "${PLAIN[@]}" "${C[@]}" "$URL"
x 0 arca restore "${PLAIN[@]}" "${C[@]}" "$URL" "$WORK/r2"
$TREECMP "$WORK/snap1" "$WORK/r2" >/dev/null || fail "restore after removal"
unset PASSPHRASE

step "multipart: 6 MiB volumes in 5 MiB parts"
mkdir "$WORK/big"
head -c 7000000 /dev/urandom >"$WORK/big/random.bin"
MP=$BASE/mp
x 0 arca full --no-encryption --volsize 6 \
    --s3-multipart-chunk-size 5 --s3-multipart-max-procs 2 "${PLAIN[@]}" \
    --archive-dir "$WORK/cache" --name mp "$WORK/big" "$MP"
VOL1=$(s3py keys "$BUCKET" mp/ | grep 'vol1\.difftar')
ETAG=$(s3py etag "$BUCKET" "mp/$VOL1")
case $ETAG in
*-2\") ;;
*) fail "vol1 is not a 2-part multipart object: ETag $ETAG" ;;
esac
s3py verify "$BUCKET" mp/ >"$WORK/verify.out" || fail "boto3 cross-check (mp)"
x 0 arca restore --no-encryption "${PLAIN[@]}" \
    --archive-dir "$WORK/cache" --name mp "$MP" "$WORK/rbig"
cmp "$WORK/big/random.bin" "$WORK/rbig/random.bin" || fail "multipart restore"

step "backend conformance: test_s3's live tests"
wait "$SEED_PID" || { cat "$WORK/seed.log"; fail "seeding failed"; }
SEED_PID=
ARCA_S3_LIVE_URL=$BASE/live ARCA_S3_LIVE_OPTS="s3-unencrypted-connection s3-multipart-chunk-size=5" \
    ARCA_S3_LIVE_BIG_URL=$BASE/many ARCA_S3_LIVE_BIG_MIN=1001 \
    x 0 "$UNIT/test_s3"
grep -q "ok   test_live_big_listing" "$WORK/err" || { cat "$WORK/err"; fail "live tests did not run"; }

step "paging: a chain behind 1001 other objects"
x 0 arca full --no-encryption "${PLAIN[@]}" --archive-dir "$WORK/cache" \
    --name many "$WORK/snap0" "$BASE/many"
x 0 arca collection-status --archive-dir "$WORK/cache3" \
    --name many3 "${PLAIN[@]}" "$BASE/many"
grep -q "Number of contained backup sets: 1" "$WORK/out" ||
    { cat "$WORK/out"; fail "the chain after 1001 objects was not found"; }
x 0 arca restore --no-encryption "${PLAIN[@]}" \
    --archive-dir "$WORK/cache3" --name many3 "$BASE/many" "$WORK/rmany"
$TREECMP "$WORK/snap0" "$WORK/rmany" >/dev/null || fail "restore after paging"

step "faults: a connection reset mid-upload, and 503s, are retried"
# A TCP proxy in front of Swift.  reset: the first connection to carry
# more than 200 kB upward is cut (RST) there.  503: the first two
# connections get "503 SlowDown" and are closed.
cat >"$WORK/fault.py" <<'PYEOF'
import socket, struct, sys, threading
mode, upstream = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()
state = {"resets": 1 if mode == "reset" else 0,
         "503s": 2 if mode == "503" else 0}
def take(k):
    with lock:
        if state[k] > 0:
            state[k] -= 1
            return True
        return False
def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()
def pipe(a, b, up):
    sent = 0
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            sent += len(d)
            if up and sent > 200000 and take("resets"):
                rst(a)
                rst(b)
                return
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(c):
    if take("503s"):
        head = b""
        while b"\r\n\r\n" not in head:
            d = c.recv(65536)
            if not d:
                break
            head += d
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>'
                b'SlowDown</Code><Message>Please reduce your request '
                b'rate.</Message></Error>')
        c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                  b"application/xml\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        c.close()
        return
    u = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=pipe, args=(u, c, False), daemon=True).start()
    pipe(c, u, True)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
while True:
    c = s.accept()[0]
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
start_fault() {
	rm -f "$WORK/fault.port"
	$PY "$WORK/fault.py" "$1" "${S3_HOSTPORT#*:}" >"$WORK/fault.port" &
	FAULT_PID=$!
	for _ in $(seq 50); do [ -s "$WORK/fault.port" ] && break; sleep 0.1; done
	[ -s "$WORK/fault.port" ] || fail "the fault proxy did not start"
}
mkdir "$WORK/fsrc"
head -c 1500000 /dev/urandom >"$WORK/fsrc/random.bin"
start_fault reset
x 0 arca full --no-encryption --volsize 1 "${PLAIN[@]}" \
    --archive-dir "$WORK/cache" --name faults "$WORK/fsrc" \
    "s3://127.0.0.1:$(cat "$WORK/fault.port")/$BUCKET/faults"
kill "$FAULT_PID"
FAULT_PID=
expect_err "upload of .* failed \(attempt 1 of 5\), retrying"
s3py verify "$BUCKET" faults/ >"$WORK/verify.out" ||
    fail "boto3 cross-check (faults)"
x 0 arca restore --no-encryption "${PLAIN[@]}" --archive-dir "$WORK/cache4" \
    --name faults4 "$BASE/faults" "$WORK/rfaults"
cmp "$WORK/fsrc/random.bin" "$WORK/rfaults/random.bin" ||
    fail "restore after a reset"
start_fault 503
x 0 arca collection-status "${PLAIN[@]}" --archive-dir "$WORK/cache4" \
    --name faults4 "s3://127.0.0.1:$(cat "$WORK/fault.port")/$BUCKET/faults"
kill "$FAULT_PID"
FAULT_PID=
expect_err "attempt 2 of 5.*S3 SlowDown: Please reduce your request rate\., HTTP 503"
grep -q "Number of contained backup sets: 1" "$WORK/out" ||
    fail "collection-status after 503s"

step "refusals"
R=(--archive-dir "$WORK/cache" --name mp --no-encryption --num-retries 2)
AWS_SECRET_ACCESS_KEY=not-the-secret x 31 arca collection-status \
    "${PLAIN[@]}" "${R[@]}" "$MP"
expect_err "secret key \(AWS_SECRET_ACCESS_KEY\) is wrong"
env -u AWS_ACCESS_KEY_ID "$ARCA" collection-status "${PLAIN[@]}" "${R[@]}" \
    "$MP" >"$WORK/out" 2>"$WORK/err" && fail "ran without credentials"
expect_err "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
x 19 arca restore "${PLAIN[@]}" "${R[@]}" "$BASE-missing/x" "$WORK/rx"
expect_err "bucket $BUCKET-missing does not exist"
x 2 arca collection-status --s3-region-name eu-west-1 \
    "${PLAIN[@]}" "${R[@]}" "$MP"
expect_err "give --s3-region-name us-east-1"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    x 50 faketime -f "-2h" "$ARCA" collection-status \
    "${PLAIN[@]}" "${R[@]}" "$MP"
expect_err "clock differs from the server's"
x 2 arca full --s3-use-ia --no-encryption "${PLAIN[@]}" \
    --archive-dir "$WORK/cache" --name ia "$WORK/snap0" "$BASE/ia"
expect_err "does not offer storage class STANDARD_IA"
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
x 50 arca collection-status "${PLAIN[@]}" "${R[@]}" \
    "s3://127.0.0.1:$PORT/$BUCKET/x"
expect_err "failed after 2 attempts"
# A server that accepts and never answers: --timeout gives up on it.
$PY -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    conns.append(s.accept()[0])
' >"$WORK/hole.port" &
HOLE_PID=$!
for _ in $(seq 50); do [ -s "$WORK/hole.port" ] && break; sleep 0.1; done
x 50 arca collection-status --timeout 1 "${PLAIN[@]}" "${R[@]}" \
    "s3://127.0.0.1:$(cat "$WORK/hole.port")/$BUCKET/x"
expect_err "failed after 2 attempts: .* timed out \(no progress for 1 s"

step "the secret is in no output"
[ -s "$WORK/all" ] || fail "no output collected"
! grep -rlF "$S3_SECRET_KEY" "$WORK/all" "$WORK/cache" ||
    fail "the secret key leaked"
echo "PASS"
