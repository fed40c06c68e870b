#!/bin/bash
#
# 22_rclone.sh: rclone:// driving the real rclone binary, which talks SFTP
# to a real OpenSSH sshd on 127.0.0.1.
#
# A connection-string remote (:sftp,host=...) and a named remote from the
# file RCLONE_CONFIG names: full + incremental + restore, list and
# collection-status; duplicity's spellings rclone://remote:/dir and
# rclone://remote://abs; real duplicity's rclone backend restores what arca
# wrote.  Errors: an unknown remote (exit 2), a missing target (19), a
# refused login (31, with the connection string's password shown as ***).
# Fault: with every connection reset after 300 kB (nftables), a volume
# never gets through: the backup fails cleanly and nothing is published
# under a final name.

. "$(dirname "$0")/lib.sh"
need rclone ssh-keygen nft duplicity
[ "$(id -u)" -eq 0 ] || skip "needs root (useradd, sshd, nft)"

SSHD_SH="$TESTS/servers/sshd.sh"
NFT_TABLE=arca_rclone_$$
SRV=$WORK/sshd
mkdir -p "$SRV"

cleanup_rclone() {
	nft delete table inet "$NFT_TABLE" 2>/dev/null || true
	bash "$SSHD_SH" stop "$SRV" || true
	cleanup_work
}
trap cleanup_rclone EXIT

step "start sshd"
bash "$SSHD_SH" start "$SRV"
. "$SRV/env"

export HOME=$WORK/home
mkdir -p "$HOME"
unset SSH_AUTH_SOCK FTP_PASSWORD PASSPHRASE
# rclone reads every RCLONE_* variable as an option: start clean.
for v in $(env | sed -n 's/^\(RCLONE_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
export RCLONE_CONFIG=/dev/null
AD=(--no-encryption --archive-dir "$WORK/acache")
SFTP=":sftp,host=127.0.0.1,port=$SSHD_PORT,user=$SSHD_USER,key_file=$SSHD_KEY,known_hosts_file=$SSHD_KNOWN_HOSTS"
SRC=$WORK/src
$MKTREE "$SRC" 0
cp -a "$SRC" "$WORK/snap0"

same_tree() {
	$TREECMP "$1" "$2" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "$2 differs from $1"; }
}

step "connection-string remote: full, incremental, restore, list, status"
R="rclone://$SFTP:/rbk"
expect_exit 0 arca full "${AD[@]}" --volsize 1 --current-time 1700003600 "$SRC" "$R"
ls -A "$SSHD_HOME/rbk" >"$WORK/ls"
grep -q '^duplicity-full\.20231114T231320Z\.vol2\.difftar\.gz$' "$WORK/ls" &&
    grep -q '^duplicity-full\.20231114T231320Z\.manifest$' "$WORK/ls" ||
    { cat "$WORK/ls" >&2; fail "full backup files missing under the login dir"; }
! grep -q arca-tmp "$WORK/ls" || fail "temp files left behind"
$MKTREE "$SRC" 1
cp -a "$SRC" "$WORK/snap1"
expect_exit 0 arca incremental "${AD[@]}" --current-time 1700090000 "$SRC" "$R"
expect_exit 0 arca restore "${AD[@]}" --time 1700003600 "$R" "$WORK/r0"
same_tree "$WORK/snap0" "$WORK/r0"
expect_exit 0 arca restore "${AD[@]}" "$R" "$WORK/r1"
same_tree "$WORK/snap1" "$WORK/r1"
expect_exit 0 arca list-current-files "${AD[@]}" "$R"
grep -q ' big\.bin$' "$WORK/out" || { cat "$WORK/out" >&2; fail "list-current-files"; }
expect_exit 0 arca collection-status "${AD[@]}" "$R"
grep -q 'Number of contained backup sets: 2' "$WORK/out" ||
    { cat "$WORK/out" >&2; fail "collection-status"; }

step "rclone://remote://absolute and rclone://remote:relative"
expect_exit 0 arca full "${AD[@]}" "$WORK/snap0" "rclone://$SFTP://$SSHD_HOME/abs/dir"
ls "$SSHD_HOME/abs/dir" | grep -q '\.manifest$' || fail "nothing under $SSHD_HOME/abs/dir"
expect_exit 0 arca restore "${AD[@]}" "rclone://$SFTP:abs/dir" "$WORK/rabs"
same_tree "$WORK/snap0" "$WORK/rabs"

