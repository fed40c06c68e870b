#!/bin/bash
#
# 31_signing.sh: --sign-key and --encrypt-sign-key (spec §4.3) with
# throwaway keys made here.
#
# The machine being backed up ($BK) holds the public encryption key E and
# the secret sign key S (passphrase "signpass"); the vault ($GNUPGHOME)
# holds E's secret key, S's public key and X, another key.  U is a key the
# vault does not know.  Checked:
#   - every file arca writes with --sign-key carries a good signature by S;
#   - restore and verify --sign-key accept S's volumes (fingerprint, long
#     and short key id), duplicity's as well, and duplicity accepts arca's;
#   - a volume re-signed by X, one not signed, one signed by the unknown U
#     and one with a bad signature (each with its manifest hash fixed, so
#     only the signature is wrong) are refused, exit 22, naming the volume;
#     duplicity refuses the same volumes; without --sign-key they restore;
#   - --encrypt-sign-key with PASSPHRASE reused for the sign key;
#   - a wrong or missing sign passphrase: exit 31, clear text, no manifest;
#   - a --sign-key that is not a key id: exit 2.

. "$(dirname "$0")/lib.sh"
need duplicity gpg gpgconf setsid timeout sha1sum

export HOME=$WORK/home
mkdir -p "$HOME"
unset PASSPHRASE SIGN_PASSPHRASE GPG_TTY DISPLAY
VAULT=$GNUPGHOME
BK=$WORK/gnupg-bk
OTHER=$WORK/gnupg-other
mkdir -m 700 "$BK" "$OTHER"
SRC=$WORK/src
BT=(1700003600 1700090000)

kill_agents() {
	local h
	for h in "$VAULT" "$BK" "$OTHER"; do
		gpgconf --homedir "$h" --kill gpg-agent >/dev/null 2>&1 || true
	done
}
trap 'kill_agents; cleanup_work' EXIT

# arca as cron runs it: its own session, no terminal, stdin /dev/null
carca() {
	timeout -k 5 600 setsid -w "$ARCA" "$@" </dev/null
}
bk_carca() {
	GNUPGHOME=$BK carca "$@"
}

dup() {
	timeout -k 5 600 duplicity "$@" </dev/null >>"$WORK/dup.log" 2>&1 ||
	    { tail -n 40 "$WORK/dup.log" >&2; fail "duplicity $*"; }
}

same_tree() {	# same_tree EXPECTED GOT WHAT
	$TREECMP "$1" "$2" >"$WORK/cmp" ||
	    { cat "$WORK/cmp" >&2; fail "$3: the restore differs (A = source, B = restore)"; }
}

newkey() {	# newkey HOME UID PASS: prints the fingerprint
	GNUPGHOME=$1 gpg --batch --pinentry-mode loopback --passphrase "$3" \
	    --quick-gen-key "$2" future-default default never 2>/dev/null ||
	    fail "cannot make key $2"
	GNUPGHOME=$1 gpg --batch --with-colons --fingerprint "$2" |
	    awk -F: '/^fpr:/ { print $10; exit }'
}

copy_pub() {	# copy_pub FROM TO FPR
	GNUPGHOME=$1 gpg --batch --export "$3" | GNUPGHOME=$2 gpg --batch --import 2>/dev/null
	echo "$3:6:" | GNUPGHOME=$2 gpg --batch --import-ownertrust 2>/dev/null
}

step "keys: E, X (vault), S (backup machine, passphrase), U (elsewhere)"
E=$(newkey "$VAULT" 'Arca E <e@arca.test>' '')
X=$(newkey "$VAULT" 'Arca X <x@arca.test>' '')
K=$(newkey "$VAULT" 'Arca K <k@arca.test>' kpass)
S=$(newkey "$BK" 'Arca S <s@arca.test>' signpass)
U=$(newkey "$OTHER" 'Arca U <u@arca.test>' '')
[ -n "$E" ] && [ -n "$X" ] && [ -n "$K" ] && [ -n "$S" ] && [ -n "$U" ] || fail "no key fingerprints"
copy_pub "$VAULT" "$BK" "$E"
copy_pub "$BK" "$VAULT" "$S"
copy_pub "$VAULT" "$OTHER" "$E"
gpg --batch --list-secret-keys "$S" >/dev/null 2>&1 && fail "the vault has S's secret key"
SID=${S:24}		# long key id
SSHORT=${S:32}		# short key id
kill_agents

