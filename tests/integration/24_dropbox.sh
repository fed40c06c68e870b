#!/bin/bash
#
# 24_dropbox.sh: dpbx:// against tests/servers/dropbox_emulator.py, a
# Dropbox API v2 server written from Dropbox's documentation (no real
# Dropbox can run here), over HTTPS with a throwaway CA.
#
# First the emulator itself is checked with Debian's official Dropbox SDK
# (python3-dropbox, tests/servers/dropbox_sdk_check.py): results, error
# unions, 401/409/429/5xx, refresh, pagination, sessions and content_hash
# as the SDK expects them from the real service.
#
# Then arca, on a full-access account (list pages of 3 names, so every
# listing needs list_folder/continue):
#   full with DPBX_ACCESS_TOKEN, volumes above a lowered
#   --dpbx-upload-threshold going through upload sessions (a volume over
#   8 MiB, so content_hash spans three 4 MiB blocks); incremental with
#   DPBX_APP_KEY + DPBX_REFRESH_TOKEN (refreshed); collection-status,
#   list-current-files (same as from a file:// copy), restore now and at the
#   full's time; an expired access token (refreshed once, then it works;
#   without a refresh token, a clear message); 429 with Retry-After (waited
#   out, the next call no earlier); 503 and a dropped connection (retried);
#   an upload whose content_hash does not match (retried, then exit 50, the
#   damaged file deleted); 409 unions as messages (path/not_found,
#   path/not_folder); bad credentials; an untrusted certificate;
#   remove-all-but-n-full (delete_v2); `arca dropbox-auth` (PKCE, the code
#   pasted) giving a refresh token that works.
# And on an "App folder" app: paths are relative to /Apps/<name>, the
# app's root ("" for list_folder) included.
# No token or secret appears in any output.

. "$(dirname "$0")/lib.sh"
need openssl
$PY -c 'import dropbox' 2>/dev/null || skip "python3-dropbox is not installed"

SERVERS=$TESTS/servers
export HOME=$WORK/home
mkdir -p "$HOME"
BT=(1700003600 1700090000 1700176400)
KEY=arcatestappkey
SECRET=arca-test-app-secret-5e1f
RTOK=arca-refresh-token-c0ffee-0123456789
ATOK=arca-access-token-beef-9876543210
unset DPBX_ACCESS_TOKEN DPBX_REFRESH_TOKEN DPBX_APP_KEY DPBX_APP_SECRET
unset ARCA_DROPBOX_API_URL ARCA_DROPBOX_CONTENT_URL ARCA_DROPBOX_WEB_URL

EMU_PIDS=()
cleanup() {
	local p
	for p in "${EMU_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	cleanup_work
}
trap cleanup EXIT

# start_emu NAME ARGS...: an emulator with its store in $WORK/NAME; sets
# PORT and points arca at it
start_emu() {
	local name=$1 i
	shift
	mkdir -p "$WORK/$name"
	/usr/bin/python3 "$SERVERS/dropbox_emulator.py" --root "$WORK/$name/store" \
	    --cert "$WORK/ca/server.pem" --key "$WORK/ca/server.key" \
	    --port-file "$WORK/$name/port" --app-key "$KEY" \
	    --app-secret "$SECRET" --refresh-token "$RTOK" --access-token "$ATOK" \
	    "$@" >"$WORK/$name/stdout" 2>"$WORK/$name/log" &
	EMU_PIDS+=($!)
	for i in $(seq 1 100); do
		[ -s "$WORK/$name/port" ] && break
		sleep 0.1
	done
	[ -s "$WORK/$name/port" ] || { cat "$WORK/$name/log" >&2; fail "emulator $name did not start"; }
	PORT=$(cat "$WORK/$name/port")
	export ARCA_DROPBOX_API_URL=https://127.0.0.1:$PORT
	export ARCA_DROPBOX_CONTENT_URL=https://127.0.0.1:$PORT/
}

