#!/bin/bash
#
# 02_arca_to_duplicity.sh: what arca writes, the real duplicity 0.8.22
# restores exactly.
#
# The mktree tree goes through phases 0, 1, 2, then a phase 3 that rewrites
# most of big.bin (a delta larger than a volume); after each phase arca
# backs it up (full, then incrementals; --volsize 1 so the full and the last
# incremental have several volumes) twice, encrypted and --no-encryption,
# and a copy of the source is kept.  duplicity then restores each of the
# four times from each target into a fresh directory with a fresh cache, and
# the result must match the copy.  duplicity's collection-status and verify
# --compare-data must accept the targets too, and the containers must open
# with stock tools: gpg -d of a volume and of the signatures pipes into tar t
# cleanly, the manifest decrypts with gpg, the gzip volumes list with tar tz.

. "$(dirname "$0")/lib.sh"
need duplicity gpg tar gzip

export HOME=$WORK/home
mkdir -p "$HOME"
PASS=arca-to-duplicity-pass
SRC=$WORK/src
# backup times: an hour after each phase's mtimes (mktree T0, T1, T2)
BT=(1700003600 1700090000 1700176400 1700262800)
MODES=(full incremental incremental incremental)
TS=()
for t in "${BT[@]}"; do
	TS+=("$(date -u -d "@$t" +%Y%m%dT%H%M%SZ)")
done

dup() {
	duplicity "$@" >>"$WORK/dup.log" 2>&1 ||
	    { tail -n 40 "$WORK/dup.log" >&2; fail "duplicity $*"; }
}

gpgd() {
	gpg --batch --quiet --no-symkey-cache --pinentry-mode loopback \
	    --passphrase "$PASS" --decrypt "$@"
}

# tar_quiet ERRFILE: GNU tar said nothing but the one warning allowed:
# duplicity's tar writes PAX hdrcharset=BINARY for non-UTF-8 names, which
# GNU tar does not know.
tar_quiet() {
	! grep -v "Ignoring unknown extended header keyword 'hdrcharset'" "$1" >&2
}

# phase3 DIR: big.bin gets 2.5 MB of new bytes around a kept middle, so
# its delta is larger than a volume (multivol_diff across volumes)
phase3() {
	$PY - "$1/big.bin" <<'PYEOF'
import os, random, sys
p = sys.argv[1]
old = open(p, "rb").read()
r = random.Random(b"arca-02-phase3")
new = r.randbytes(1200000) + old[:30000] + r.randbytes(1300000)
open(p, "wb").write(new)
os.utime(p, (1700259200, 1700259200))
PYEOF
	touch -d @1700259200 "$1"
}

for p in 0 1 2 3; do
	step "phase $p: mktree, arca ${MODES[$p]} (encrypted and plain)"
	if [ "$p" -lt 3 ]; then
		$MKTREE "$SRC" "$p"
	else
		phase3 "$SRC"
	fi
	cp -a "$SRC" "$WORK/snap$p"
	export PASSPHRASE=$PASS
	expect_exit 0 arca "${MODES[$p]}" --volsize 1 \
	    --archive-dir "$WORK/acache" --name enc --current-time "${BT[$p]}" \
	    "$SRC" "file://$WORK/tgt-enc"
	unset PASSPHRASE
	expect_exit 0 arca "${MODES[$p]}" --no-encryption --volsize 1 \
	    --archive-dir "$WORK/acache" --name plain --current-time "${BT[$p]}" \
	    "$SRC" "file://$WORK/tgt-plain"
done

