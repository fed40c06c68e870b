#!/bin/bash
#
# 13_openpgp_engines.sh: the built-in OpenPGP engine (passphrase mode's
# default) and GnuPG (--gpg-engine=gnupg) on one chain, with the real
# duplicity 0.8.22 and stock gpg reading and writing it too.
#
# A full backup by the built-in engine (its files share one salt: one key
# derivation per run), an incremental by GnuPG on top, one by duplicity,
# one by the built-in engine again (which reuses the full's verified salt);
# every remote file decrypts with stock gpg; arca restores each time with
# either engine, duplicity restores the latest.  Then the errors: a wrong
# passphrase, a volume modified behind a matching manifest hash (MDC), an
# old duplicity backup without MDC (refused, --allow-no-mdc reads it), and
# the options that force GnuPG or conflict with --gpg-engine=builtin.

. "$(dirname "$0")/lib.sh"
need duplicity gpg

export HOME=$WORK/home
mkdir -p "$HOME"
export PASSPHRASE=arca-openpgp-engines
SRC=$WORK/src
URL=file://$WORK/tgt
BT=(1700003600 1700090000 1700176400 1700262800)

dup() {
	duplicity "$@" >>"$WORK/dup.log" 2>&1 ||
	    { tail -n 40 "$WORK/dup.log" >&2; fail "duplicity $*"; }
}

# packets FILE: gpg's packet listing (gpg fails on what it cannot decrypt
# after listing the packets up to there)
packets() {
	gpg --batch --no-tty --list-packets --pinentry-mode loopback \
	    --no-symkey-cache --passphrase "$PASSPHRASE" "$1" 2>/dev/null || true
}

# salt FILE: the S2K salt of FILE's passphrase packet
salt() {
	packets "$1" | sed -n 's/^[[:space:]]*salt \([0-9A-F]*\),.*/\1/p' | head -n 1
}

set_files() {
	ls "$WORK/tgt" | grep -E "^duplicity-$1" | sed "s|^|$WORK/tgt/|"
}

step "phase 0: full backup, built-in engine (the default)"
$MKTREE "$SRC" 0
cp -a "$SRC" "$WORK/snap0"
expect_exit 0 arca full --volsize 1 --current-time "${BT[0]}" "$SRC" "$URL"
full=$(set_files "full")
n=0
s0=
for f in $full; do
	n=$((n + 1))
	packets "$f" >"$WORK/pk"
	grep -q "symkey enc packet: version 4, cipher 9, aead 0,s2k 3, hash 8, seskey 256 bits" "$WORK/pk" ||
	    { cat "$WORK/pk" >&2; fail "$f: not the built-in engine's SKESK"; }
	s=$(salt "$f")
	[ -n "$s" ] || fail "$f: no salt"
	[ -z "$s0" ] || [ "$s" = "$s0" ] || fail "$f: salt $s, the run's other files $s0 (one derivation per run)"
	s0=$s
done
[ "$n" -ge 3 ] || fail "full set has $n files"

step "phase 1: incremental by GnuPG on the built-in chain"
$MKTREE "$SRC" 1
cp -a "$SRC" "$WORK/snap1"
expect_exit 0 arca incremental --gpg-engine=gnupg --current-time "${BT[1]}" "$SRC" "$URL"
for f in $(set_files "inc.*to.$(date -u -d "@${BT[1]}" +%Y%m%dT%H%M%SZ)"); do
	packets "$f" | grep -q "s2k 3, hash 2" || fail "$f: not written by gpg (SHA-1 S2K)"
done

step "phase 2: incremental by duplicity"
$MKTREE "$SRC" 2
cp -a "$SRC" "$WORK/snap2"
dup incremental --archive-dir "$WORK/dcache" --name d --current-time "${BT[2]}" "$SRC" "$URL"

step "phase 3: incremental by the built-in engine, one salt for the run"
echo "phase 3" >"$SRC/phase3.txt"
touch -d "@$((BT[3] - 100))" "$SRC/phase3.txt" "$SRC"
cp -a "$SRC" "$WORK/snap3"
expect_exit 0 arca incremental --current-time "${BT[3]}" "$SRC" "$URL"
inc3=$(set_files "inc.*to.$(date -u -d "@${BT[3]}" +%Y%m%dT%H%M%SZ)")
[ -n "$inc3" ] || fail "no files for the last incremental"
for f in $inc3; do
	# Its passphrase check decrypted duplicity's manifest (gpg's SHA-1
	# S2K: too weak to reuse), so it derived its own key once.
	s=$(salt "$f")
	[ "$s" != "$s0" ] || fail "$f reused the salt of a weaker chain key"
	[ -z "${s3:-}" ] || [ "$s" = "$s3" ] || fail "$f: salt $s, its run's others $s3"
	s3=$s
done

