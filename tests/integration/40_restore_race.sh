#!/bin/bash
#
# 40_restore_race.sh: restore into a target that changes underneath it.
#
# While arca restores a tree of many directories, tests/tools/swapper.py
# renames each directory it sees in the restore target and puts a symlink
# to an outside directory in its place (the classic check-then-use race).
# Whatever arca's exit status, nothing may appear or change in the outside
# directory: every write must go through directory descriptors opened with
# O_NOFOLLOW, never through a path resolved again.  Three rounds; at least
# one swap must have happened while arca ran, or the test proves nothing.
. "$(dirname "$0")/lib.sh"
need timeout

OUTSIDE=$(mktemp -d /tmp/arca-outside-XXXXXX)
trap 'rm -rf "$OUTSIDE"; cleanup_work' EXIT
chmod 755 "$OUTSIDE"
echo "victim" >"$OUTSIDE/f000.txt"
mkdir "$OUTSIDE/keep"
touch -d 2001-01-01 "$OUTSIDE/keep" "$OUTSIDE"

step "a tree of 150 directories, 3 levels"
$PY - "$WORK/src" <<'PYEOF'
import os, sys
root = sys.argv[1]
for i in range(50):
	for sub in ("", "/s", "/s/t"):
		d = "%s/d%03d%s" % (root, i, sub)
		os.makedirs(d, exist_ok=True)
		for j in range(12):
			with open("%s/f%03d.txt" % (d, j), "wb") as f:
				f.write(b"%d %d\n" % (i, j) * 200)
		# names an escaped write would create in OUTSIDE
		os.symlink("f000.txt", d + "/lnk")
for dirpath, dirnames, _ in os.walk(root, topdown=False):
	for d in dirnames:
		os.chmod(os.path.join(dirpath, d), 0o700)
		os.utime(os.path.join(dirpath, d), (86400, 86400))
PYEOF
expect_exit 0 "$ARCA" full --no-encryption "$WORK/src" "file://$WORK/target"

outside_state() {
	(cd "$OUTSIDE" && find . -printf '%p %y %s %m %T@ %l\n' &&
	    find . -type f -exec sha256sum {} +) | LC_ALL=C sort
	stat -c '%a %Y' "$OUTSIDE"
}
outside_state >"$WORK/outside.before"

total=0
for round in 1 2 3; do
	step "round $round"
	r=$WORK/restore-$round
	rm -f "$WORK/stop"
	mkdir "$r"
	$PY "$TESTS/tools/swapper.py" "$r" "$OUTSIDE" "$WORK/stop" \
	    "$WORK/swaps-$round" 120 &
	swapper=$!
	code=0
	timeout -k 5 300 "$ARCA" restore --force --archive-dir "$WORK/arch" \
	    "file://$WORK/target" "$r" >"$WORK/out" 2>"$WORK/err" </dev/null ||
	    code=$?
	touch "$WORK/stop"
	wait "$swapper"
	swaps=$(cat "$WORK/swaps-$round")
	total=$((total + swaps))
	echo "   exit $code after $swaps swaps: $(tail -n 1 "$WORK/err" | cut -c1-160)"
	[ "$code" -lt 124 ] || { cat "$WORK/err" >&2; fail "round $round: killed or timed out ($code)"; }
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/err"; then
		cat "$WORK/err" >&2
		fail "round $round: sanitizer report"
	fi
	if [ "$code" != 0 ]; then
		grep -q '^arca: ' "$WORK/err" || { cat "$WORK/err" >&2; fail "round $round: failed without a message"; }
	fi
	outside_state >"$WORK/outside.after"
	if ! cmp -s "$WORK/outside.before" "$WORK/outside.after"; then
		diff "$WORK/outside.before" "$WORK/outside.after" >&2 || true
		fail "round $round: a write escaped the restore target"
	fi
	# every file that exists in the restore dir is one of ours, whole
	(cd "$r" && find . -type f ! -name '.arca-restore-*' -print0) |
	    while IFS= read -r -d '' f; do
		case $f in
		*.moved-*) orig=$(echo "$f" | sed 's/\.moved-[0-9]*//g') ;;
		*) orig=$f ;;
		esac
		cmp -s "$r/$f" "$WORK/src/$orig" ||
		    fail "round $round: $f differs from $orig"
	done
done
[ "$total" -gt 0 ] || fail "no swap happened while arca ran: the race was not exercised"

step "control: the same restore without interference"
expect_exit 0 "$ARCA" restore --archive-dir "$WORK/arch" "file://$WORK/target" "$WORK/calm"
$TREECMP "$WORK/src" "$WORK/calm" >/dev/null || fail "control restore differs"
echo "no write escaped in 3 rounds ($total swaps)"