step "target contents"
ls "$WORK/tgt-enc" "$WORK/tgt-plain" >"$WORK/ls"
for kind in enc plain; do
	case $kind in
	enc) sfx=gpg; msfx=.gpg ;;
	plain) sfx=gz; msfx= ;;
	esac
	n=$(ls "$WORK/tgt-$kind" | grep -c "^duplicity-full\.[0-9TZ]*\.vol[0-9]*\.difftar\.$sfx\$" || true)
	[ "$n" -ge 2 ] || { cat "$WORK/ls" >&2; fail "$kind full has $n volumes, want >= 2 with --volsize 1"; }
	for pat in "duplicity-full\.[0-9TZ]*\.manifest$msfx" \
	    "duplicity-full-signatures\.[0-9TZ]*\.sigtar\.$sfx" \
	    "duplicity-inc\.[0-9TZ]*\.to\.[0-9TZ]*\.manifest$msfx" \
	    "duplicity-new-signatures\.[0-9TZ]*\.to\.[0-9TZ]*\.sigtar\.$sfx"; do
		n=$(ls "$WORK/tgt-$kind" | grep -c "^$pat\$" || true)
		case $pat in
		*inc*|*new-sig*) want=3 ;;
		*) want=1 ;;
		esac
		[ "$n" = "$want" ] || { cat "$WORK/ls" >&2; fail "$kind: $n files match $pat, want $want"; }
	done
done
[ -e "$WORK/tgt-enc/duplicity-full.${TS[0]}.manifest.gpg" ] ||
    { cat "$WORK/ls" >&2; fail "full set not named after --current-time ${BT[0]}"; }
[ -e "$WORK/tgt-enc/duplicity-inc.${TS[1]}.to.${TS[2]}.manifest.gpg" ] ||
    { cat "$WORK/ls" >&2; fail "second incremental not named after its times"; }

for kind in enc plain; do
	if [ $kind = enc ]; then
		enc=()
		export PASSPHRASE=$PASS
	else
		enc=(--no-encryption)
		unset PASSPHRASE
	fi
	url=file://$WORK/tgt-$kind
	for p in 0 1 2 3; do
		step "$kind: duplicity restore --time ${BT[$p]}"
		out=$WORK/dup-$kind-$p
		dup restore "${enc[@]}" --archive-dir "$WORK/dcache" --name "r$kind" \
		    --time "${BT[$p]}" "$url" "$out"
		$TREECMP "$WORK/snap$p" "$out" >"$WORK/cmp" ||
		    { cat "$WORK/cmp" >&2; fail "$kind: duplicity's restore at ${BT[$p]} differs from phase $p (A = source, B = restore)"; }
		rm -rf "$out"
	done

	step "$kind: duplicity -r of a file across the chain"
	dup restore "${enc[@]}" --archive-dir "$WORK/dcache" --name "r$kind" \
	    --time "${BT[1]}" -r big.bin "$url" "$WORK/big1"
	cmp "$WORK/big1" "$WORK/snap1/big.bin" || fail "$kind: big.bin at phase 1"
	rm -f "$WORK/big1"

	step "$kind: duplicity collection-status"
	duplicity collection-status "${enc[@]}" --archive-dir "$WORK/dcache" \
	    --name "r$kind" "$url" >"$WORK/st" 2>&1 || { cat "$WORK/st" >&2; fail "collection-status"; }
	grep -q "Number of contained backup sets: 4" "$WORK/st" &&
	    grep -q "No orphaned or incomplete backup sets found." "$WORK/st" &&
	    grep -q "Found 0 secondary backup chains." "$WORK/st" ||
	    { cat "$WORK/st" >&2; fail "$kind: duplicity's collection-status"; }

	step "$kind: duplicity verify --compare-data"
	dup verify --compare-data "${enc[@]}" --archive-dir "$WORK/dcache" \
	    --name "r$kind" "$url" "$SRC"
done