# emu PATH [JSON]: GET or POST a test hook of the current emulator
emu() {
	$PY - "https://127.0.0.1:$PORT$1" "$WORK/ca/ca.pem" "${2:-}" <<'EOF'
import ssl, sys, urllib.request
url, ca, body = sys.argv[1:4]
req = urllib.request.Request(url, data=body.encode() if body else None,
                             method="POST" if body else "GET")
print(urllib.request.urlopen(req, context=ssl.create_default_context(
    cafile=ca)).read().decode())
EOF
}

# emustat EXPR: a Python expression over the emulator's stats s, printed
emustat() {
	emu /_emu/stats | $PY -c "import json, sys; s = json.load(sys.stdin); print($1)"
}

# no_secret: no token or secret in any output so far
no_secret() {
	! grep -rqF -e "$RTOK" -e "$ATOK" -e "$SECRET" "$WORK/out" "$WORK/err" &&
	    ! grep -Eq 'sl\.[A-Za-z0-9_-]{20}' "$WORK/out" "$WORK/err" ||
	    fail "a token or secret appears in arca's output"
}

CA=(--ssl-cacert-file "$WORK/ca/ca.pem")
step "CAs"
bash "$SERVERS/mkca.sh" "$WORK/ca"
bash "$SERVERS/mkca.sh" "$WORK/evil"

step "the emulator answers as Dropbox's official SDK expects"
start_emu sdk --page-size 3
/usr/bin/python3 "$SERVERS/dropbox_sdk_check.py" "127.0.0.1:$PORT" \
    "$WORK/ca/ca.pem" "$KEY" "$RTOK" "$ATOK" >"$WORK/sdk.log" 2>&1 ||
    { cat "$WORK/sdk.log" >&2; fail "the emulator is not what the SDK expects"; }

# ------------------------------------------------------------ full access
start_emu acct --page-size 3
STORE=$WORK/acct/store
URL=dpbx:///Backups/arca
SRC=$WORK/src
TH=(--dpbx-upload-threshold 1M)

step "full (phase 0) with DPBX_ACCESS_TOKEN; large volumes in upload sessions"
$MKTREE "$SRC" 0
head -c $((9 * 1024 * 1024)) /dev/urandom >"$SRC/random.bin"
touch -d @1700000000 "$SRC/random.bin" "$SRC"
cp -a "$SRC" "$WORK/snap0"
export DPBX_ACCESS_TOKEN=$ATOK
expect_exit 0 arca full --no-encryption --volsize 10 "${CA[@]}" "${TH[@]}" \
    --archive-dir "$WORK/c1" --current-time "${BT[0]}" "$SRC" "$URL"
no_secret
expect_exit 0 arca full --no-encryption --volsize 10 --archive-dir "$WORK/cf" \
    --current-time "${BT[0]}" "$SRC" "file://$WORK/file-tgt"
[ "$(emustat 's["calls"].get("files/upload_session/start", 0)')" -ge 1 ] &&
    [ "$(emustat 's["calls"].get("files/upload_session/append_v2", 0)')" -ge 7 ] &&
    [ "$(emustat 's["calls"].get("files/upload_session/finish", 0)')" -ge 1 ] ||
    { emu /_emu/stats >&2; fail "no upload sessions for volumes over the threshold"; }
big=$(find "$STORE/Backups/arca" -name '*.vol1.difftar.gz' -size +8M | wc -l)
[ "$big" = 1 ] || { ls -l "$STORE/Backups/arca" >&2; fail "want a first volume over 8 MiB"; }

step "incremental (phase 1) with DPBX_APP_KEY + DPBX_REFRESH_TOKEN"
unset DPBX_ACCESS_TOKEN
export DPBX_APP_KEY=$KEY DPBX_REFRESH_TOKEN=$RTOK
$MKTREE "$SRC" 1
cp -a "$SRC" "$WORK/snap1"
r0=$(emustat 's["refreshes"]')
expect_exit 0 arca incremental --no-encryption --volsize 10 "${CA[@]}" "${TH[@]}" \
    --archive-dir "$WORK/c1" --current-time "${BT[1]}" "$SRC" "$URL"
