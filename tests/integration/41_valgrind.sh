#!/bin/bash
#
# 41_valgrind.sh: the main commands and their refusal paths, each run of
# arca under valgrind memcheck (no invalid read or write, no use of
# uninitialised memory, no definite or indirect leak), on small trees so
# that it stays quick: backups in both containers (gzip, and OpenPGP
# through gpg: restore, verify, list-current-files), an incremental,
# collection-status, list-current-files, verify, restores (whole and one
# path), duplicity's plain fixture, usage errors, and hostile
# targets from hostile.py and bounds.py that must be refused.
#
# In a sanitizer build (the asan preset) valgrind cannot run the binary:
# the same commands run natively and ASan+UBSan do the checking.
. "$(dirname "$0")/lib.sh"
need timeout

VGLOG=$WORK/vg
mkdir -p "$VGLOG"
# The built-in OpenPGP engine's S2K (65 million SHA-1 rounds per message)
# takes a minute under valgrind: there, encryption goes through gpg, which
# runs outside valgrind; natively the default engine is used.
ENGINE=()
# (Not `ldd | grep -q`: under pipefail, grep quitting early can kill
# ldd with SIGPIPE and make the test fail as if ASan were absent.)
if [[ "$(ldd "$ARCA" 2>/dev/null)" == *libasan* ]]; then
	echo "sanitizer build: running without valgrind"
	VG=()
else
	ENGINE=(--gpg-engine gnupg)
	need valgrind
	VG=(valgrind -q --error-exitcode=97 --leak-check=full
	    --errors-for-leak-kinds=definite,indirect
	    --show-leak-kinds=definite,indirect --track-origins=yes
	    --log-file="$VGLOG/%p.log")
fi
RUNS=0

# vg WANT ARGS...: run arca (under valgrind), WANT = exit code or "fail"
vg() {
	local want=$1 got=0 f t0=$SECONDS
	shift
	RUNS=$((RUNS + 1))
	timeout -k 5 600 "${VG[@]}" "$ARCA" "$@" >"$WORK/out" 2>"$WORK/err" \
	    </dev/null || got=$?
	for f in "$VGLOG"/*.log; do
		[ -e "$f" ] || continue
		if [ -s "$f" ]; then
			cat "$f" >&2
			fail "valgrind found errors in: arca $*"
		fi
		rm -f "$f"
	done
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/err"; then
		cat "$WORK/err" >&2
		fail "sanitizer report in: arca $*"
	fi
	echo "   $((SECONDS - t0)) s, exit $got: arca $*" | cut -c1-150
	[ "$got" != 97 ] || { cat "$WORK/err" >&2; fail "valgrind error exit: arca $*"; }
	if [ "$want" = fail ]; then
		[ "$got" != 0 ] && [ "$got" -lt 124 ] ||
		    { cat "$WORK/err" >&2; fail "expected a refusal, got exit $got: arca $*"; }
		grep -q '^arca: ' "$WORK/err" || fail "refusal without a message: arca $*"
	elif [ "$got" != "$want" ]; then
		cat "$WORK/err" >&2
		fail "expected exit $want, got $got: arca $*"
	fi
}

SRC=$WORK/src
T=file://$WORK/target
A=(--archive-dir "$WORK/arch")
$MKTREE "$SRC" 0 >/dev/null

step "plain backups"
vg 0 full --no-encryption "${A[@]}" "$SRC" "$T"
$MKTREE "$SRC" 1 >/dev/null
sleep 1
vg 0 incremental --no-encryption "${A[@]}" "$SRC" "$T"
vg 0 collection-status "${A[@]}" "$T"
vg 0 list-current-files "${A[@]}" "$T"
vg 0 verify "${A[@]}" "$T" "$SRC"

step "restores"
vg 0 restore "${A[@]}" "$T" "$WORK/r1"
$TREECMP --ignore-dir-mtime "$SRC" "$WORK/r1" >/dev/null || fail "restore differs"
first=$(cd "$SRC" && find . -type f | LC_ALL=C sort | head -n 1 | cut -c3-)
vg 0 restore "${A[@]}" --file-to-restore "$first" "$T" "$WORK/r2"
cmp "$SRC/$first" "$WORK/r2" || fail "single-file restore differs"

step "encrypted backup and restore"
mkdir "$WORK/small"
echo "secret text" >"$WORK/small/a.txt"
export PASSPHRASE=valgrind-pass
vg 0 full "${ENGINE[@]}" --archive-dir "$WORK/arch-e" "$WORK/small" \
    "file://$WORK/target-e"
vg 0 restore "${ENGINE[@]}" --archive-dir "$WORK/arch-e2" \
    "file://$WORK/target-e" "$WORK/r-e"
cmp "$WORK/small/a.txt" "$WORK/r-e/a.txt" || fail "encrypted restore differs"
# verify decrypts the volume; a fresh archive dir makes list-current-files
# decrypt the manifest and signature file.
vg 0 verify "${ENGINE[@]}" --archive-dir "$WORK/arch-e" \
    "file://$WORK/target-e" "$WORK/small"
vg 0 list-current-files "${ENGINE[@]}" --archive-dir "$WORK/arch-e4" \
    "file://$WORK/target-e"
grep -q ' a\.txt$' "$WORK/out" || { cat "$WORK/out" >&2; fail "encrypted list"; }
PASSPHRASE=wrong vg fail restore "${ENGINE[@]}" --archive-dir "$WORK/arch-e3" \
    "file://$WORK/target-e" "$WORK/r-e2"
unset PASSPHRASE

step "duplicity's plain fixture"
cp -r "$FIXTURES/plain" "$WORK/fixture"
chmod -R u+w "$WORK/fixture"
vg 0 restore --archive-dir "$WORK/arch-f" "file://$WORK/fixture" "$WORK/r-f"

step "usage errors"
vg 2 full --no-such-option "$SRC" "$T"
vg fail restore "${A[@]}" "$T" "$WORK/r1"	# target exists

step "hostile targets"
OUTSIDE=$WORK/outside
mkdir "$OUTSIDE"
for v in dotdot symlink-escape pax-bomb sig-huge; do
	$PY "$TESTS/tools/hostile.py" write "$v" "$WORK/h-$v" \
	    --outside "$OUTSIDE" >/dev/null
	case $v in
	sig-*) vg fail incremental --no-encryption --allow-source-mismatch \
	    --archive-dir "$WORK/ah-$v" "$SRC" "file://$WORK/h-$v" ;;
	*) vg fail restore --archive-dir "$WORK/ah-$v" "file://$WORK/h-$v" \
	    "$WORK/rh-$v" ;;
	esac
done
for v in multivol-gap delta-beyond; do
	$PY "$TESTS/tools/bounds.py" write "$v" "$WORK/b-$v"
	vg fail restore --archive-dir "$WORK/ab-$v" "file://$WORK/b-$v" \
	    "$WORK/rb-$v"
done
echo "$RUNS runs of arca, valgrind clean"
