#!/bin/bash
#
# 19_midchain.sh: a corrupt or missing volume in the middle of a chain.
#
# A chain full + inc1 + inc2 + inc3 (several volumes in the full and in
# inc2).  In one copy of the target a volume of inc2 gets bytes flipped, in
# another it is deleted.  Then, on each copy:
# - restores at the times of the full and of inc1 are exact;
# - restores at inc2, inc3 and "latest" fail (non-zero exit) with a message
#   naming the volume file, and write nothing outside the restore dir;
# - verify at the latest time reports the volume and fails;
# - verify at inc1 passes: every volume of the chain up to inc1 is
#   downloaded and its SHA1 checked against its manifest, so a flipped
#   byte in any of them (the full's last volume, too) is reported.

. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
export PASSPHRASE=midchain-pass
OPTS=(--volsize 1)
T0=1700000000
T1=1700086400
T2=1700172800
T3=1700259200

# backup KIND TIME: back up $WORK/src to $WORK/tg, and keep a copy as exp.TIME
backup() {
	expect_exit 0 "$ARCA" "$1" "${OPTS[@]}" --archive-dir "$WORK/arch" \
	    --current-time "$2" "$WORK/src" "file://$WORK/tg"
	cp -a "$WORK/src" "$WORK/exp.$2"
}

step "build full + inc1 + inc2 + inc3"
$MKTREE "$WORK/src" 0 >/dev/null
backup full $T0
$MKTREE "$WORK/src" 1 >/dev/null
backup incremental $T1
$MKTREE "$WORK/src" 2 >/dev/null
head -c 2300000 /dev/urandom >"$WORK/src/inc2-big.bin"
backup incremental $T2
echo "after inc2" >"$WORK/src/inc3.txt"
backup incremental $T3
vols=$(cd "$WORK/tg" && ls | grep -E '^duplicity-inc\..*\.to\.20231116T221320Z\.vol[0-9]+\.difftar\.gpg$' | sort)
[ "$(echo "$vols" | wc -l)" -ge 3 ] || fail "inc2 should have at least 3 volumes: $vols"
# a volume in the middle of inc2
VOL=$(echo "$vols" | grep '\.vol2\.')
[ -n "$VOL" ] || fail "no vol2 in inc2"
FULLLAST=$(cd "$WORK/tg" && ls | grep -E '^duplicity-full\..*\.vol[0-9]+\.difftar\.gpg$' |
    sort -t. -k3,3V | tail -1)

cp -a "$WORK/tg" "$WORK/tg-flip"
cp -a "$WORK/tg" "$WORK/tg-gone"
/usr/bin/python3 - "$WORK/tg-flip/$VOL" <<'EOF'
import os, sys
p = sys.argv[1]
n = os.path.getsize(p)
with open(p, "r+b") as f:
    for off in (n // 3, n // 2, n - 100):
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0xff]))
EOF
rm "$WORK/tg-gone/$VOL"

# snapshot: every file under $WORK but the restore dir, the archive dirs
# (a cache that restore may fill) and the temp dir, with size and mtime
snapshot() {
	(cd "$WORK" && find . -mindepth 1 -path ./r -prune -o -path './arch*' -prune -o \
	    -path ./tmp -prune -o -path ./gnupg -prune -o -path ./out -prune -o \
	    -path ./err -prune -o -path './snap.*' -prune -o -printf '%p %s %T@\n' | sort)
}

for kind in flip gone; do
	URL=file://$WORK/tg-$kind
	A=(--archive-dir "$WORK/arch-$kind")

	step "$kind: restores before inc2 are exact"
	for t in $T0 $T1; do
		rm -rf "$WORK/r"
		expect_exit 0 "$ARCA" restore "${A[@]}" --time $t "$URL" "$WORK/r"
		$TREECMP "$WORK/exp.$t" "$WORK/r" >/dev/null ||
			fail "$kind: restore at $t differs"
	done

	step "$kind: restores at inc2, inc3 and latest fail, naming $VOL"
	for t in $T2 $T3 latest; do
		rm -rf "$WORK/r"
		snapshot >"$WORK/snap.before"
		got=0
		tm=(--time $t)
		[ $t = latest ] && tm=()
		"$ARCA" restore "${A[@]}" "${tm[@]}" "$URL" "$WORK/r" \
		    >"$WORK/out" 2>"$WORK/err" || got=$?
		[ "$got" != 0 ] || fail "$kind: restore at $t succeeded"
		expect_err "$VOL"
		if [ $kind = flip ]; then
			[ "$got" = 21 ] || fail "$kind: restore at $t: exit $got, not 21"
			expect_err "SHA1 hash mismatch for file: $VOL"
			# file:// volumes are read in place: nothing to fetch again.
			! grep -q "downloading it again" "$WORK/err" ||
				fail "$kind: a volume read in place was 'downloaded again'"
		else
			expect_err "volume 2 of the backup set of .* is missing from the target: $VOL"
		fi
		snapshot >"$WORK/snap.after"
		cmp -s "$WORK/snap.before" "$WORK/snap.after" ||
			{ diff "$WORK/snap.before" "$WORK/snap.after" >&2; fail "$kind: restore at $t wrote outside its dir"; }
		[ -z "$(ls "$TMPDIR")" ] || fail "$kind: restore left temp files: $(ls "$TMPDIR")"
	done

	step "$kind: verify reports the volume"
	got=0
	"$ARCA" verify "${A[@]}" "$URL" "$WORK/exp.$T3" >"$WORK/out" 2>"$WORK/err" || got=$?
	[ "$got" != 0 ] || fail "$kind: verify passed"
	expect_err "$VOL"
	step "$kind: verify before inc2 passes"
	expect_exit 0 "$ARCA" verify "${A[@]}" --time $T1 --compare-data "$URL" "$WORK/exp.$T1"
done

step "verify hashes every volume: a flipped byte in the full's last volume"
cp -a "$WORK/tg" "$WORK/tg-last"
printf 'X' | dd of="$WORK/tg-last/$FULLLAST" bs=1 seek=200 conv=notrunc status=none
got=0
"$ARCA" verify --archive-dir "$WORK/arch-last" --time $T0 "file://$WORK/tg-last" \
    "$WORK/exp.$T0" >"$WORK/out" 2>"$WORK/err" || got=$?
[ "$got" = 21 ] || { cat "$WORK/err" >&2; fail "verify with a bad $FULLLAST: exit $got, not 21"; }
expect_err "SHA1 hash mismatch for file: $FULLLAST"
echo "19_midchain: ok"