# ------------------------------------------------- signed backups
MODES=(full incremental)
for p in 0 1; do
	step "phase $p: arca ${MODES[$p]} --encrypt-key E --sign-key S, as cron"
	$MKTREE "$SRC" "$p"
	cp -a "$SRC" "$WORK/snap$p"
	SIGN_PASSPHRASE=signpass expect_exit 0 bk_carca "${MODES[$p]}" \
	    --encrypt-key "$E" --sign-key "$S" --volsize 1 --archive-dir "$WORK/acache" \
	    --name sg --current-time "${BT[$p]}" "$SRC" "file://$WORK/tgt"
done
nvol=$(ls "$WORK/tgt" | grep -c '^duplicity-full\..*\.vol[0-9]*\.difftar\.gpg$' || true)
[ "$nvol" -ge 2 ] || fail "the full backup has $nvol volumes, the test wants several"

step "every file on the target has a good signature by S"
for f in "$WORK"/tgt/*.gpg; do
	gpg --batch --status-fd 1 -o /dev/null -d "$f" >"$WORK/status" 2>/dev/null ||
	    fail "gpg -d $f"
	grep -q "^\[GNUPG:\] GOODSIG $SID " "$WORK/status" ||
	    { cat "$WORK/status" >&2; fail "$(basename "$f") is not signed by S"; }
done

step "restore and verify --sign-key S (fingerprint, long id, short id)"
i=0
for id in "$S" "$SID" "0x$SSHORT"; do
	for p in 0 1; do
		rm -rf "$WORK/rcache"
		expect_exit 0 carca restore --sign-key "$id" --archive-dir "$WORK/rcache" \
		    --time "${BT[$p]}" "file://$WORK/tgt" "$WORK/r$i-$p"
		same_tree "$WORK/snap$p" "$WORK/r$i-$p" "restore --sign-key $id at ${BT[$p]}"
	done
	i=$((i + 1))
done
expect_exit 0 carca verify --compare-data --sign-key "$SSHORT" --archive-dir "$WORK/rcache" \
    "file://$WORK/tgt" "$WORK/snap1"

step "duplicity restore --sign-key S of arca's signed backup"
PASSPHRASE= dup restore --sign-key "$SID" --archive-dir "$WORK/dcache-r" \
    "file://$WORK/tgt" "$WORK/dr"
same_tree "$WORK/snap1" "$WORK/dr" "duplicity restore --sign-key"

step "duplicity backs up --encrypt-key E --sign-key S; arca restore --sign-key S"
for p in 0 1; do
	rm -rf "$WORK/dsrc"
	cp -a "$WORK/snap$p" "$WORK/dsrc"
	GNUPGHOME=$BK SIGN_PASSPHRASE=signpass dup "${MODES[$p]}" --encrypt-key "$E" \
	    --sign-key "$SID" --volsize 1 --archive-dir "$WORK/dcache" --name dsg \
	    --current-time "${BT[$p]}" "$WORK/dsrc" "file://$WORK/dtgt"
done
for p in 0 1; do
	rm -rf "$WORK/rcache2"
	expect_exit 0 carca restore --sign-key "$SSHORT" --archive-dir "$WORK/rcache2" \
	    --time "${BT[$p]}" "file://$WORK/dtgt" "$WORK/ar$p"
	same_tree "$WORK/snap$p" "$WORK/ar$p" "arca restore of duplicity's signed backup at ${BT[$p]}"
done

step "--encrypt-sign-key K: PASSPHRASE also unlocks the sign key"
kill_agents
PASSPHRASE=kpass expect_exit 0 carca full --encrypt-sign-key "$K" \
    --archive-dir "$WORK/acache" --name esk --current-time "${BT[1]}" \
    "$WORK/snap1" "file://$WORK/tgt-esk"
kill_agents
PASSPHRASE=kpass expect_exit 0 carca restore --sign-key "${K:24}" \
    --archive-dir "$WORK/rcache3" "file://$WORK/tgt-esk" "$WORK/r-esk"
same_tree "$WORK/snap1" "$WORK/r-esk" "restore of an --encrypt-sign-key backup"
kill_agents
PASSPHRASE=kpass dup restore --sign-key "${K:24}" --archive-dir "$WORK/dcache-r2" \
    "file://$WORK/tgt-esk" "$WORK/dr-esk"
same_tree "$WORK/snap1" "$WORK/dr-esk" "duplicity restore of an --encrypt-sign-key backup"

# ------------------------------------------------- tampered volumes
VOL=$(ls "$WORK/tgt" | grep '^duplicity-full\..*\.vol1\.difftar\.gpg$')
MAN=$(ls "$WORK/tgt" | grep '^duplicity-full\..*\.manifest\.gpg$')
gpg --batch -o "$WORK/vol1.tar" -d "$WORK/tgt/$VOL" 2>/dev/null || fail "gpg -d $VOL"
gpg --batch -o "$WORK/full.manifest" -d "$WORK/tgt/$MAN" 2>/dev/null || fail "gpg -d $MAN"

# tampered NAME: a copy of the target with vol1 from $WORK/$NAME.gpg and
# the manifest's hash for it fixed (and the manifest signed by S again)
tampered() {
	local t=$WORK/tgt-$1 h
	cp -r "$WORK/tgt" "$t"
	cp "$WORK/$1.gpg" "$t/$VOL"
	h=$(sha1sum "$t/$VOL" | cut -d' ' -f1)
	$PY - "$WORK/full.manifest" "$WORK/$1.manifest" "$h" <<'EOF'
import re, sys
text = open(sys.argv[1], "rb").read()
i = text.index(b"Volume 1:")
j = text.index(b"Hash SHA1 ", i) + 10
open(sys.argv[2], "wb").write(text[:j] + sys.argv[3].encode() + text[j + 40:])
EOF
	rm -f "$t/$MAN"
	GNUPGHOME=$BK gpg --batch --pinentry-mode loopback --passphrase signpass \
	    -u "$S" -r "$E" -o "$t/$MAN" --sign --encrypt "$WORK/$1.manifest" 2>/dev/null ||
	    fail "cannot re-encrypt the manifest"
}

step "make the tampered volumes: re-signed by X, unsigned, by U, bad signature"
gpg --batch -u "$X" -r "$E" -o "$WORK/resigned.gpg" --sign --encrypt "$WORK/vol1.tar" 2>/dev/null ||
    fail "re-sign with X"
gpg --batch -r "$E" -o "$WORK/unsigned.gpg" --encrypt "$WORK/vol1.tar" 2>/dev/null ||
    fail "encrypt unsigned"
GNUPGHOME=$OTHER gpg --batch --trust-model always -u "$U" -r "$E" -o "$WORK/unknown.gpg" \
    --sign --encrypt "$WORK/vol1.tar" 2>/dev/null || fail "sign with U"
# signed by S, then one byte of the signed data changed, then encrypted
# as it is (--no-literal): only the signature can tell
GNUPGHOME=$BK gpg --batch --pinentry-mode loopback --passphrase signpass -z0 -u "$S" \
    -o "$WORK/bad.sig" --sign "$WORK/vol1.tar" 2>/dev/null || fail "sign with S"
$PY - "$WORK/bad.sig" <<'EOF'
import sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
i = d.index(b"ustar")		# inside the literal data: the first tar header
d[i - 100] ^= 0x01		# a byte of the member's name
open(p, "wb").write(d)
EOF
gpg --batch --no-literal -r "$E" -o "$WORK/badsig.gpg" --encrypt "$WORK/bad.sig" 2>/dev/null ||
    fail "encrypt the bad signature"
for kind in resigned unsigned unknown badsig; do
	tampered "$kind"
done

check_refused() {	# check_refused KIND PATTERN DUPLICITY_PATTERN
	local t=file://$WORK/tgt-$1
	step "$1: restore and verify --sign-key S refuse $VOL (22)"
	rm -rf "$WORK/rc-$1"
	expect_exit 22 carca restore --sign-key "$SID" --archive-dir "$WORK/rc-$1" "$t" "$WORK/r-$1"
	expect_err "$VOL"
	expect_err "$2"
	[ -z "$(find "$WORK/r-$1" -type f 2>/dev/null)" ] || fail "$1: files restored from a refused volume"
	expect_exit 22 carca verify --sign-key "$SID" --archive-dir "$WORK/rc-$1" "$t" "$WORK/snap1"
	expect_err "$VOL"
	# the same set without --sign-key: the hash was fixed, only the
	# signature is wrong (the bad signature's data was changed, too)
	if [ "$1" != badsig ]; then
		expect_exit 0 carca restore --archive-dir "$WORK/rc-$1" --time "${BT[0]}" \
		    "$t" "$WORK/r-$1-nosig"
		same_tree "$WORK/snap0" "$WORK/r-$1-nosig" "$1 restored without --sign-key"
	fi
	# duplicity refuses it too
	dup_refuses "$1" "$3" restore --sign-key "$SID" --archive-dir "$WORK/dc-$1" \
	    "$t" "$WORK/dr-$1"
}

# dup_refuses KIND PATTERN ARGS...: duplicity fails, saying PATTERN.  After
# its fatal error in a volume's close hook, 0.8.22 waits for ever (for the
# gpg it did not drain): wait for the message or its exit, then stop it.
dup_refuses() {
	local kind=$1 pat=$2 out=$WORK/dup-$1.out pid i
	shift 2
	PASSPHRASE= setsid duplicity "$@" </dev/null >"$out" 2>&1 &
	pid=$!
	for i in $(seq 1 600); do
		grep -Eq -- "$pat" "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# (duplicity checks the signature when the volume is closed, after
	# its files were written; arca checks before it writes anything)
	grep -Eq -- "$pat" "$out" ||
	    { cat "$out" >&2; fail "$kind: duplicity did not refuse it with /$pat/"; }
}
check_refused resigned "signed by key $X, not $SID" "Volume was signed by key ${X:24}, not $SID"
check_refused unsigned "is not signed" "Volume was signed by key None"
check_refused unknown "signed by key [0-9A-F]*${U:24}, which is not in the GnuPG keyring" \
    "Volume was signed by key None|GPG Failed"
check_refused badsig "BAD signature" "BAD signature|GPG Failed"

# ------------------------------------------------- sign passphrases
step "wrong or missing sign passphrase: 31, nothing published"
kill_agents
SIGN_PASSPHRASE=wrong expect_exit 31 bk_carca full --encrypt-key "$E" --sign-key "$S" \
    --archive-dir "$WORK/acache" --name wrong "$WORK/snap0" "file://$WORK/tgt-wrong"
expect_err 'wrong passphrase for the sign key'
ls "$WORK/tgt-wrong" 2>/dev/null | grep -q 'manifest' && fail "a manifest after a failed signing"
kill_agents
expect_exit 31 bk_carca full --encrypt-key "$E" --sign-key "$S" \
    --archive-dir "$WORK/acache" --name nopass "$WORK/snap0" "file://$WORK/tgt-nopass"
expect_err 'set SIGN_PASSPHRASE'
ls "$WORK/tgt-nopass" 2>/dev/null | grep -q 'manifest' && fail "a manifest after a failed signing"

step "--sign-key must be a key id"
expect_exit 2 arca restore --sign-key s@arca.test "file://$WORK/tgt" "$WORK/r-badid"
expect_err 'hex'
expect_exit 2 arca full --encrypt-sign-key 12345 "$SRC" "file://$WORK/tgt-badid"

echo "31_signing: all passed"
