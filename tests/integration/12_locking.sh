#!/bin/bash
#
# 12_locking.sh: one run at a time per archive dir.
#
# A run is held still right after it took the lock (ARCA_TEST_STOP_AT=
# locked:1 makes arca stop itself there); meanwhile a second arca (backup,
# restore, collection-status, cleanup) must refuse with exit 23 and name
# the holder's process id, and so must real duplicity.  duplicity holding
# the lock (its own lock code, python3-fasteners) keeps arca out too.  The
# held run then finishes normally.  A lock left by a killed run (kill -9)
# and a stale lock file with rubbish in it are taken over.

. "$(dirname "$0")/lib.sh"
need duplicity

export HOME=$WORK/home
# killed runs leave their private temp dirs behind: keep them in $WORK
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
mkdir -p "$HOME" "$WORK/src"
unset PASSPHRASE
echo data >"$WORK/src/file"
URL=file://$WORK/tg
OPTS=(--no-encryption --archive-dir "$WORK/arch" --name n)
LOCK=$WORK/arch/n/lockfile

# wait_stopped PID: until the process has stopped itself (state T)
wait_stopped() {
	local i
	for i in $(seq 1 200); do
		if [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = T ]; then
			return 0
		fi
		kill -0 "$1" 2>/dev/null || fail "process $1 ended before stopping"
		sleep 0.05
	done
	fail "process $1 did not stop"
}

step "a first backup"
arca full "${OPTS[@]}" --current-time 1700000000 "$WORK/src" "$URL" >/dev/null

step "a run holding the lock keeps the others out"
echo more >>"$WORK/src/file"
ARCA_TEST_STOP_AT=locked:1 "$ARCA" incremental "${OPTS[@]}" \
    --current-time 1700000100 "$WORK/src" "$URL" >"$WORK/held.out" 2>&1 &
held=$!
wait_stopped $held
[ -e "$LOCK" ] || fail "no lock file while a run holds the lock"
grep -qx "$held" "$LOCK" || fail "the lock file does not name the holder"
expect_exit 23 arca incremental "${OPTS[@]}" --current-time 1700000200 \
    "$WORK/src" "$URL"
expect_err "process $held"
expect_err "already running with the archive dir $WORK/arch/n"
expect_exit 23 arca restore "${OPTS[@]}" "$URL" "$WORK/r"
expect_err "process $held"
[ -e "$WORK/r" ] && fail "a refused restore created its target"
expect_exit 23 arca collection-status "${OPTS[@]}" "$URL"
expect_exit 23 arca cleanup --force "${OPTS[@]}" "$URL"
expect_exit 23 arca remove-older-than 1D --force "${OPTS[@]}" "$URL"

step "duplicity is kept out by arca's lock"
expect_exit 23 duplicity collection-status "${OPTS[@]}" "$URL"
grep -q "Another duplicity instance is already running" "$WORK/out" "$WORK/err" ||
    fail "duplicity did not report the lock"

step "the held run finishes"
kill -CONT $held
wait $held || { cat "$WORK/held.out" >&2; fail "the held run failed"; }
[ -e "$LOCK" ] && fail "lock file left after a normal exit"
arca collection-status "${OPTS[@]}" "$URL" >"$WORK/st" ||
    fail "collection-status after the held run"
grep -q "Number of contained backup sets: 2" "$WORK/st" ||
    { cat "$WORK/st" >&2; fail "the held incremental is missing"; }

step "arca is kept out by duplicity's lock (fasteners, as duplicity takes it)"
mkdir -p "$WORK/arch/n"
$PY -c '
import fasteners, sys, time
l = fasteners.InterProcessLock(sys.argv[1])
assert l.acquire(blocking=False)
print("locked", flush=True)
time.sleep(60)
' "$LOCK" >"$WORK/py.out" 2>&1 &
pyholder=$!
for i in $(seq 1 100); do
	grep -q locked "$WORK/py.out" && break
	sleep 0.05
done
grep -q locked "$WORK/py.out" || { cat "$WORK/py.out" >&2; fail "python holder"; }
expect_exit 23 arca incremental "${OPTS[@]}" --current-time 1700000300 \
    "$WORK/src" "$URL"
expect_err "process $pyholder"
kill $pyholder
wait $pyholder 2>/dev/null || true

step "a lock left by a killed run is taken over"
echo again >>"$WORK/src/file"
ARCA_TEST_STOP_AT=locked:1 "$ARCA" incremental "${OPTS[@]}" \
    --current-time 1700000400 "$WORK/src" "$URL" >/dev/null 2>&1 &
dead=$!
wait_stopped $dead
kill -9 $dead
wait $dead 2>/dev/null || true
[ -e "$LOCK" ] || fail "the killed run left no lock file (test premise)"
arca incremental "${OPTS[@]}" --current-time 1700000500 "$WORK/src" "$URL" \
    >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; fail "stale lock not taken over"; }
[ -e "$LOCK" ] && fail "lock file left after the run"

step "a stale lock file with rubbish in it is taken over"
printf 'not a pid\n' >"$LOCK"
arca collection-status "${OPTS[@]}" "$URL" >/dev/null 2>"$WORK/err" ||
    { cat "$WORK/err" >&2; fail "rubbish lock file not taken over"; }
duplicity collection-status "${OPTS[@]}" "$URL" >/dev/null 2>&1 ||
    fail "duplicity after arca"

step "many runs at once: each one either runs or refuses with 23"
pids=()
for i in $(seq 1 12); do
	"$ARCA" collection-status "${OPTS[@]}" "$URL" >/dev/null 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do
	rc=0
	wait "$p" || rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 23 ] || fail "a concurrent run exited $rc"
done
[ -e "$LOCK" ] && fail "lock file left after concurrent runs"

echo "locking works"