no_secret
[ "$(emustat 's["refreshes"]')" = $((r0 + 1)) ] || fail "no single refresh for the incremental"
expect_exit 0 arca incremental --no-encryption --volsize 10 --archive-dir "$WORK/cf" \
    --current-time "${BT[1]}" "$SRC" "file://$WORK/file-tgt"
diff <(ls "$STORE/Backups/arca") <(ls "$WORK/file-tgt") >&2 ||
    fail "the Dropbox folder does not hold the same files as the file:// target"

step "collection-status, list-current-files (list_folder/continue), restore"
expect_exit 0 arca collection-status --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c2" "$URL"
grep -Eq "^ *Full " "$WORK/out" && grep -Eq "^ *Incremental " "$WORK/out" ||
    { cat "$WORK/out" >&2; fail "collection-status over dpbx"; }
[ "$(emustat 's["calls"].get("files/list_folder/continue", 0)')" -ge 2 ] ||
    fail "listings did not page through list_folder/continue"
expect_exit 0 arca list-current-files --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c3" "$URL"
cp "$WORK/out" "$WORK/ls-dpbx"
expect_exit 0 arca list-current-files --no-encryption --archive-dir "$WORK/cf" \
    "file://$WORK/file-tgt"
diff "$WORK/ls-dpbx" "$WORK/out" >&2 || fail "list-current-files over dpbx differs from file://"
expect_exit 0 arca restore --no-encryption "${CA[@]}" --archive-dir "$WORK/c4" \
    "$URL" "$WORK/r1"
$TREECMP "$WORK/snap1" "$WORK/r1" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "restore over dpbx differs from phase 1"; }
expect_exit 0 arca restore --no-encryption "${CA[@]}" --archive-dir "$WORK/c4" \
    --time "${BT[0]}" "$URL" "$WORK/r0"
$TREECMP "$WORK/snap0" "$WORK/r0" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "restore --time over dpbx differs from phase 0"; }
no_secret

step "an expired access token: refreshed once, then the call is made again"
emu /_emu/fault '{"expire_tokens": true}' >/dev/null
r0=$(emustat 's["refreshes"]')
DPBX_ACCESS_TOKEN=$ATOK expect_exit 0 arca collection-status --no-encryption \
    "${CA[@]}" --archive-dir "$WORK/c5" "$URL"
[ "$(emustat 's["refreshes"]')" = $((r0 + 1)) ] || fail "expired token: want one refresh"
[ "$(emustat 'sum(1 for e in s["events"] if e["status"] == 401)')" -ge 1 ] ||
    fail "the emulator never said expired_access_token"
unset DPBX_APP_KEY DPBX_REFRESH_TOKEN
DPBX_ACCESS_TOKEN=$ATOK expect_exit 31 arca collection-status --no-encryption \
    "${CA[@]}" --archive-dir "$WORK/c6" "$URL"
expect_err "access token has expired .*DPBX_REFRESH_TOKEN"
no_secret
export DPBX_APP_KEY=$KEY DPBX_REFRESH_TOKEN=$RTOK

step "429 with Retry-After: waited out"
emu /_emu/fault '{"rate_limit": {"count": 2, "retry_after": 2}}' >/dev/null
n0=$(emustat 'len(s["events"])')
expect_exit 0 arca collection-status --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c7" "$URL"
emustat "all(b['time'] - a['time'] >= 1.9 for a, b in zip(s['events'][$n0:], s['events'][$n0 + 1:]) if a['status'] == 429)" >"$WORK/waited"
[ "$(emustat "sum(1 for e in s['events'][$n0:] if e['status'] == 429)")" = 2 ] &&
    [ "$(cat "$WORK/waited")" = True ] ||
    { emu /_emu/stats >&2; fail "429: Retry-After not honoured"; }
emu /_emu/fault '{"rate_limit": {"count": 1, "retry_after": 1, "json": false}}' >/dev/null
expect_exit 0 arca collection-status --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c7" "$URL"

