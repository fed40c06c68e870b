#!/bin/bash
#
# 30_pubkey.sh: public-key encryption (--encrypt-key, --hidden-encrypt-key,
# spec §4.3) with throwaway keys made here.
#
# The machine being backed up holds only public keys ($PUB); the secret
# keys live in $GNUPGHOME (the "vault").  E is an RSA key protected by a
# passphrase, N an ed25519/cv25519 key without one.  Checked:
#   - full and incrementals with the public key only, run as cron would
#     (own session, no terminal, stdin /dev/null, no gpg-agent running);
#   - the archive dir gone and no secret key: exit 31 and a message that
#     says what is needed, nothing written;
#   - restore with the secret key at every backup time; without its
#     passphrase, with a wrong one, without the secret key: 31, clear text;
#   - real duplicity restores arca's backups, arca restores duplicity's
#     (and continues its chain with an incremental duplicity restores);
#   - a secret key without passphrase needs no PASSPHRASE at all; hidden
#     recipients; --gpg-options reach gpg; --encrypt-secret-keyring is
#     accepted; --use-agent with a passphrase preset in gpg-agent;
#   - untrusted and unknown keys are refused with a clear message.

. "$(dirname "$0")/lib.sh"
need duplicity gpg gpgconf gpg-connect-agent setsid timeout

export HOME=$WORK/home
mkdir -p "$HOME"
unset PASSPHRASE SIGN_PASSPHRASE GPG_TTY DISPLAY
VAULT=$GNUPGHOME
PUB=$WORK/gnupg-pub
UNTRUSTED=$WORK/gnupg-untrusted
mkdir -m 700 "$PUB" "$UNTRUSTED"
SRC=$WORK/src
BT=(1700003600 1700090000 1700176400)

kill_agents() {
	local h
	for h in "$VAULT" "$PUB" "$UNTRUSTED"; do
		gpgconf --homedir "$h" --kill gpg-agent >/dev/null 2>&1 || true
	done
}
trap 'kill_agents; cleanup_work' EXIT

# arca as cron runs it: its own session, no terminal, stdin /dev/null
carca() {
	timeout -k 5 600 setsid -w "$ARCA" "$@" </dev/null
}
# ... on the machine being backed up, which has the public keys only
pub_carca() {
	GNUPGHOME=$PUB carca "$@"
}

dup() {
	timeout -k 5 600 duplicity "$@" </dev/null >>"$WORK/dup.log" 2>&1 ||
	    { tail -n 40 "$WORK/dup.log" >&2; fail "duplicity $*"; }
}

agent_running() {	# agent_running HOME
	! GNUPGHOME=$1 gpg-connect-agent --no-autostart 'getinfo pid' /bye 2>&1 |
	    grep -q 'no gpg-agent running'
}

same_tree() {	# same_tree EXPECTED GOT WHAT
	$TREECMP "$1" "$2" >"$WORK/cmp" ||
	    { cat "$WORK/cmp" >&2; fail "$3: the restore differs (A = source, B = restore)"; }
}

listing() {	# listing DIR: names, sizes and sums of a target
	(cd "$1" && sha1sum -- * 2>/dev/null | sort)
}

fpr_of() {	# fpr_of NAME: primary key fingerprint in the vault
	gpg --batch --with-colons --fingerprint "$1" | awk -F: '/^fpr:/ { print $10; exit }'
}

# The key id gpg writes into a message for NAME (its encryption subkey).
enc_keyid() {
	gpg --batch --with-colons --list-keys "$1" | awk -F: '$1 == "sub" && $12 ~ /e/ { print $5; exit }'
}

step "keys: E (RSA, passphrase), N (no passphrase); public parts in \$PUB"
gpg --batch --pinentry-mode loopback --passphrase keypass \
    --quick-gen-key 'Arca E <e@arca.test>' default default never 2>/dev/null ||
    fail "cannot make key E"
gpg --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'Arca N <n@arca.test>' future-default default never 2>/dev/null ||
    fail "cannot make key N"
