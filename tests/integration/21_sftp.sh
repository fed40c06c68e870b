#!/bin/bash
#
# 21_sftp.sh: sftp:// and scp:// against a real OpenSSH sshd on 127.0.0.1.
#
# Host keys: an unknown key and a changed key are refused (exit 31, nothing
# written), --ssh-accept-new-host-key records an unknown one.  Logins: the
# default ~/.ssh/id_ed25519, -oIdentityFile, ssh-agent, a ~/.ssh/config
# Host alias, a password in the URL and in FTP_PASSWORD (sshd's log must
# show which method got in), a wrong password.
# Encrypted full + incremental + restore + list-current-files +
# collection-status over sftp:// (relative and //absolute paths), and real
# duplicity (paramiko) restores the sftp:// backup.  A full disk on the
# server (a 1 MB tmpfs) fails at once with a clear message.  scp:// with the SFTP
# subsystem and against an sshd without it (SCP + shell fallback).  Faults,
# with nftables on loopback: connections reset after 1.5 MB each must end in
# a complete backup after retries; reset after 300 kB each (a volume never
# gets through) must fail cleanly with no volume or manifest published.

. "$(dirname "$0")/lib.sh"
need ssh-keygen nft duplicity gpg
[ "$(id -u)" -eq 0 ] || skip "needs root (useradd, sshd, nft)"
/usr/bin/python3 -c 'import paramiko' 2>/dev/null ||
    skip "python3-paramiko is not installed (scripts/deps.sh)"

SSHD_SH="$TESTS/servers/sshd.sh"
NFT_TABLE=arca_sftp_$$
SRV=$WORK/sshd
SRV2=$WORK/sshd2
mkdir -p "$SRV" "$SRV2"

AGENT_PID= MOUNTED=
cleanup_sftp() {
	[ -z "$MOUNTED" ] || umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED" || true
	[ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
	nft delete table inet "$NFT_TABLE" 2>/dev/null || true
	bash "$SSHD_SH" stop "$SRV" || true
	bash "$SSHD_SH" stop "$SRV2" || true
	cleanup_work
}
trap cleanup_sftp EXIT

step "start sshd (key and password logins) and one without sftp"
bash "$SSHD_SH" start "$SRV"
bash "$SSHD_SH" start "$SRV2" --no-sftp
. "$SRV2/env"
P2=$SSHD_PORT U2=$SSHD_USER H2=$SSHD_HOME K2=$SSHD_KEY KH2=$SSHD_KNOWN_HOSTS
. "$SRV/env"
H=127.0.0.1:$SSHD_PORT
U=$SSHD_USER

export HOME=$WORK/home
mkdir -p -m 700 "$HOME/.ssh"
unset SSH_AUTH_SOCK FTP_PASSWORD
export PASSPHRASE=sftp-test-pass
SRC=$WORK/src
$MKTREE "$SRC" 0
cp -a "$SRC" "$WORK/snap0"
AD=(--archive-dir "$WORK/acache")
NE=(--no-encryption "${AD[@]}")	# where encryption adds nothing to the test

# accepted METHOD: how many logins sshd let in with METHOD so far
accepted() {
	grep -c "Accepted $1 for $U " "$SSHD_LOG" || true
}

# same_tree A B: restore B matches source snapshot A
same_tree() {
	$TREECMP "$1" "$2" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "$2 differs from $1"; }
}

step "unknown host key: refused, exit 31, nothing written"
cp "$SSHD_KEY" "$HOME/.ssh/id_ed25519"
expect_exit 31 arca full "${AD[@]}" "$SRC" "sftp://$U@$H/bk"
expect_err "host key of \[127\.0\.0\.1\]:$SSHD_PORT is unknown"
grep -qF "ED25519 key fingerprint $(ssh-keygen -lf "$SSHD_HOSTKEY_PUB" | cut -d' ' -f2)" \
    "$WORK/err" || fail "fingerprint not shown as ssh-keygen -l does"
expect_err "ssh-accept-new-host-key"
[ ! -e "$SSHD_HOME/bk" ] || fail "target created although the host key is unknown"
[ "$(accepted publickey)" = 0 ] || fail "logged in despite the unknown host key"

step "changed host key: refused loudly, exit 31, even with --ssh-accept-new-host-key"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/otherhost" -C other
printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1-2 "$WORK/otherhost.pub")" \
    >"$HOME/.ssh/known_hosts"
for extra in "" --ssh-accept-new-host-key; do
	expect_exit 31 arca full "${AD[@]}" $extra "$SRC" "sftp://$U@$H/bk"
	expect_err "HOST KEY OF \[127\.0\.0\.1\]:$SSHD_PORT HAS CHANGED"
	expect_err "man-in-the-middle"
	expect_err "ssh-keygen -R"