step "stock gpg decrypts every file on the target"
for f in "$WORK"/tgt/*.gpg; do
	gpg --batch --no-tty --quiet --pinentry-mode loopback --no-symkey-cache \
	    --passphrase "$PASSPHRASE" -o /dev/null -d "$f" 2>"$WORK/gpg.err" ||
	    { cat "$WORK/gpg.err" >&2; fail "gpg -d $f"; }
done

for engine in builtin gnupg; do
	for p in 0 1 2 3; do
		step "arca restore --time ${BT[$p]}, --gpg-engine=$engine"
		rm -rf "$WORK/cache" "$WORK/r"
		expect_exit 0 arca restore --gpg-engine=$engine --time "${BT[$p]}" "$URL" "$WORK/r"
		$TREECMP "$WORK/snap$p" "$WORK/r" >"$WORK/cmp" ||
		    { cat "$WORK/cmp" >&2; fail "$engine restore at ${BT[$p]} differs"; }
	done
done

step "duplicity restores the latest (written by the built-in engine)"
rm -rf "$WORK/r"
dup restore --archive-dir "$WORK/dcache" --name d "$URL" "$WORK/r"
$TREECMP "$WORK/snap3" "$WORK/r" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "duplicity's restore differs"; }

step "an incremental by the built-in engine on its own chain reuses its salt"
rm -rf "$WORK/tgt2" "$WORK/cache"
expect_exit 0 arca full --current-time "${BT[0]}" "$WORK/snap0" "file://$WORK/tgt2"
expect_exit 0 arca incremental --allow-source-mismatch --current-time "${BT[1]}" \
    "$WORK/snap1" "file://$WORK/tgt2"
sa=$(salt "$(ls "$WORK"/tgt2/duplicity-full.*.manifest.gpg)")
sb=$(salt "$(ls "$WORK"/tgt2/duplicity-inc.*.manifest.gpg)")
[ -n "$sa" ] && [ "$sa" = "$sb" ] || fail "incremental salt $sb, full's $sa: derived again"

step "wrong passphrase: refused, the file named"
rm -rf "$WORK/cache" "$WORK/r"
PASSPHRASE=wrong expect_exit 31 arca restore "$URL" "$WORK/r"
expect_err "wrong passphrase for duplicity-"

step "a volume modified behind a matching manifest hash: MDC failure"
rm -rf "$WORK/tgt3" "$WORK/cache" "$WORK/r"
expect_exit 0 arca full --current-time "${BT[0]}" "$WORK/snap0" "file://$WORK/tgt3"
vol=$(ls "$WORK"/tgt3/duplicity-full.*.vol1.difftar.gpg)
old=$(sha1sum "$vol" | cut -d' ' -f1)
size=$(stat -c %s "$vol")
printf '\x55' | dd of="$vol" bs=1 seek=$((size / 2)) conv=notrunc status=none
new=$(sha1sum "$vol" | cut -d' ' -f1)
man=$(ls "$WORK"/cache/duplicity/*/duplicity-full.*.manifest)
sed -i "s/$old/$new/" "$man"
grep -q "$new" "$man" || fail "could not put the new hash into $man"
expect_exit 30 arca restore "file://$WORK/tgt3" "$WORK/r"
expect_err "$(basename "$vol"): integrity check failed"

step "an old duplicity backup without MDC: refused, --allow-no-mdc reads it"
rm -rf "$WORK/cache" "$WORK/r"
# As gpg 1.4 wrote them: duplicity's own --force-mdc comes after
# --gpg-options, so the old options go last, through a wrapper.
printf '#!/bin/sh\nexec gpg "$@" --rfc2440 --cipher-algo CAST5\n' >"$WORK/oldgpg"
chmod +x "$WORK/oldgpg"
dup full --archive-dir "$WORK/dcache" --name old --current-time "${BT[0]}" \
    --gpg-binary "$WORK/oldgpg" "$WORK/snap0" "file://$WORK/tgt4"
{ gpg --batch --no-tty --list-packets "$(ls "$WORK"/tgt4/duplicity-full.*.vol1.difftar.gpg)" \
    2>/dev/null || true; } | grep -q "tag=9" || fail "duplicity did not write an SE packet"
expect_exit 30 arca restore "file://$WORK/tgt4" "$WORK/r"
expect_err "not integrity protected"
rm -rf "$WORK/cache" "$WORK/r"
expect_exit 0 arca restore --allow-no-mdc "file://$WORK/tgt4" "$WORK/r"
$TREECMP "$WORK/snap0" "$WORK/r" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "--allow-no-mdc restore differs"; }

step "options: GnuPG where only it can, builtin refuses them"
rm -rf "$WORK/cache"
expect_exit 0 arca full --gpg-options "--compress-algo bzip2" --current-time "${BT[0]}" \
    "$WORK/snap0" "file://$WORK/tgt5"
packets "$(ls "$WORK"/tgt5/duplicity-full.*.manifest.gpg)" | grep -q "compressed packet: algo=3" ||
    fail "--gpg-options did not go to gpg"
expect_exit 2 arca full --gpg-engine=builtin --gpg-options "--compress-algo bzip2" \
    "$WORK/snap0" "file://$WORK/tgt6"
expect_err "--gpg-engine=builtin .*--gpg-options needs --gpg-engine=gnupg"
expect_exit 2 arca full --gpg-engine=builtin --encrypt-key nobody@example.org \
    "$WORK/snap0" "file://$WORK/tgt6"
expect_err "--encrypt-key needs --gpg-engine=gnupg"
expect_exit 2 arca full --gpg-engine=pgp "$WORK/snap0" "file://$WORK/tgt6"
expect_err "bad --gpg-engine 'pgp'"
[ ! -e "$WORK/tgt6" ] || [ -z "$(ls "$WORK/tgt6")" ] || fail "a refused run wrote to the target"
echo "OK"
