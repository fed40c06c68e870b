#!/bin/bash
#
# 04_mixed_chain.sh: one chain written by both programs.
#
# duplicity makes the full (mktree phase 0), arca an incremental on top of it
# (phase 1), duplicity another incremental (phase 2), and arca a last one
# (phase 3: a few edits made here).  Every time in the chain is then
# restored by both duplicity and arca, each with a fresh cache, and must
# match the copy of the source taken at that phase.
#
# Variants (each encrypted and --no-encryption):
#   shared  both programs use the same --archive-dir and --name
#   fresh   each program has its own archive dir, so each must fetch (and
#           decrypt) the other's manifests and signatures from the target

. "$(dirname "$0")/lib.sh"
need duplicity gpg

export HOME=$WORK/home
mkdir -p "$HOME"
PASS=mixed-chain-pass
BT=(1700003600 1700090000 1700176400 1700262800)
T3=1700259200

dup() {
	duplicity "$@" >"$WORK/dup.last" 2>&1 ||
	    { tail -n 40 "$WORK/dup.last" >&2; fail "duplicity $*"; }
	cat "$WORK/dup.last" >>"$WORK/dup.log"
}

phase3() {
	printf 'added in phase 3\n' >"$1/phase3.txt"
	printf 'notes edited in phase 3\n' >>"$1/notes.txt"
	rm -f "$1/size-65537"
	chmod 0600 "$1/script.sh"
	touch -d "@$T3" "$1/phase3.txt" "$1/notes.txt" "$1"
}

for variant in shared fresh; do
	for kind in enc plain; do
		v=$variant-$kind
		if [ $kind = enc ]; then
			enc=()
			export PASSPHRASE=$PASS
		else
			enc=(--no-encryption)
			unset PASSPHRASE
		fi
		url=file://$WORK/tgt-$v
		src=$WORK/src-$v
		dcache=(--archive-dir "$WORK/dcache" --name "$v")
		if [ $variant = shared ]; then
			acache=("${dcache[@]}")
		else
			acache=(--archive-dir "$WORK/acache" --name "$v")
		fi

		step "$v: duplicity full (phase 0)"
		$MKTREE "$src" 0
		cp -a "$src" "$WORK/snap-$v-0"
		dup full "${enc[@]}" --volsize 1 "${dcache[@]}" \
		    --current-time "${BT[0]}" "$src" "$url"

		step "$v: arca incremental (phase 1)"
		$MKTREE "$src" 1
		cp -a "$src" "$WORK/snap-$v-1"
		expect_exit 0 arca incremental "${enc[@]}" --volsize 1 "${acache[@]}" \
		    --current-time "${BT[1]}" "$src" "$url"

		step "$v: duplicity incremental (phase 2)"
		$MKTREE "$src" 2
		cp -a "$src" "$WORK/snap-$v-2"
		dup incremental "${enc[@]}" --volsize 1 "${dcache[@]}" \
		    --current-time "${BT[2]}" "$src" "$url"
		grep -q "^Copying duplicity-new-signatures.*\.to\.$(date -u -d "@${BT[1]}" +%Y%m%dT%H%M%SZ)\.sigtar.* to local cache\.\$" \
		    "$WORK/dup.last" || [ $variant = shared ] ||
		    fail "$v: duplicity did not fetch arca's signatures"

		step "$v: arca incremental (phase 3)"
		phase3 "$src"
		cp -a "$src" "$WORK/snap-$v-3"
		expect_exit 0 arca incremental "${enc[@]}" --volsize 1 "${acache[@]}" \
		    --current-time "${BT[3]}" "$src" "$url"

		step "$v: one chain of four sets"
		duplicity collection-status "${enc[@]}" --archive-dir "$WORK/dstat" \
		    "$url" >"$WORK/st" 2>&1 || { cat "$WORK/st" >&2; fail "collection-status"; }
		grep -q "Number of contained backup sets: 4" "$WORK/st" &&
		    grep -q "Found 0 secondary backup chains." "$WORK/st" &&
		    grep -q "No orphaned or incomplete backup sets found." "$WORK/st" ||
		    { cat "$WORK/st" >&2; fail "$v: duplicity does not see one chain of 4 sets"; }

		for p in 0 1 2 3; do
			step "$v: restore --time ${BT[$p]} with duplicity and arca"
			out=$WORK/dup-$v-$p
			dup restore "${enc[@]}" --archive-dir "$WORK/drestore" --name "$v" \
			    --time "${BT[$p]}" "$url" "$out"
			$TREECMP "$WORK/snap-$v-$p" "$out" >"$WORK/cmp" ||
			    { cat "$WORK/cmp" >&2; fail "$v: duplicity's restore at phase $p differs (A = source, B = restore)"; }
			rm -rf "$out"
			out=$WORK/arca-$v-$p
			expect_exit 0 arca restore "${enc[@]}" --archive-dir "$WORK/arestore" \
			    --name "$v" --time "${BT[$p]}" "$url" "$out"
			$TREECMP "$WORK/snap-$v-$p" "$out" >"$WORK/cmp" ||
			    { cat "$WORK/cmp" >&2; fail "$v: arca's restore at phase $p differs (A = source, B = restore)"; }
			rm -rf "$out"
		done

		step "$v: verify --compare-data with both"
		dup verify --compare-data "${enc[@]}" --archive-dir "$WORK/drestore" \
		    --name "$v" "$url" "$src"
		expect_exit 0 arca verify --compare-data "${enc[@]}" \
		    --archive-dir "$WORK/arestore" --name "$v" "$url" "$src"
	done
done

echo "04_mixed_chain: all passed"
