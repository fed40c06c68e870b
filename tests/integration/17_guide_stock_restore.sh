#!/usr/bin/env bash
# 17 (guide): the "without arca" restore script in docs/GUIDE.md, run as
# printed there, rebuilds a full backup plus two incrementals that arca made
# (pieces across volumes, deltas in pieces, deletions of a file and of a
# directory, names with spaces, a symlink) with nothing but gpg, tar, rdiff.
. "$(dirname "$0")/lib.sh"
need gpg tar rdiff

GUIDE=$TESTS/../docs/GUIDE.md
sed -n '/^```bash$/,/^```$/p' "$GUIDE" | sed '1d;$d' > "$WORK/restore-without-arca.sh"
grep -q 'restore-without-arca.sh PASSFILE' "$WORK/restore-without-arca.sh" ||
	fail "no script block in $GUIDE"

S=$WORK/src
T=file://$WORK/target
mkdir -p "$S/docs/old" "$S/media" "$WORK/target"
printf 'notes\n' > "$S/docs/notes.txt"
printf 'a space\n' > "$S/docs/with space.txt"
printf 'x\n' > "$S/docs/old/a"
printf 'y\n' > "$S/docs/old/b"
printf 'bye\n' > "$S/docs/gone.txt"
head -c 2500000 /dev/urandom > "$S/media/big.bin"	# pieces in 3 volumes
head -c 100000 /dev/urandom > "$S/media/mid.bin"
ln -s docs/notes.txt "$S/link"
find "$S" -exec touch -h -d @1700000000 {} +

umask 077
head -c 30 /dev/urandom | base64 > "$WORK/pass.txt"
umask 022
export PASSPHRASE="$(cat "$WORK/pass.txt")"
OPTS=(--volsize 1 --no-print-statistics --no-progress)

step "a full backup and two incrementals"
expect_exit 0 arca full "${OPTS[@]}" --current-time 1700000100 "$S" "$T"
printf 'more\n' >> "$S/docs/notes.txt"
rm "$S/docs/gone.txt"
rm -r "$S/docs/old"
printf 'new\n' > "$S/docs/new file.txt"
# A delta of more than 64 KiB: multivol_diff pieces.
head -c 200000 /dev/urandom >> "$S/media/big.bin"
dd if=/dev/urandom of="$S/media/mid.bin" bs=1k count=4 seek=10 conv=notrunc 2>/dev/null
find "$S" -exec touch -h -d @1700000200 {} +
expect_exit 0 arca incr "${OPTS[@]}" --current-time 1700000300 "$S" "$T"
printf 'again\n' >> "$S/docs/notes.txt"
mkdir "$S/docs/old"
printf 'back\n' > "$S/docs/old/c"
touch -h -d @1700000400 "$S/docs/notes.txt" "$S/docs/old" "$S/docs/old/c"
expect_exit 0 arca incr "${OPTS[@]}" --current-time 1700000500 "$S" "$T"
ls "$WORK/target" | grep -q 'multivol' && fail "volume names?"

step "the guide's script, with stock tools only"
( cd "$WORK" && bash restore-without-arca.sh pass.txt ./target ./restored ) \
    >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; fail "script failed"; }
grep -c '^applying ' "$WORK/err" | grep -qx 3 || fail "expected 3 sets applied"
diff -r --no-dereference "$S" "$WORK/restored" || fail "the stock restore differs"
[ "$(readlink "$WORK/restored/link")" = docs/notes.txt ] || fail "symlink"
echo OK