done
[ ! -e "$SSHD_HOME/bk" ] || fail "target created although the host key changed"

step "--ssh-accept-new-host-key records an unknown key"
expect_exit 0 arca collection-status "${AD[@]}" --ssh-accept-new-host-key \
    --ssh-options="-oUserKnownHostsFile=$WORK/kh-new" "sftp://$U@$H/"
expect_err "permanently added the ED25519 host key"
ssh-keygen -F "[127.0.0.1]:$SSHD_PORT" -f "$WORK/kh-new" >/dev/null ||
    fail "key not recorded in $WORK/kh-new"
[ "$(ssh-keygen -lf "$WORK/kh-new" | cut -d' ' -f2)" = \
  "$(ssh-keygen -lf "$SSHD_HOSTKEY_PUB" | cut -d' ' -f2)" ] ||
    fail "recorded key is not the server's"
# and it is then trusted without the switch (StrictHostKeyChecking=yes)
expect_exit 0 arca collection-status "${AD[@]}" \
    --ssh-options="-oUserKnownHostsFile=$WORK/kh-new -oStrictHostKeyChecking=yes" \
    "sftp://$U@$H/"

step "full over sftp:// with the default key ~/.ssh/id_ed25519 (hashed known_hosts)"
cp "$SSHD_KNOWN_HOSTS" "$HOME/.ssh/known_hosts"
ssh-keygen -q -H -f "$HOME/.ssh/known_hosts" >/dev/null 2>&1
rm -f "$HOME/.ssh/known_hosts.old"
n0=$(accepted publickey)
expect_exit 0 arca full "${AD[@]}" --volsize 1 --current-time 1700003600 \
    "$SRC" "sftp://$U@$H/bk"
[ "$(accepted publickey)" -gt "$n0" ] || fail "no publickey login in sshd's log"
ls "$SSHD_HOME/bk" >"$WORK/ls"
grep -q '^duplicity-full\.20231114T231320Z\.manifest\.gpg$' "$WORK/ls" &&
    grep -q '^duplicity-full\.20231114T231320Z\.vol2\.difftar\.gpg$' "$WORK/ls" &&
    grep -q '^duplicity-full-signatures\.20231114T231320Z\.sigtar\.gpg$' "$WORK/ls" ||
    { cat "$WORK/ls" >&2; fail "full backup files missing under the login dir"; }
! ls -A "$SSHD_HOME/bk" | grep -q arca-tmp || fail "temp files left behind"

step "incremental with -oIdentityFile and IdentitiesOnly (no default keys)"
mv "$HOME/.ssh/id_ed25519" "$WORK/key-moved"
$MKTREE "$SRC" 1
cp -a "$SRC" "$WORK/snap1"
expect_exit 0 arca incremental "${AD[@]}" --current-time 1700090000 \
    --ssh-options="-oIdentityFile='$SSHD_KEY' -oIdentitiesOnly=yes" \
    "$SRC" "sftp://$U@$H/bk"
ls "$SSHD_HOME/bk" | grep -q '^duplicity-inc\.20231114T231320Z\.to\.20231115T231320Z\.manifest\.gpg$' ||
    fail "incremental manifest missing"

step "no key and no password: a clear refusal"
expect_exit 31 arca collection-status "${AD[@]}" "sftp://$U@$H/bk"
expect_err "SSH login as $U to 127\.0\.0\.1 port $SSHD_PORT failed"
expect_err "no key .* and no password"

step "ssh-agent: a key only the agent holds"
eval "$(ssh-agent -s)" >/dev/null
AGENT_PID=$SSH_AGENT_PID
ssh-add -q "$WORK/key-moved" 2>/dev/null
n0=$(accepted publickey)
expect_exit 0 arca collection-status "${AD[@]}" "sftp://$U@$H/bk"
[ "$(accepted publickey)" -gt "$n0" ] || fail "no publickey login through the agent"
kill "$AGENT_PID"
AGENT_PID=
unset SSH_AUTH_SOCK SSH_AGENT_PID

step "~/.ssh/config: a Host alias with HostName, Port, User, IdentityFile"
cat >"$HOME/.ssh/config" <<EOF
Host backuphost
	HostName 127.0.0.1
	Port $SSHD_PORT
	User $U
	IdentityFile $WORK/key-moved
EOF
expect_exit 0 arca collection-status "${AD[@]}" "sftp://backuphost/bk"
grep -q 'Number of contained backup sets: 2' "$WORK/out" ||
    { cat "$WORK/out" >&2; fail "collection-status through the alias"; }
rm "$HOME/.ssh/config"