step "503 and a dropped connection: retried by the core"
emu /_emu/fault '{"fail": {"count": 1, "status": 503}}' >/dev/null
expect_exit 0 arca collection-status --no-encryption "${CA[@]}" \
    --backend-retry-delay 0.1 --archive-dir "$WORK/c8" "$URL"
expect_err "attempt 1 of 5.*503"
# Two: curl itself sends a request again once when a reused connection
# turns out closed.
emu /_emu/fault '{"drop": 2}' >/dev/null
expect_exit 0 arca collection-status --no-encryption "${CA[@]}" \
    --backend-retry-delay 0.1 --archive-dir "$WORK/c8" "$URL"
expect_err "attempt 1 of 5.*Empty reply from server"

step "content_hash mismatch after upload: retried, then an error; nothing damaged left"
emu /_emu/fault '{"corrupt_upload": 50}' >/dev/null
expect_exit 50 arca full --no-encryption --volsize 10 "${CA[@]}" "${TH[@]}" \
    --num-retries 2 --backend-retry-delay 0.1 --archive-dir "$WORK/c9" \
    --current-time "${BT[2]}" "$WORK/snap0" dpbx:///damaged
expect_err "failed after 2 attempts: .*content_hash .*damaged and is deleted"
[ -z "$(ls -A "$STORE/damaged" 2>/dev/null)" ] ||
    { ls -l "$STORE/damaged" >&2; fail "a damaged upload was left"; }
emu /_emu/fault '{"corrupt_upload": 0}' >/dev/null

step "409 error unions become messages"
expect_exit 19 arca restore --no-encryption "${CA[@]}" --archive-dir "$WORK/c10" \
    dpbx:///no/such/folder "$WORK/rx"
expect_err "backup target dpbx:///no/such/folder does not exist"
manifest=$(ls "$STORE/Backups/arca" | grep -m1 'manifest$')
expect_exit 50 arca collection-status --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c10" "dpbx:///Backups/arca/$manifest"
expect_err "Dropbox refused it \(path/not_folder: it is a file, not a folder\)"

step "bad credentials, an untrusted certificate"
DPBX_REFRESH_TOKEN=nope expect_exit 31 arca collection-status --no-encryption \
    "${CA[@]}" --archive-dir "$WORK/c11" "$URL"
expect_err "invalid_grant.*arca dropbox-auth"
(unset DPBX_APP_KEY DPBX_REFRESH_TOKEN
DPBX_ACCESS_TOKEN=nope expect_exit 31 arca collection-status --no-encryption \
    "${CA[@]}" --archive-dir "$WORK/c11" "$URL"
expect_err "refused the credentials \(invalid_access_token\)"
expect_exit 2 arca collection-status --no-encryption "${CA[@]}" "$URL"
expect_err "no Dropbox credentials")
expect_exit 50 arca collection-status --no-encryption --archive-dir "$WORK/c11" "$URL"
expect_err "TLS connection to https://127.0.0.1:$PORT failed"
expect_exit 50 arca collection-status --no-encryption --archive-dir "$WORK/c11" \
    --ssl-cacert-file "$WORK/evil/ca.pem" "$URL"
expect_err "TLS connection .* failed"
expect_exit 2 arca collection-status --no-encryption "${CA[@]}" dpbx://host/x
expect_err "three slashes"
no_secret

step "remove-all-but-n-full 1 deletes the old chain (delete_v2)"
expect_exit 0 arca full --no-encryption --volsize 10 "${CA[@]}" "${TH[@]}" \
    --archive-dir "$WORK/c1" --current-time "${BT[2]}" "$SRC" "$URL"
expect_exit 0 arca remove-all-but-n-full 1 --force --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c1" "$URL"
old=$(date -u -d "@${BT[0]}" +%Y%m%dT%H%M%SZ)
! ls "$STORE/Backups/arca" | grep -q "$old" ||
    { ls "$STORE/Backups/arca" >&2; fail "the old chain is still there"; }