step "a remote named in RCLONE_CONFIG, and duplicity's rclone backend restores it"
cat >"$WORK/rclone.conf" <<EOF
[arcatest]
type = sftp
host = 127.0.0.1
port = $SSHD_PORT
user = $SSHD_USER
key_file = $SSHD_KEY
known_hosts_file = $SSHD_KNOWN_HOSTS
EOF
export RCLONE_CONFIG=$WORK/rclone.conf
expect_exit 0 arca full "${AD[@]}" --volsize 1 --current-time 1700003600 \
    "$WORK/snap0" "rclone://arcatest:/named"
expect_exit 0 arca incremental "${AD[@]}" --allow-source-mismatch \
    --current-time 1700090000 "$WORK/snap1" "rclone://arcatest:/named"
ls "$SSHD_HOME/named" | grep -q '^duplicity-inc\..*\.manifest$' || fail "no incremental under named"
duplicity restore --no-encryption --archive-dir "$WORK/dcache" --time 1700003600 \
    "rclone://arcatest:/named" "$WORK/dr0" >"$WORK/dup.log" 2>&1 ||
    { cat "$WORK/dup.log" >&2; fail "duplicity restore at phase 0"; }
same_tree "$WORK/snap0" "$WORK/dr0"
duplicity restore --no-encryption --archive-dir "$WORK/dcache" \
    "rclone://arcatest:/named" "$WORK/dr1" >"$WORK/dup.log" 2>&1 ||
    { cat "$WORK/dup.log" >&2; fail "duplicity restore at phase 1"; }
same_tree "$WORK/snap1" "$WORK/dr1"

step "errors: unknown remote, missing target, refused login"
expect_exit 2 arca collection-status "${AD[@]}" "rclone://nosuchremote:/x"
expect_err "no remote by that name"
expect_exit 2 arca collection-status "${AD[@]}" "rclone://nocolon"
expect_err "want rclone://REMOTE:PATH"
export RCLONE_CONFIG=/dev/null
expect_exit 19 arca restore "${AD[@]}" "rclone://$SFTP:/nothere" "$WORK/rx"
expect_err "does not exist"
[ ! -e "$SSHD_HOME/nothere" ] || fail "restore created the target"
OBS=$(rclone obscure not-the-password)
expect_exit 31 arca collection-status "${AD[@]}" --num-retries 2 \
    "rclone://:sftp,host=127.0.0.1,port=$SSHD_PORT,user=$SSHD_USER,known_hosts_file=$SSHD_KNOWN_HOSTS,pass=$OBS:/rbk"
expect_err "pass=\*\*\*"
! grep -qF "$OBS" "$WORK/err" || fail "the obscured password was shown"

step "connections reset after 300 kB each: clean failure, nothing published"
head -c 3000000 /dev/urandom >"$WORK/snap1/random.bin"
nft add table inet "$NFT_TABLE"
nft add chain inet "$NFT_TABLE" in '{ type filter hook input priority 0; policy accept; }'
nft add set inet "$NFT_TABLE" flows '{ type inet_service; flags dynamic; size 4096; }'
nft add rule inet "$NFT_TABLE" in tcp dport "$SSHD_PORT" 'tcp flags syn' \
    delete @flows '{ tcp sport }'
nft add rule inet "$NFT_TABLE" in tcp dport "$SSHD_PORT" \
    update @flows '{ tcp sport quota over 300000 bytes }' reject with tcp reset
RCLONE_LOW_LEVEL_RETRIES=1 expect_exit 50 arca full "${AD[@]}" --num-retries 2 \
    --volsize 5 "$WORK/snap1" "rclone://$SFTP:/fault"
expect_err "failed after 2 attempts"
nft delete table inet "$NFT_TABLE"
if [ -d "$SSHD_HOME/fault" ]; then
	ls -A "$SSHD_HOME/fault" >"$WORK/ls"
	! grep -v '^\.' "$WORK/ls" || fail "a file was published under its final name"
fi
# and with the network back, the same backup goes through
expect_exit 0 arca full "${AD[@]}" --volsize 5 "$WORK/snap1" "rclone://$SFTP:/fault"
expect_exit 0 arca restore "${AD[@]}" "rclone://$SFTP:/fault" "$WORK/rf"
same_tree "$WORK/snap1" "$WORK/rf"

echo "22_rclone: all passed"
