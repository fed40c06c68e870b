#!/bin/bash
#
# 03_duplicity_to_arca.sh: what the real duplicity 0.8.22 writes, arca
# restores exactly.
#
# The mktree tree goes through phases 0, 1, 2; after each phase duplicity
# backs it up (full, incremental, incremental; --volsize 1), once encrypted
# and once --no-encryption, and a copy of the source is kept.  arca, with a
# cache of its own (so it must fetch and decrypt duplicity's metadata), then
# restores every time into a fresh directory, and the result must match the
# copy.  Also: -r of the file that changes in every set, list-current-files
# and collection-status next to duplicity's, and verify --compare-data.

. "$(dirname "$0")/lib.sh"
need duplicity gpg

export HOME=$WORK/home
mkdir -p "$HOME"
PASS=duplicity-to-arca-pass
SRC=$WORK/src
BT=(1700003600 1700090000 1700176400)
MODES=(full incremental incremental)

dup() {
	duplicity "$@" >>"$WORK/dup.log" 2>&1 ||
	    { tail -n 40 "$WORK/dup.log" >&2; fail "duplicity $*"; }
}

# Lines that are not part of a listing or status, or depend on the setup.
unnoise() {
	grep -a -v -E '^(Synchronizing remote metadata|Copying .* to local cache\.$|Local and Remote metadata are synchronized|Last full backup date:|Deleting local .*not authoritative|Last full backup is too old|Connecting with backend: |Archive dir: )' "$1" || true
}

for p in 0 1 2; do
	step "phase $p: mktree, duplicity ${MODES[$p]} (encrypted and plain)"
	$MKTREE "$SRC" "$p"
	cp -a "$SRC" "$WORK/snap$p"
	PASSPHRASE=$PASS dup "${MODES[$p]}" --volsize 1 --archive-dir "$WORK/dcache" \
	    --name enc --current-time "${BT[$p]}" "$SRC" "file://$WORK/tgt-enc"
	dup "${MODES[$p]}" --no-encryption --volsize 1 --archive-dir "$WORK/dcache" \
	    --name plain --current-time "${BT[$p]}" "$SRC" "file://$WORK/tgt-plain"
done
n=$(ls "$WORK/tgt-enc" | grep -c '^duplicity-full\..*\.vol[0-9]*\.difftar\.gpg$' || true)
[ "$n" -ge 2 ] || fail "duplicity's full has $n volumes, the test wants several"

for kind in enc plain; do
	if [ $kind = enc ]; then
		enc=()
		export PASSPHRASE=$PASS
	else
		enc=(--no-encryption)
		unset PASSPHRASE
	fi
	url=file://$WORK/tgt-$kind
	for p in 0 1 2; do
		step "$kind: arca restore --time ${BT[$p]}"
		out=$WORK/arca-$kind-$p
		expect_exit 0 arca restore "${enc[@]}" --archive-dir "$WORK/acache" \
		    --time "${BT[$p]}" "$url" "$out"
		$TREECMP "$WORK/snap$p" "$out" >"$WORK/cmp" ||
		    { cat "$WORK/cmp" >&2; fail "$kind: arca's restore at ${BT[$p]} differs from phase $p (A = source, B = restore)"; }
		rm -rf "$out"

		step "$kind: arca -r big.bin --time ${BT[$p]}"
		expect_exit 0 arca restore "${enc[@]}" --archive-dir "$WORK/acache" \
		    --time "${BT[$p]}" -r big.bin "$url" "$WORK/big"
		$PY - "$WORK/snap$p/big.bin" "$WORK/big" <<'EOF' || fail "$kind: -r big.bin at phase $p"
import os, sys
a, b = (os.lstat(x) for x in sys.argv[1:3])
if open(sys.argv[1], "rb").read() != open(sys.argv[2], "rb").read():
	sys.exit("content differs")
if (a.st_mode, int(a.st_mtime), a.st_uid) != (b.st_mode, int(b.st_mtime), b.st_uid):
	sys.exit("metadata differs: %o %d %d vs %o %d %d" % (a.st_mode,
	    a.st_mtime, a.st_uid, b.st_mode, b.st_mtime, b.st_uid))
EOF
		rm -f "$WORK/big"

		step "$kind: list-current-files --time ${BT[$p]} vs duplicity"
		duplicity list-current-files "${enc[@]}" --archive-dir "$WORK/dcache" \
		    --name "$kind" --time "${BT[$p]}" "$url" >"$WORK/dup.raw" 2>"$WORK/dup.err" ||
		    { cat "$WORK/dup.err" >&2; fail "duplicity list-current-files"; }
		expect_exit 0 arca list-current-files "${enc[@]}" \
		    --archive-dir "$WORK/acache" --time "${BT[$p]}" "$url"
		unnoise "$WORK/dup.raw" >"$WORK/dup.ls"
		unnoise "$WORK/out" >"$WORK/arca.ls"
		[ "$(wc -l <"$WORK/dup.ls")" -gt 60 ] || { cat "$WORK/dup.raw" >&2; fail "duplicity listed too little"; }
		diff -u "$WORK/dup.ls" "$WORK/arca.ls" >&2 ||
		    fail "$kind: list-current-files at ${BT[$p]} differs (- duplicity, + arca)"
	done

	step "$kind: collection-status vs duplicity"
	duplicity collection-status "${enc[@]}" --archive-dir "$WORK/dcache" \
	    --name "$kind" "$url" >"$WORK/dup.raw" 2>"$WORK/dup.err" ||
	    { cat "$WORK/dup.err" >&2; fail "duplicity collection-status"; }
	expect_exit 0 arca collection-status "${enc[@]}" --archive-dir "$WORK/acache" "$url"
	unnoise "$WORK/dup.raw" >"$WORK/dup.st"
	unnoise "$WORK/out" >"$WORK/arca.st"
	diff -u "$WORK/dup.st" "$WORK/arca.st" >&2 ||
	    fail "$kind: collection-status differs (- duplicity, + arca)"

	step "$kind: arca verify --compare-data"
	expect_exit 0 arca verify --compare-data "${enc[@]}" --archive-dir "$WORK/acache" \
	    "$url" "$SRC"
	expect_exit 0 arca verify --compare-data "${enc[@]}" --archive-dir "$WORK/acache" \
	    --time "${BT[1]}" "$url" "$WORK/snap1"
	expect_exit 1 arca verify --compare-data "${enc[@]}" --archive-dir "$WORK/acache" \
	    --time "${BT[1]}" "$url" "$SRC"
done

echo "03_duplicity_to_arca: all passed"
