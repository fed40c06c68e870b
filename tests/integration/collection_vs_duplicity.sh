#!/bin/bash
#
# collection_vs_duplicity.sh: build targets with the real duplicity 0.8.22
# and check that our collection-status text (test_collection --status) is
# the same as `duplicity collection-status` on them.
#
# Usage: collection_vs_duplicity.sh [path/to/test_collection]
# (or TEST_COLLECTION=...).  Exits 77 (skip) when duplicity is missing.
#
# Scenarios:
#   two-chains  chain A (full + 2 incs) whose first incremental lost its
#               remote manifest (-> 1 incomplete, 1 orphaned set) and whose
#               remote full-signatures is gone (-> 2 orphaned signature
#               files); chain B (full + inc) is primary.
#   partial     a full, then an incremental interrupted after volume 2
#               (--fail-on-volume): remote volumes + a local .manifest.part.
#   dropped     full + 2 incs, the last new-signatures deleted on both sides
#               (-> "discarding last backup set").
#   nosig       full + 1 inc without its new-signatures (no primary chain).
#
# Lines that depend on the environment ("Connecting with backend:",
# "Archive dir:") are left out of the comparison; both run with TZ=UTC.

set -u

drv=${1:-${TEST_COLLECTION:-}}
if [ -z "$drv" ]; then
	for d in build-dev build build/*; do
		if [ -x "$d/tests/unit/test_collection" ]; then
			drv=$d/tests/unit/test_collection
			break
		fi
	done
fi
if [ -z "$drv" ] || [ ! -x "$drv" ]; then
	echo "FAIL: test_collection driver not found (pass it as \$1)" >&2
	exit 1
fi
if ! command -v duplicity >/dev/null 2>&1; then
	echo "SKIP: duplicity is not installed" >&2
	exit 77
fi

export TZ=UTC LC_ALL=C.UTF-8 LANG=C.UTF-8
work=$(mktemp -d /tmp/arca-coll-XXXXXX)
[ -n "${KEEP_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
export HOME=$work/home
mkdir -p "$HOME"
arch=$work/arch
fails=0

dup() {
	duplicity --no-encryption --volsize 1 --archive-dir "$arch" "$@" \
	    >>"$work/dup.log" 2>&1
}

# source content: 2.5 MB of random bytes (several 1 MB volumes) + a text file
mksrc() {
	rm -rf "$work/src"
	mkdir -p "$work/src"
	head -c 2500000 /dev/urandom >"$work/src/big"
	echo one >"$work/src/small"
}

change() {
	echo "$1" >>"$work/src/small"
	head -c 1200000 /dev/urandom >"$work/src/new-$1"
}

compare() {
	local name=$1 target=$work/$1
	local exp=$work/$name.dup act=$work/$name.arca

	duplicity collection-status --no-encryption --archive-dir "$arch" \
	    --name "$name" "file://$target" >"$exp.raw" 2>"$exp.err"
	"$drv" --status "$target" "$arch/$name" >"$act.raw" 2>"$act.err"
	grep -v -e '^Connecting with backend: ' -e '^Archive dir: ' \
	    "$exp.raw" >"$exp"
	grep -v -e '^Connecting with backend: ' -e '^Archive dir: ' \
	    "$act.raw" >"$act"
	if [ ! -s "$exp" ]; then
		echo "FAIL $name: duplicity printed nothing" >&2
		cat "$exp.err" >&2
		fails=$((fails + 1))
	elif cmp -s "$exp" "$act"; then
		echo "ok   $name ($(wc -l <"$exp") lines agree)"
	else
		echo "FAIL $name: output differs (- duplicity, + arca)" >&2
		diff -u "$exp" "$act" >&2
		cat "$act.err" >&2
		fails=$((fails + 1))
	fi
}

t=1700000000

# --- two-chains ---------------------------------------------------------
n=two-chains; tg=file://$work/$n
mksrc
dup --name $n full --current-time $t "$work/src" "$tg"
change a; dup --name $n incremental --current-time $((t + 100)) "$work/src" "$tg"
change b; dup --name $n incremental --current-time $((t + 200)) "$work/src" "$tg"
change c; dup --name $n full --current-time $((t + 300)) "$work/src" "$tg"
change d; dup --name $n incremental --current-time $((t + 400)) "$work/src" "$tg"
rm -f "$work/$n"/duplicity-inc.20231114T221320Z.to.20231114T221500Z.manifest
rm -f "$work/$n"/duplicity-full-signatures.20231114T221320Z.sigtar.gz
touch "$work/$n/unrelated.txt"
compare $n

# --- partial ------------------------------------------------------------
n=partial; tg=file://$work/$n
mksrc
dup --name $n full --current-time $t "$work/src" "$tg"
change a
head -c 3500000 /dev/urandom >"$work/src/big2"
dup --name $n incremental --current-time $((t + 100)) --fail-on-volume 2 \
    "$work/src" "$tg"
if ! ls "$arch/$n"/*.manifest.part >/dev/null 2>&1; then
	echo "FAIL partial: duplicity left no .manifest.part" >&2
	fails=$((fails + 1))
fi
compare $n

# --- dropped ------------------------------------------------------------
n=dropped; tg=file://$work/$n
mksrc
dup --name $n full --current-time $t "$work/src" "$tg"
change a; dup --name $n incremental --current-time $((t + 100)) "$work/src" "$tg"
change b; dup --name $n incremental --current-time $((t + 200)) "$work/src" "$tg"
rm -f "$work/$n"/duplicity-new-signatures.*.to.20231114T221640Z.sigtar.gz \
    "$arch/$n"/duplicity-new-signatures.*.to.20231114T221640Z.sigtar.gz
compare $n

# --- nosig --------------------------------------------------------------
n=nosig; tg=file://$work/$n
mksrc
dup --name $n full --current-time $t "$work/src" "$tg"
change a; dup --name $n incremental --current-time $((t + 100)) "$work/src" "$tg"
rm -f "$work/$n"/duplicity-new-signatures.* "$arch/$n"/duplicity-new-signatures.*
compare $n

if [ $fails -ne 0 ]; then
	echo "$fails scenario(s) differ; duplicity's log:" >&2
	tail -n 40 "$work/dup.log" >&2
	exit 1
fi
echo "collection-status agrees with duplicity"
exit 0