E=$(fpr_of e@arca.test)
N=$(fpr_of n@arca.test)
EID=$(enc_keyid "$E")
NID=$(enc_keyid "$N")
[ -n "$E" ] && [ -n "$N" ] && [ -n "$EID" ] && [ -n "$NID" ] || fail "no key fingerprints"
gpg --batch --export "$E" "$N" | GNUPGHOME=$PUB gpg --batch --import 2>/dev/null
printf '%s:6:\n%s:6:\n' "$E" "$N" | GNUPGHOME=$PUB gpg --batch --import-ownertrust 2>/dev/null
gpg --batch --export "$E" | GNUPGHOME=$UNTRUSTED gpg --batch --import 2>/dev/null
GNUPGHOME=$PUB gpg --batch --list-secret-keys --with-colons 2>/dev/null | grep -q '^sec' &&
    fail "the public keyring holds a secret key"
kill_agents

# ------------------------------------------------- backups, public key only
MODES=(full incremental backup)
for p in 0 1 2; do
	step "phase $p: arca ${MODES[$p]} with the public key only, as cron"
	$MKTREE "$SRC" "$p"
	cp -a "$SRC" "$WORK/snap$p"
	if [ "$p" = 0 ] && agent_running "$PUB"; then
		fail "a gpg-agent runs for \$PUB before the first backup"
	fi
	expect_exit 0 pub_carca "${MODES[$p]}" --encrypt-key "$E" --volsize 1 \
	    --archive-dir "$WORK/acache" --name pk --current-time "${BT[$p]}" \
	    "$SRC" "file://$WORK/tgt"
done
n=$(ls "$WORK/tgt" | grep -c '^duplicity-full\..*\.vol[0-9]*\.difftar\.gpg$' || true)
[ "$n" -ge 2 ] || fail "the full backup has $n volumes, the test wants several"
[ "$(ls "$WORK/tgt" | grep -vc '\.gpg$')" = 0 ] || fail "an unencrypted file on the target"
man=$(ls "$WORK/tgt" | grep '^duplicity-inc\..*\.manifest\.gpg$' | tail -n 1)
gpg --batch --list-packets "$WORK/tgt/$man" >"$WORK/packets" 2>&1 || true
grep -q ':pubkey enc packet:' "$WORK/packets" || { cat "$WORK/packets" >&2; fail "no PKESK in $man"; }
grep -q "keyid $EID" "$WORK/packets" || fail "$man is not encrypted to E's subkey $EID"
! grep -q ':symkey enc packet:' "$WORK/packets" || fail "$man has a symmetric key packet"

step "archive dir gone, no secret key: 31, what is needed, nothing written"
listing "$WORK/tgt" >"$WORK/tgt.before"
touch -d @1700259200 "$SRC/new-after-phase2.txt"
expect_exit 31 pub_carca incremental --encrypt-key "$E" --volsize 1 \
    --archive-dir "$WORK/acache-gone" --name pk "$SRC" "file://$WORK/tgt"
expect_err 'archive dir'
expect_err 'no secret key'
expect_err 'public key'
expect_err 'PASSPHRASE'
[ "$(grep -c . "$WORK/err")" -le 3 ] || { cat "$WORK/err" >&2; fail "a long error output"; }
listing "$WORK/tgt" >"$WORK/tgt.after"
cmp -s "$WORK/tgt.before" "$WORK/tgt.after" || fail "the failed incremental changed the target"
rm -f "$SRC/new-after-phase2.txt"

# ------------------------------------------------- restores, secret key
for p in 0 1 2; do
	step "restore --time ${BT[$p]} with the secret key and PASSPHRASE, as cron"
	kill_agents
	rm -rf "$WORK/rcache"
	PASSPHRASE=keypass expect_exit 0 carca restore --archive-dir "$WORK/rcache" \
	    --time "${BT[$p]}" "file://$WORK/tgt" "$WORK/r$p"
	same_tree "$WORK/snap$p" "$WORK/r$p" "arca restore at ${BT[$p]}"
done

step "restore: passphrase missing, wrong; no secret key: 31 and why"
kill_agents
expect_exit 31 carca restore --archive-dir "$WORK/rc-nopass" "file://$WORK/tgt" "$WORK/r-nopass"
expect_err 'needs its passphrase.*PASSPHRASE'
[ ! -e "$WORK/r-nopass" ] || fail "a failed restore left $WORK/r-nopass"
kill_agents
PASSPHRASE=wrong-pass expect_exit 31 carca restore --archive-dir "$WORK/rc-wrong" \
    "file://$WORK/tgt" "$WORK/r-wrong"