step "restore with the password in the URL"
n0=$(accepted password)
expect_exit 0 arca restore "${AD[@]}" --time 1700003600 \
    "sftp://$U:$SSHD_PASSWORD@$H/bk" "$WORK/r0"
same_tree "$WORK/snap0" "$WORK/r0"
[ "$(accepted password)" -gt "$n0" ] || fail "no password login in sshd's log"

step "restore, list-current-files, collection-status with FTP_PASSWORD"
export FTP_PASSWORD=$SSHD_PASSWORD
expect_exit 0 arca restore "${AD[@]}" "sftp://$U@$H/bk" "$WORK/r1"
same_tree "$WORK/snap1" "$WORK/r1"
expect_exit 0 arca list-current-files "${AD[@]}" "sftp://$U@$H/bk"
grep -q ' big\.bin$' "$WORK/out" || { cat "$WORK/out" >&2; fail "list-current-files"; }
expect_exit 0 arca collection-status "${AD[@]}" "sftp://$U@$H/bk"
grep -q 'Number of contained backup sets: 2' "$WORK/out" ||
    { cat "$WORK/out" >&2; fail "collection-status"; }
unset FTP_PASSWORD

step "wrong password: exit 31, clear message, password not shown"
expect_exit 31 arca collection-status "${AD[@]}" "sftp://$U:not-the-pw-4711@$H/bk"
expect_err "SSH login as $U .* failed: password rejected"
! grep -q "not-the-pw-4711" "$WORK/err" "$WORK/out" || fail "password shown"

step "missing target on restore: exit 19, not created"
expect_exit 19 arca restore "${AD[@]}" "sftp://$U:$SSHD_PASSWORD@$H/nothere" "$WORK/rx"
expect_err "does not exist"
[ ! -e "$SSHD_HOME/nothere" ] || fail "restore created the target"

step "nothing listening: retried, then exit 50 naming the refusal"
expect_exit 50 arca collection-status "${AD[@]}" --num-retries 2 "sftp://$U@127.0.0.1:1/bk"
expect_err "attempt 1 of 2"
expect_err "failed after 2 attempts: cannot connect to 127\.0\.0\.1 port 1: Connection refused"

step "sftp://host//absolute/path (duplicity's convention)"
mv "$WORK/key-moved" "$HOME/.ssh/id_ed25519"
ABS=$SSHD_HOME/abs/dir
expect_exit 0 arca full "${AD[@]}" --no-encryption "$SRC" "sftp://$U@$H/$ABS"
ls "$ABS" | grep -q '\.manifest$' || fail "nothing under $ABS"
[ "$(stat -c %a "$SSHD_HOME/abs")" = 700 ] || fail "made parents not 0700"
expect_exit 0 arca restore "${AD[@]}" --no-encryption "sftp://$U@$H/$ABS" "$WORK/rabs"
same_tree "$WORK/snap1" "$WORK/rabs"

step "server disk full: a clear error at once, nothing left behind"
mkdir "$SSHD_HOME/full"
mount -t tmpfs -o "size=1m,mode=0700,uid=$(id -u "$U")" tmpfs "$SSHD_HOME/full"
MOUNTED=$SSHD_HOME/full
expect_exit 50 arca full "${NE[@]}" "$SRC" "sftp://$U@$H/full"
expect_err "no space left on the server for duplicity-full\..*\.vol1\.difftar\.gz"
! grep -q "attempt 1 of" "$WORK/err" || fail "a full disk was retried"
[ -z "$(ls -A "$SSHD_HOME/full")" ] || { ls -la "$SSHD_HOME/full" >&2; fail "upload left behind"; }
umount "$MOUNTED"
MOUNTED=

step "real duplicity restores the sftp:// backup (paramiko backend)"
duplicity restore --archive-dir "$WORK/dcache" --time 1700003600 \
    "sftp://$U@$H/bk" "$WORK/dr0" >"$WORK/dup.log" 2>&1 ||
    { cat "$WORK/dup.log" >&2; fail "duplicity restore at phase 0"; }
same_tree "$WORK/snap0" "$WORK/dr0"
duplicity restore --archive-dir "$WORK/dcache" \
    --ssh-options="-oIdentityFile=$SSHD_KEY" \
    "sftp://$U@$H/bk" "$WORK/dr1" >"$WORK/dup.log" 2>&1 ||
    { cat "$WORK/dup.log" >&2; fail "duplicity restore at phase 1"; }
same_tree "$WORK/snap1" "$WORK/dr1"

step "scp:// (SFTP underneath): full, incremental, restore"
expect_exit 0 arca full "${NE[@]}" --current-time 1700003600 "$WORK/snap0" "scp://$U@$H/scpbk"
expect_exit 0 arca incremental "${NE[@]}" --allow-source-mismatch --current-time 1700090000 \
    "$WORK/snap1" "scp://$U@$H/scpbk"
