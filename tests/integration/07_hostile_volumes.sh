#!/bin/bash
#
# 07_hostile_volumes.sh: restore targets whose volumes attack the restore
# (tests/tools/hostile.py: "..", absolute names, writes through symlinks,
# hard links, lying sizes, 100 000-byte names, header bombs, garbage).
#
# For each variant, restore into a fresh $WORK/restore-N while canaries
# exist next to it ($WORK) and in a directory outside ($OUTSIDE) that the
# hostile symlinks and absolute names point at.  Required:
#   refuse   variants: a non-zero exit or a "refusing ..." message;
#   contain  variants: any exit;
#   ok       variants (benign controls): exit 0 and the expected files;
#   all:     exit < 128, no timeout, no sanitizer report, peak memory under
#            512 MiB, nothing changed in $WORK or $OUTSIDE besides the
#            restore dir and archive dir, none of the variant's probe paths
#            created, no temp file left in TMPDIR or the restore dir.
# list-current-files and verify also run on each target (crash checks).
# All variants run; the failed ones are listed at the end.

. "$(dirname "$0")/lib.sh"
need timeout

HOSTILE="$PY $TESTS/tools/hostile.py"
OUTSIDE=$(mktemp -d /tmp/arca-outside-XXXXXX)
trap 'rm -rf "$OUTSIDE"; cleanup_work' EXIT
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR" "$WORK/lists"
MAX_RSS_KB=$((512 * 1024))
FAILED=()

# canaries: a file a hard link or symlink would hit, a subdirectory, a
# file next to the restore dirs that "deleted/../x" names
echo "original victim" >"$OUTSIDE/victim.txt"
mkdir "$OUTSIDE/keep"
echo "keep" >"$OUTSIDE/keep/k.txt"
echo "canary x" >"$WORK/x"
mkdir "$WORK/canary"
echo "canary" >"$WORK/canary/c.txt"
mkdir "$WORK/empty-local"
# the source of the incrementals onto hostile signature files
mkdir "$WORK/bsrc"
echo "the new README" >"$WORK/bsrc/README.txt"
echo "benign file after the hostile member" >"$WORK/bsrc/zzz-after.txt"
echo "new in the incremental" >"$WORK/bsrc/new.txt"

timed() {	# timed RSSFILE CMD...: peak RSS (KiB) of CMD into RSSFILE
	local rss=$1
	shift
	if [ -x /usr/bin/time ]; then
		timeout -k 5 300 /usr/bin/time -f '%M' -o "$rss" "$@" </dev/null
	else
		echo 0 >"$rss"
		timeout -k 5 300 "$@" </dev/null
	fi
}

# Everything in $WORK except what a restore may change, and $OUTSIDE.
snapshot() {
	(
		cd "$WORK"
		find . -mindepth 1 \( -path ./tmp -o -path ./lists -o -path './restore-*' \
		    -o -path './arch-*' -o -path './t-*' -o -path ./out \
		    -o -path ./err -o -path ./cache -o -path ./gnupg \
		    -o -path ./bsrc \) -prune \
		    -o -printf '%p %y %s %m %n %T@ %l\n'
		cd "$OUTSIDE"
		find . -printf 'OUT %p %y %s %m %n %T@ %l\n'
		find . -type f -exec sha256sum {} +
		cd "$WORK"
		sha256sum x canary/c.txt
	) | LC_ALL=C sort
}