step "gpg -d of arca's volumes, signatures and manifest"
cd "$WORK/tgt-enc"
vols=(duplicity-full.*.vol*.difftar.gpg)
for v in "${vols[0]}" "${vols[-1]}" duplicity-inc.*.to.${TS[2]}.vol1.difftar.gpg \
    duplicity-full-signatures.*.sigtar.gpg duplicity-new-signatures.*.to.${TS[2]}.sigtar.gpg; do
	# Decrypted whole first: tar stops reading at the end-of-archive
	# blocks, and duplicity's own non-final volumes carry padding after
	# them, so gpg writing into a closed pipe is not a fault.
	gpgd "$v" >"$WORK/plain.tar" 2>"$WORK/gpg.err" ||
	    { cat "$WORK/gpg.err" >&2; fail "gpg -d $v"; }
	[ ! -s "$WORK/gpg.err" ] || { cat "$WORK/gpg.err" >&2; fail "gpg -d of $v complains"; }
	cat "$WORK/plain.tar" | tar tf - >"$WORK/tar.out" 2>"$WORK/tar.err" ||
	    { cat "$WORK/tar.err" >&2; fail "gpg -d $v | tar t"; }
	tar_quiet "$WORK/tar.err" || fail "tar t of $v complains"
	[ -s "$WORK/tar.out" ] || fail "$v holds no tar members"
	case $v in
	*full.*vol1.*)
		grep -Eq '^snapshot/' "$WORK/tar.out" || { head "$WORK/tar.out" >&2; fail "$v has no snapshot/ members"; }
		;;
	*full-sig*)
		grep -qx 'signature/big.bin' "$WORK/tar.out" || fail "$v lacks signature/big.bin"
		;;
	*inc*)
		grep -Eq '^(diff|deleted|snapshot)/' "$WORK/tar.out" || fail "$v has no diff/ deleted/ snapshot/ members"
		;;
	esac
done
# the wrong passphrase must not open anything
if gpg --batch --quiet --no-symkey-cache --pinentry-mode loopback \
    --passphrase wrong --decrypt "${vols[0]}" >/dev/null 2>&1; then
	fail "gpg -d with a wrong passphrase succeeded"
fi
for m in duplicity-full.*.manifest.gpg duplicity-inc.*.manifest.gpg; do
	gpgd "$m" >"$WORK/manifest" 2>"$WORK/gpg.err" ||
	    { cat "$WORK/gpg.err" >&2; fail "gpg -d $m"; }
	grep -q '^Hostname ' "$WORK/manifest" && grep -q '^Localdir ' "$WORK/manifest" &&
	    grep -q '^Volume 1:' "$WORK/manifest" && grep -q '^    Hash SHA1 ' "$WORK/manifest" ||
	    { cat "$WORK/manifest" >&2; fail "$m does not read as a manifest"; }
	local=$WORK/acache/enc/${m%.gpg}
	if [ -e "$local" ]; then
		cmp -s "$WORK/manifest" "$local" || fail "cached $local differs from the decrypted remote manifest"
	fi
done
# the manifest's volume hashes are the SHA1 of the remote files
gpgd duplicity-full.*.manifest.gpg >"$WORK/manifest" 2>/dev/null
i=0
for v in "${vols[@]}"; do
	i=$((i + 1))
	f=duplicity-full.${TS[0]}.vol$i.difftar.gpg
	[ -e "$f" ] || fail "volume $i missing"
	h=$(sha1sum "$f" | cut -d' ' -f1)
	grep -qi "Hash SHA1 $h" "$WORK/manifest" || { cat "$WORK/manifest" >&2; fail "manifest lacks SHA1 of $f"; }
done
cd "$WORK"

step "gzip containers"
for v in "$WORK"/tgt-plain/duplicity-full.*.vol*.difftar.gz "$WORK"/tgt-plain/*.sigtar.gz; do
	tar tzf "$v" >/dev/null 2>"$WORK/tar.err" || { cat "$WORK/tar.err" >&2; fail "tar tz $v"; }
	tar_quiet "$WORK/tar.err" || fail "tar tz of $v complains"
done
grep -q '^Volume 1:' "$WORK"/tgt-plain/duplicity-full.*.manifest || fail "plain manifest"
# phase 3's big.bin delta spans volumes of the last incremental
n=0
for v in "$WORK"/tgt-plain/duplicity-inc.*.to.${TS[3]}.vol*.difftar.gz; do
	tar tzf "$v" >"$WORK/tar.out" 2>/dev/null || fail "tar tz $v"
	if grep -q '^multivol_diff/big.bin/' "$WORK/tar.out"; then
		n=$((n + 1))
	fi
done
[ "$n" -ge 2 ] || fail "phase 3: multivol_diff/big.bin/ is in $n volumes, want >= 2"

echo "02_arca_to_duplicity: all passed"
