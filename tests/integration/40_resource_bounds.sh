#!/bin/bash
#
# 40_resource_bounds.sh: targets that attack memory, time and disk rather
# than the path policy (tests/tools/bounds.py): gzip volumes and signature
# files that inflate 1000-fold, manifests of absurd length, a path of
# 100 000 bytes, deltas that copy from beyond their basis, multivol chunk
# sequences with gaps, repeats or a late start, volume sequences with a
# missing or repeated volume.
#
# For each variant, restore (and list-current-files) with a fresh archive
# dir, and require: refuse variants fail with a message naming the reason,
# ok variants restore the right bytes, every run stays under MAX_RSS_KB of
# peak memory (/usr/bin/time -v) and MAX_SECS seconds, no sanitizer report,
# no temp file left behind.  Targets are written once per variant; each
# bomb is about 256 KB that inflates to 256 MiB.
. "$(dirname "$0")/lib.sh"
need timeout

BOUNDS="$PY $TESTS/tools/bounds.py"
[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed (package time)"
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
# A manifest is capped at 64 MiB and parses into about 6 times its size;
# nothing else may need more than a few MiB.
MAX_RSS_KB=$((512 * 1024))
MAX_SECS=60
FAILED=()

run_timed() {	# run_timed NAME CMD...: exit code in $code, stats in $WORK/tv
	shift
	code=0
	timeout -k 5 $((MAX_SECS * 3)) /usr/bin/time -v -o "$WORK/tv" "$@" \
	    >"$WORK/out" 2>"$WORK/err" </dev/null || code=$?
}

check_bounds() {	# check_bounds WHAT
	local what=$1 kb secs
	[ "$code" != 124 ] || fail "$what: timed out"
	[ "$code" -lt 128 ] || { cat "$WORK/err" >&2; fail "$what: killed (exit $code)"; }
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/err"; then
		cat "$WORK/err" >&2
		fail "$what: sanitizer report"
	fi
	kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/tv")
	secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/tv" |
	    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print int(s) }')
	echo "   $what: exit $code, ${kb} KiB, ${secs} s: $(grep -v '^Copying' "$WORK/err" | tail -n 1 | cut -c1-150)"
	[ -n "$kb" ] || fail "$what: no peak RSS from /usr/bin/time"
	[ "$kb" -le "$MAX_RSS_KB" ] || fail "$what: peak memory ${kb} KiB"
	[ "$secs" -le "$MAX_SECS" ] || fail "$what: took ${secs} s"
	if [ -n "$(ls -A "$TMPDIR")" ]; then
		ls -la "$TMPDIR" >&2
		rm -rf "${TMPDIR:?}"/*
		fail "$what: temp files left in TMPDIR"
	fi
}

# The message a refusal must carry, per variant (grep -E, on stderr).
reason() {
	case $1 in
	manifest-huge) echo 'larger than [0-9]+ bytes' ;;
	manifest-long|volume-missing) echo 'volume 2 .*missing' ;;
	long-path|long-dirname) echo "refusing member|cannot create|too long" ;;
	delta-beyond) echo 'beyond the end of the basis' ;;
	delta-overflow) echo 'delta|rsync' ;;
	multivol-*|volume-repeat) echo 'chunk' ;;
	*) echo . ;;
	esac
}

one() {	# one N NAME KIND
	local n=$1 v=$2 kind=$3 t=$WORK/t-$1 r=$WORK/r-$1
	$BOUNDS write "$v" "$t" || fail "$v: bounds.py failed"
	run_timed "$v" "$ARCA" restore --archive-dir "$WORK/arch-$n" \
	    "file://$t" "$r"
	check_bounds "$v: restore"
	case $kind in
	refuse)
		[ "$code" != 0 ] || { cat "$WORK/err" >&2; fail "$v: restored without complaint"; }
		grep -Eq "$(reason "$v")" "$WORK/err" ||
		    { cat "$WORK/err" >&2; fail "$v: no clear reason"; }
		;;
	ok)
		[ "$code" = 0 ] || { cat "$WORK/err" >&2; fail "$v: restore failed"; }
		;;
	esac
	case $v in
	delta-ok)
		$PY - "$r/f.bin" <<'PYEOF' || fail "$v: wrong content"
import sys
b = bytes((i * 11 + 5) & 0xff for i in range(4000))
want = b[:1000] + b"new bytes" + b[1000:4000]
sys.exit(0 if open(sys.argv[1], "rb").read() == want else 1)
PYEOF
		;;
	multivol-ok)
		$PY - "$r/big.bin" <<'PYEOF' || fail "$v: wrong content"
import sys
want = bytes((i * 13 + 1) & 0xff for i in range(3 * 65536 + 5))
sys.exit(0 if open(sys.argv[1], "rb").read() == want else 1)
PYEOF
		;;
	gz-bomb-*)
		# the bomb comes after the end of the archive: the files before
		# it are there
		[ ! -d "$r" ] || [ "$code" != 0 ] ||
		    grep -qx "benign file before the hostile member" "$r/README.txt" ||
		    fail "$v: README.txt not restored"
		;;
	esac
	if [ -d "$r" ] && find "$r" -name '.arca-restore-*' | grep -q .; then
		fail "$v: half-written temp file left in the restore dir"
	fi
	run_timed "$v" "$ARCA" list-current-files --archive-dir \
	    "$WORK/arch-$n" "file://$t"
	check_bounds "$v: list-current-files"
	rm -rf "$t" "$r" "$WORK/arch-$n"
}

n=0
while read -r name kind; do
	n=$((n + 1))
	[ -z "${ONLY:-}" ] || [ "$ONLY" = "$name" ] || continue
	step "$name ($kind)"
	set +e
	(set -e; one "$n" "$name" "$kind")
	rc=$?
	set -e
	if [ "$rc" != 0 ]; then
		FAILED+=("$name")
		echo "-- variant '$name' FAILED" >&2
	fi
done < <($BOUNDS list)

# A restore path of 100 000 bytes on the command line.
step "100 000-byte --file-to-restore"
$BOUNDS write multivol-ok "$WORK/t-arg" || fail "bounds.py failed"
long=$(printf 'a/%.0s' $(seq 1 49999))f
run_timed arg "$ARCA" restore --archive-dir "$WORK/arch-arg" \
    --file-to-restore "$long" "file://$WORK/t-arg" "$WORK/r-arg"
check_bounds "long --file-to-restore"
[ "$code" != 0 ] || FAILED+=("long-restore-path")
[ ! -e "$WORK/r-arg" ] || [ -z "$(ls -A "$WORK/r-arg")" ] || FAILED+=("long-restore-path wrote files")

# A listing of absurd length: 100 000 files of 250-byte names beside a
# real set (names of duplicity's shape, so each is parsed).
step "a listing of 100 000 names"
$BOUNDS write multivol-ok "$WORK/t-list" || fail "bounds.py failed"
$PY - "$WORK/t-list" <<'PYEOF'
import os, sys
d = sys.argv[1]
for i in range(100000):
	name = "duplicity-inc.20240101T000000Z.to.20240102T000000Z.vol%d.difftar.gz" % (i + 1)
	open(os.path.join(d, name + ".x" * 90), "w").close()
PYEOF
run_timed list "$ARCA" collection-status --archive-dir "$WORK/arch-list" \
    "file://$WORK/t-list"
check_bounds "collection-status of 100 000 names"
[ "$code" = 0 ] || grep -q '^arca: ' "$WORK/err" || FAILED+=("long-listing")
rm -rf "$WORK/t-list"

[ "$n" -ge 15 ] || fail "bounds.py listed only $n variants"
if [ ${#FAILED[@]} -gt 0 ]; then
	fail "variants failed: ${FAILED[*]}"
fi
echo "all $n variants bounded"