expect_err 'wrong passphrase for the secret key'
[ ! -e "$WORK/r-wrong" ] || fail "a failed restore left $WORK/r-wrong"
PASSPHRASE=keypass expect_exit 31 pub_carca restore --archive-dir "$WORK/rc-pub" \
    "file://$WORK/tgt" "$WORK/r-pub"
expect_err "no secret key for it.*$EID"
[ ! -e "$WORK/r-pub" ] || fail "a failed restore left $WORK/r-pub"

step "verify --compare-data with the secret key"
PASSPHRASE=keypass expect_exit 0 carca verify --compare-data \
    --archive-dir "$WORK/rcache" "file://$WORK/tgt" "$WORK/snap2"

# ------------------------------------------------- duplicity both ways
step "duplicity restores arca's public-key backup"
for p in 0 2; do
	PASSPHRASE=keypass dup restore --archive-dir "$WORK/dcache-r" \
	    --time "${BT[$p]}" "file://$WORK/tgt" "$WORK/dr$p"
	same_tree "$WORK/snap$p" "$WORK/dr$p" "duplicity restore of arca's backup at ${BT[$p]}"
done

step "duplicity backs up with the public key only; arca restores it"
for p in 0 1; do
	rm -rf "$WORK/dsrc"
	cp -a "$WORK/snap$p" "$WORK/dsrc"
	GNUPGHOME=$PUB dup "${MODES[$p]}" --encrypt-key "$E" --volsize 1 \
	    --archive-dir "$WORK/dcache" --name dpk --current-time "${BT[$p]}" \
	    "$WORK/dsrc" "file://$WORK/dtgt"
done
for p in 0 1; do
	rm -rf "$WORK/rcache2"
	PASSPHRASE=keypass expect_exit 0 carca restore --archive-dir "$WORK/rcache2" \
	    --time "${BT[$p]}" "file://$WORK/dtgt" "$WORK/ar$p"
	same_tree "$WORK/snap$p" "$WORK/ar$p" "arca restore of duplicity's backup at ${BT[$p]}"
done

step "arca continues duplicity's chain from its archive dir (public key only)"
rm -rf "$WORK/dsrc"
cp -a "$WORK/snap2" "$WORK/dsrc"
expect_exit 0 pub_carca incremental --encrypt-key "$E" --archive-dir "$WORK/dcache" \
    --name dpk --current-time "${BT[2]}" "$WORK/dsrc" "file://$WORK/dtgt"
PASSPHRASE=keypass dup restore --archive-dir "$WORK/dcache-r2" "file://$WORK/dtgt" "$WORK/dr-mixed"
same_tree "$WORK/snap2" "$WORK/dr-mixed" "duplicity restore of a chain arca continued"

# ------------------------------------------------- no passphrase, hidden, options
step "N (no passphrase) + hidden E, --gpg-options: no PASSPHRASE anywhere"
expect_exit 0 pub_carca full --encrypt-key n@arca.test --hidden-encrypt-key "$E" \
    --gpg-options '--compress-algo=bzip2' --archive-dir "$WORK/acache" --name hid \
    --current-time "${BT[2]}" "$WORK/snap2" "file://$WORK/tgt2"
man=$(ls "$WORK/tgt2" | grep '\.manifest\.gpg$')
gpg --batch --pinentry-mode loopback --passphrase keypass --list-packets \
    "$WORK/tgt2/$man" >"$WORK/packets2" 2>&1 || true
grep -q "keyid $NID" "$WORK/packets2" || { cat "$WORK/packets2" >&2; fail "$man is not encrypted to N"; }
grep -q 'keyid 0000000000000000' "$WORK/packets2" || fail "$man has no hidden recipient"
! grep -q "keyid $EID" "$WORK/packets2" || fail "$man names the hidden recipient E"
grep -q 'compressed packet: algo=3' "$WORK/packets2" || fail "--gpg-options did not reach gpg"
kill_agents
expect_exit 0 carca restore --archive-dir "$WORK/rcache3" "file://$WORK/tgt2" "$WORK/r-hid"
same_tree "$WORK/snap2" "$WORK/r-hid" "restore with N, no PASSPHRASE"
# E alone (N's secret key removed) finds its hidden message too
gpg --batch --yes --delete-secret-keys "$N" 2>/dev/null ||
    fail "cannot remove N's secret key"