check_run() {	# check_run WHAT CODE RSSFILE ERRFILE
	local what=$1 code=$2 rss=$3 err=$4 kb
	[ "$code" -lt 128 ] || { cat "$err" >&2; fail "$what: killed (exit $code)"; }
	[ "$code" != 124 ] || fail "$what: timed out"
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation|core dumped|terminated by signal' "$err" "$rss" 2>/dev/null; then
		cat "$err" >&2
		fail "$what: crash report"
	fi
	kb=$(grep -E '^[0-9]+$' "$rss" | tail -n 1 || true)
	if [ -n "$kb" ] && [ "$kb" -gt "$MAX_RSS_KB" ]; then
		fail "$what: peak memory ${kb} KiB"
	fi
	if [ -n "$(ls -A "$TMPDIR")" ]; then
		ls -laR "$TMPDIR" >&2
		rm -rf "${TMPDIR:?}"/*
		fail "$what: temp files left in TMPDIR"
	fi
}

# A failed run must say why: its last "arca: " line may not end in ": "
# (a context prefix with the reason missing).
has_reason() {	# has_reason WHAT
	local last
	last=$(grep '^arca: ' "$WORK/err" | tail -n 1)
	[ -n "$last" ] || { cat "$WORK/err" >&2; fail "$1: no error message"; }
	case $last in
	*:|*": ") fail "$1: the error message gives no reason: '$last'" ;;
	esac
}

listing() {
	(cd "$1" && find . -printf '%p %y %s %m %T@\n' && find . -type f \
	    -exec sha256sum {} +) | LC_ALL=C sort
}

# An incremental backup onto a target with a hostile signature file.
backup_variant() {	# backup_variant N NAME KIND
	local n=$1 v=$2 kind=$3 t=$WORK/t-$1 r=$WORK/restore-$1 code
	$HOSTILE write "$v" "$t" --outside "$OUTSIDE" >/dev/null ||
	    fail "$v: hostile.py failed"
	snapshot >"$WORK/lists/before-$n"
	listing "$t" >"$WORK/lists/target-$n"
	code=0
	timed "$WORK/lists/rss-$n" "$ARCA" incremental --no-encryption \
	    --allow-source-mismatch --archive-dir "$WORK/arch-$n" \
	    "$WORK/bsrc" "file://$t" >"$WORK/out" 2>"$WORK/err" || code=$?
	echo "   $v: exit $code: $(grep -v '^Copying ' "$WORK/err" | tail -n 1 | cut -c1-160)"
	cp "$WORK/err" "$WORK/lists/err-$n"
	snapshot >"$WORK/lists/after-$n"
	cmp -s "$WORK/lists/before-$n" "$WORK/lists/after-$n" ||
	    fail "$v: something outside the target changed"
	check_run "$v: incremental" "$code" "$WORK/lists/rss-$n" "$WORK/err"
	if [ "$code" != 0 ]; then
		has_reason "$v: incremental"
		listing "$t" >"$WORK/lists/target2-$n"
		cmp -s "$WORK/lists/target-$n" "$WORK/lists/target2-$n" ||
		    { diff "$WORK/lists/target-$n" "$WORK/lists/target2-$n" >&2;
		    fail "$v: a failed incremental changed the target"; }
	fi
	if [ "$kind" = backup-ok ]; then
		[ "$code" = 0 ] || { cat "$WORK/err" >&2; fail "$v: benign incremental failed"; }
		"$ARCA" restore --archive-dir "$WORK/arch-$n" "file://$t" "$r" \
		    >"$WORK/out" 2>"$WORK/err" </dev/null ||
		    { cat "$WORK/err" >&2; fail "$v: restore after the incremental failed"; }
		cmp "$WORK/bsrc/README.txt" "$r/README.txt"
		cmp "$WORK/bsrc/new.txt" "$r/new.txt"
	fi
}

check_ok_tree() {	# check_ok_tree VARIANT DIR
	local v=$1 r=$2
	grep -qx "benign file before the hostile member" "$r/README.txt" ||
	    fail "$v: README.txt not restored"
	grep -qx "benign file after the hostile member" "$r/zzz-after.txt" ||
	    fail "$v: zzz-after.txt not restored"
	case $v in
	benign)
		[ "$(stat -c %s "$r/big.bin")" = 66536 ] || fail "$v: big.bin size"
		[ "$(readlink "$r/lnk")" = README.txt ] || fail "$v: lnk"
		grep -qx "in a dir" "$r/dir/f.txt" || fail "$v: dir/f.txt"
		;;
	benign-inc)
		grep -qx "added later" "$r/new.txt" || fail "$v: new.txt"
		[ -d "$r/dir" ] || fail "$v: dir missing"
		[ ! -e "$r/dir/f.txt" ] || fail "$v: deleted dir/f.txt restored"
		;;
	benign-2vol)
		[ "$(stat -c %s "$r/big.bin")" = 196613 ] || fail "$v: big.bin size"
		;;
	esac
}

one_variant() {	# one_variant N NAME KIND
	local n=$1 v=$2 kind=$3 t=$WORK/t-$1 r=$WORK/restore-$1 code p
	local probes=$WORK/lists/probes-$n

	case $kind in
	backup*) backup_variant "$@"; return ;;
	esac
	$HOSTILE write "$v" "$t" --outside "$OUTSIDE" --restore-dir "$r" \
	    >"$probes" || fail "$v: hostile.py failed"
	while read -r _ p; do
		[ ! -e "$p" ] || fail "$v: probe $p exists before the restore"
	done <"$probes"
	snapshot >"$WORK/lists/before-$n"

	code=0
	timed "$WORK/lists/rss-$n" "$ARCA" restore --archive-dir \
	    "$WORK/arch-$n" "file://$t" "$r" >"$WORK/out" 2>"$WORK/err" ||
	    code=$?
	echo "   $v: exit $code: $(grep -v '^Copying ' "$WORK/err" | tail -n 1 | cut -c1-160)"
	cp "$WORK/err" "$WORK/lists/err-$n"

	# the damage checks first: they matter most
	while read -r _ p; do
		if [ -e "$p" ] || [ -L "$p" ]; then
			rm -rf "$p"
			fail "$v: $p was created outside the restore dir"
		fi
	done <"$probes"
	snapshot >"$WORK/lists/after-$n"
	if ! cmp -s "$WORK/lists/before-$n" "$WORK/lists/after-$n"; then
		diff "$WORK/lists/before-$n" "$WORK/lists/after-$n" >&2 || true
		fail "$v: something outside the restore dir changed"
	fi
	check_run "$v: restore" "$code" "$WORK/lists/rss-$n" "$WORK/err"
	if [ -d "$r" ] && find "$r" -name '.arca-restore-*' | grep -q .; then
		fail "$v: half-written temp file left in the restore dir"
	fi

	[ "$code" = 0 ] || has_reason "$v: restore"
	case $kind in
	ok)
		[ "$code" = 0 ] || { cat "$WORK/err" >&2; fail "$v: benign restore failed"; }
		check_ok_tree "$v" "$r"
		;;
	refuse)
		if [ "$code" = 0 ] && ! grep -Eqi 'refus|unsafe' "$WORK/err"; then
			cat "$WORK/err" >&2
			find "$r" -printf '%p %y %s %l\n' >&2 || true
			fail "$v: restored with exit 0 and no refusal"
		fi
		;;
	esac

	# the other readers of volumes must not crash either
	code=0
	timed "$WORK/lists/rss-$n" "$ARCA" list-current-files --archive-dir \
	    "$WORK/arch-$n" "file://$t" >"$WORK/out" 2>"$WORK/err" || code=$?
	check_run "$v: list-current-files" "$code" "$WORK/lists/rss-$n" "$WORK/err"
	code=0
	timed "$WORK/lists/rss-$n" "$ARCA" verify --archive-dir \
	    "$WORK/arch-$n" "file://$t" "$WORK/empty-local" >"$WORK/out" \
	    2>"$WORK/err" || code=$?
	check_run "$v: verify" "$code" "$WORK/lists/rss-$n" "$WORK/err"
	snapshot >"$WORK/lists/after2-$n"
	cmp -s "$WORK/lists/before-$n" "$WORK/lists/after2-$n" ||
	    fail "$v: list-current-files or verify changed something"
}

n=0
while read -r name kind; do
	n=$((n + 1))
	[ -z "${ONLY:-}" ] || [ "$ONLY" = "$name" ] || continue
	step "$name ($kind)"
	set +e
	(set -e; one_variant "$n" "$name" "$kind")
	rc=$?
	set -e
	if [ "$rc" != 0 ]; then
		FAILED+=("$name")
		echo "-- variant '$name' FAILED" >&2
	fi
done < <($HOSTILE list)

[ "$n" -ge 20 ] || fail "hostile.py listed only $n variants"
if [ ${#FAILED[@]} -gt 0 ]; then
	printf 'failed variant: %s\n' "${FAILED[@]}" >&2
	fail "${#FAILED[@]} variant(s) failed"
fi
echo "PASS: 07_hostile_volumes ($n variants)"