expect_exit 0 arca restore "${NE[@]}" --time 1700003600 "scp://$U@$H/scpbk" "$WORK/rs0"
same_tree "$WORK/snap0" "$WORK/rs0"

step "sshd without sftp: sftp:// says why, scp:// uses SCP and the shell"
O2="--ssh-options=-oIdentityFile=$K2 -oUserKnownHostsFile=$KH2"
expect_exit 50 arca full "${NE[@]}" "$O2" "$SRC" "sftp://$U2@127.0.0.1:$P2/x"
expect_err "refused the sftp subsystem"
D="sc'p dir"	# a quote and a space: the shell quoting must hold
expect_exit 0 arca full "${NE[@]}" --volsize 1 --current-time 1700003600 \
    "$O2" "$WORK/snap0" "scp://$U2@127.0.0.1:$P2/$D"
expect_exit 0 arca incremental "${NE[@]}" --allow-source-mismatch --current-time 1700090000 \
    "$O2" "$WORK/snap1" "scp://$U2@127.0.0.1:$P2/$D"
ls -A "$H2/$D" >"$WORK/ls"
[ "$(grep -c '\.manifest$' "$WORK/ls")" = 2 ] || { cat "$WORK/ls" >&2; fail "scp manifests"; }
! grep -q arca-tmp "$WORK/ls" || fail "scp temp files left behind"
[ "$(stat -c %a "$H2/$D")" = 700 ] || fail "scp target not 0700"
expect_exit 0 arca restore "${NE[@]}" "$O2" "scp://$U2@127.0.0.1:$P2/$D" "$WORK/rs1"
same_tree "$WORK/snap1" "$WORK/rs1"
expect_exit 0 arca list-current-files "${NE[@]}" "$O2" "scp://$U2@127.0.0.1:$P2/$D"
grep -q ' big\.bin$' "$WORK/out" || fail "scp list-current-files"
expect_exit 19 arca restore "${NE[@]}" "$O2" "scp://$U2@127.0.0.1:$P2/none" "$WORK/rs2"
expect_err "does not exist"

# quota_rule BYTES: reset any connection to sshd once the client has sent
# BYTES (per connection: keyed by the client port, reset on each SYN)
quota_rule() {
	nft delete table inet "$NFT_TABLE" 2>/dev/null || true
	nft add table inet "$NFT_TABLE"
	nft add chain inet "$NFT_TABLE" in '{ type filter hook input priority 0; policy accept; }'
	nft add set inet "$NFT_TABLE" flows '{ type inet_service; flags dynamic; size 4096; }'
	nft add rule inet "$NFT_TABLE" in tcp dport "$SSHD_PORT" 'tcp flags syn' \
	    delete @flows '{ tcp sport }'
	nft add rule inet "$NFT_TABLE" in tcp dport "$SSHD_PORT" \
	    update @flows "{ tcp sport quota over $1 bytes }" reject with tcp reset
}

step "connections reset after 1.5 MB each: retried, backup complete"
head -c 4000000 /dev/urandom >"$WORK/snap1/random.bin"
quota_rule 1500000
expect_exit 0 arca full "${NE[@]}" --volsize 1 "$WORK/snap1" "sftp://$U@$H/fault"
expect_err "failed \(attempt 1 of 5\), retrying in"
expect_err "connection to 127\.0\.0\.1:$SSHD_PORT lost"
nft delete table inet "$NFT_TABLE"
! ls -A "$SSHD_HOME/fault" | grep -q arca-tmp || fail "temp files left behind"
expect_exit 0 arca restore "${NE[@]}" "sftp://$U@$H/fault" "$WORK/rf"
same_tree "$WORK/snap1" "$WORK/rf"
duplicity verify --no-encryption --archive-dir "$WORK/dcache" --compare-data \
    "sftp://$U@$H/fault" "$WORK/snap1" >"$WORK/dup.log" 2>&1 ||
    { cat "$WORK/dup.log" >&2; fail "duplicity verify of the retried backup"; }

step "connections reset after 300 kB each: clean failure, nothing published"
quota_rule 300000
expect_exit 50 arca full "${NE[@]}" --num-retries 3 --volsize 5 \
    "$WORK/snap1" "sftp://$U@$H/fault2"
expect_err "failed after 3 attempts"
nft delete table inet "$NFT_TABLE"
ls -A "$SSHD_HOME/fault2" >"$WORK/ls"
! grep -v '^\.' "$WORK/ls" || fail "a file was published under its final name"
expect_exit 20 arca restore "${NE[@]}" "sftp://$U@$H/fault2" "$WORK/rf2"

echo "21_sftp: all passed"