kill_agents
PASSPHRASE=keypass expect_exit 0 carca restore --archive-dir "$WORK/rcache4" \
    "file://$WORK/tgt2" "$WORK/r-hid2"
same_tree "$WORK/snap2" "$WORK/r-hid2" "restore as the hidden recipient E"
PASSPHRASE=keypass dup restore --archive-dir "$WORK/dcache-r3" "file://$WORK/tgt2" "$WORK/dr-hid"
same_tree "$WORK/snap2" "$WORK/dr-hid" "duplicity restore of the hidden-recipient backup"

step "hidden recipient alone: no PASSPHRASE needed to back up, E restores"
expect_exit 0 pub_carca full --hidden-encrypt-key "$E" --archive-dir "$WORK/acache" \
    --name hidonly --current-time "${BT[2]}" "$WORK/snap2" "file://$WORK/tgt-hidonly"
kill_agents
PASSPHRASE=keypass expect_exit 0 carca restore --archive-dir "$WORK/rcache5" \
    "file://$WORK/tgt-hidonly" "$WORK/r-hid3"
same_tree "$WORK/snap2" "$WORK/r-hid3" "restore of a hidden-recipient-only backup"

step "--encrypt-secret-keyring: accepted, no effect with GnuPG 2.1+"
PASSPHRASE=keypass expect_exit 0 carca restore --encrypt-secret-keyring "$WORK/none.gpg" \
    --archive-dir "$WORK/rcache" -r big.bin "file://$WORK/tgt" "$WORK/big"
expect_err 'encrypt-secret-keyring has no effect'
cmp -s "$WORK/big" "$WORK/snap2/big.bin" || fail "-r big.bin differs"

step "--use-agent: the passphrase preset in gpg-agent, none in the environment"
kill_agents
echo allow-preset-passphrase >>"$VAULT/gpg-agent.conf"
grip=$(gpg --batch --with-colons --with-keygrip --list-secret-keys "$E" |
    awk -F: '$1 == "ssb" { s = 1 } s && $1 == "grp" { print $10; exit }')
[ -n "$grip" ] || fail "no keygrip for E's subkey"
gpg-connect-agent /bye >/dev/null 2>&1
/usr/lib/gnupg/gpg-preset-passphrase --preset -P keypass "$grip" ||
    fail "gpg-preset-passphrase"
expect_exit 0 carca restore --use-agent --archive-dir "$WORK/rcache5" \
    "file://$WORK/tgt" "$WORK/r-agent"
same_tree "$WORK/snap2" "$WORK/r-agent" "restore --use-agent"
kill_agents
# nothing preset and no terminal: gpg-agent cannot ask; a failure, no hang
expect_exit 31 carca restore --use-agent --archive-dir "$WORK/rcache6" \
    "file://$WORK/tgt" "$WORK/r-agent2"
expect_err 'gpg-agent has no passphrase.*use-agent'
[ ! -e "$WORK/r-agent2" ] || fail "a failed restore left $WORK/r-agent2"

# ------------------------------------------------- keys gpg will not use
step "untrusted and unknown keys: 31 and why"
expect_exit 31 env GNUPGHOME="$UNTRUSTED" "$ARCA" full --encrypt-key "$E" \
    --archive-dir "$WORK/acache" --name untrusted "$WORK/snap0" "file://$WORK/tgt3"
expect_err "not trusted.*$E"
[ -z "$(ls "$WORK/tgt3" 2>/dev/null | grep -v '\.part$' | grep manifest)" ] ||
    fail "a refused backup wrote a manifest"
expect_exit 31 pub_carca full --encrypt-key nobody@arca.test \
    --archive-dir "$WORK/acache" --name unknown "$WORK/snap0" "file://$WORK/tgt4"
expect_err 'no usable public key for "nobody@arca.test"'

echo "30_pubkey: all passed"