[ "$(emustat 's["calls"].get("files/delete_v2", 0)')" -ge 4 ] || fail "no delete_v2 calls"

step "arca dropbox-auth: PKCE, the code pasted, a refresh token that works"
unset DPBX_REFRESH_TOKEN
export ARCA_DROPBOX_WEB_URL=https://127.0.0.1:$PORT
mkfifo "$WORK/code"
DPBX_APP_KEY=$KEY arca dropbox-auth "${CA[@]}" <"$WORK/code" \
    >"$WORK/auth.out" 2>"$WORK/auth.err" &
auth_pid=$!
exec 3>"$WORK/code"
for i in $(seq 1 100); do
	grep -q "oauth2/authorize" "$WORK/auth.err" && break
	sleep 0.1
done
authurl=$(grep -o 'https://[^ ]*/oauth2/authorize?[^ ]*' "$WORK/auth.err") ||
    { cat "$WORK/auth.err" >&2; fail "dropbox-auth printed no URL"; }
case $authurl in
*"client_id=$KEY&"*"token_access_type=offline"*"code_challenge_method=S256"*) ;;
*) fail "authorize URL lacks client_id, offline or S256: $authurl" ;;
esac
code=$($PY - "$authurl" "$WORK/ca/ca.pem" <<'EOF'
import ssl, sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], context=ssl.create_default_context(
    cafile=sys.argv[2])).read().decode())
EOF
)
echo "$code" >&3
exec 3>&-
wait "$auth_pid" || { cat "$WORK/auth.err" >&2; fail "dropbox-auth failed"; }
grep -q "^export DPBX_APP_KEY='$KEY'\$" "$WORK/auth.out" ||
    { cat "$WORK/auth.out" >&2; fail "dropbox-auth: no DPBX_APP_KEY line"; }
eval "$(grep '^export DPBX_REFRESH_TOKEN=' "$WORK/auth.out")"
[ -n "${DPBX_REFRESH_TOKEN:-}" ] || fail "dropbox-auth gave no refresh token"
expect_exit 0 arca collection-status --no-encryption "${CA[@]}" \
    --archive-dir "$WORK/c12" "$URL"
grep -q "Found primary backup chain" "$WORK/out" ||
    fail "the new refresh token does not work"
printf 'not-a-code\n' | DPBX_APP_KEY=$KEY expect_exit 50 arca dropbox-auth "${CA[@]}"
expect_err "invalid_grant"
unset ARCA_DROPBOX_WEB_URL
export DPBX_REFRESH_TOKEN=$RTOK

# -------------------------------------------------------------- App folder
step "an App folder app: paths relative to /Apps/arca-test, its root too"
start_emu app --app-folder arca-test
APPSTORE=$WORK/app/store/Apps/arca-test
for u in dpbx:///nested/dir dpbx:///; do
	expect_exit 0 arca full --no-encryption --volsize 10 "${CA[@]}" "${TH[@]}" \
	    --archive-dir "$WORK/ca-$RANDOM" --current-time "${BT[0]}" "$WORK/snap0" "$u"
	no_secret
	expect_exit 0 arca restore --no-encryption "${CA[@]}" \
	    --archive-dir "$WORK/cr-$RANDOM" "$u" "$WORK/ra-${#u}"
	$TREECMP "$WORK/snap0" "$WORK/ra-${#u}" >"$WORK/cmp" ||
	    { cat "$WORK/cmp" >&2; fail "restore from the app folder ($u)"; }
done
ls "$APPSTORE/nested/dir" | grep -q '\.manifest$' ||
    fail "nothing in /Apps/arca-test/nested/dir"
ls "$APPSTORE" | grep -q '\.manifest$' || fail "nothing at the app folder's root"
[ ! -e "$WORK/app/store/nested" ] && ! ls "$WORK/app/store" | grep -q duplicity ||
    fail "an app-folder app wrote outside its folder"

echo "PASS: 24_dropbox"
