#!/usr/bin/env bash
# 26: the pipelined engine's error paths and early stops.
#
# A backup builds volume N+1 on the main thread while volume N is
# encrypted, hashed and uploaded on a second one.  Here the upload of
# volume 3 fails (a directory holds its name on the target) while later
# volumes are being built: the run must end with the backend's error,
# publish nothing after volume 2, leave no temp file on the target, and
# the next run must resume after volume 2 and produce a backup that arca
# and the real duplicity restore exactly.  A restore decrypts each volume
# on a second thread: a wrong passphrase must still fail cleanly, a
# one-file restore (which stops reading early) must give that file, and
# --concurrency 1 (nothing pipelined) must give the same backup.  A run
# whose main thread fails in the middle of a volume drops that volume.
. "$(dirname "$0")/lib.sh"
need duplicity gpg

export PASSPHRASE=pipeline-pass
src=$WORK/src
$MKTREE "$src" 0
# Enough data for several 1 MiB volumes: random (stored) and text
# (deflated), so both paths of the encoder run.
for i in 1 2 3 4; do
	head -c 700000 /dev/urandom >"$src/rand$i"
	$PY -c 'import sys; sys.stdout.write("line %s of text for the deflater\n" % sys.argv[1] * 28000)' \
	    $i >"$src/text$i"
done
T0=1700000000
T0S=20231114T221320Z
T=file://$WORK/t
A=(--archive-dir "$WORK/arch" --name pipe --volsize 1 --num-retries 1
    --no-print-statistics)

step "volume 3's upload fails while volume 4 is built"
mkdir -p "$WORK/t"
ARCA_TEST_STOP_AT=vol-put:3 "$ARCA" full "${A[@]}" --current-time $T0 \
    "$src" "$T" >"$WORK/out" 2>"$WORK/err" &
held=$!
for i in $(seq 1 400); do
	[ "$(awk '{ print $3 }' "/proc/$held/stat" 2>/dev/null)" = T ] && break
	sleep 0.05
done
[ "$(awk '{ print $3 }' "/proc/$held/stat" 2>/dev/null)" = T ] ||
	fail "the run never reached vol-put:3"
# Root ignores modes: a directory under the volume's name makes the
# final rename fail, after the data was written under a temp name.
vol3=duplicity-full.$T0S.vol3.difftar.gpg
mkdir "$WORK/t/$vol3"
touch "$WORK/t/$vol3/keep"
kill -CONT $held
rc=0
wait $held || rc=$?
[ $rc -ne 0 ] || fail "a backup whose volume 3 could not be uploaded succeeded"
grep -q "$vol3" "$WORK/err" || { cat "$WORK/err" >&2; fail "the error does not name $vol3"; }
ls -a "$WORK/t" >"$WORK/ls"
for v in 1 2; do
	grep -q "^duplicity-full\.$T0S\.vol$v\.difftar\.gpg$" "$WORK/ls" ||
		{ cat "$WORK/ls" >&2; fail "volume $v is not on the target"; }
done
if grep -Eq "vol([4-9]|[1-9][0-9])\.|manifest|signatures|^\.duplicity" "$WORK/ls"; then
	cat "$WORK/ls" >&2
	fail "something was published after the failed volume 3"
fi
[ "$(grep -c . "$WORK/ls")" -eq 5 ] ||
	{ cat "$WORK/ls" >&2; fail "unexpected files on the target (temp files?)"; }
part=$(ls "$WORK/arch/pipe/" | grep 'manifest\.part$' || true)
[ -n "$part" ] || { ls -la "$WORK/arch/pipe" >&2; fail "no partial manifest kept"; }
[ "$(grep -c '^Volume ' "$WORK/arch/pipe/$part")" -eq 2 ] ||
	{ cat "$WORK/arch/pipe/$part" >&2; fail "the partial manifest does not list exactly volumes 1 and 2"; }

step "the next run resumes (redoing volume 2, as duplicity does)"
rm -rf "${WORK:?}/t/$vol3"
expect_exit 0 arca full "${A[@]}" --current-time $T0 -v4 "$src" "$T"
grep -Eq "Restarting after volume [12]," "$WORK/err" "$WORK/out" ||
	{ cat "$WORK/out" "$WORK/err" >&2; fail "the rerun did not resume"; }
nvols=$(ls "$WORK/t" | grep -c "^duplicity-full\.$T0S\.vol")
[ "$nvols" -ge 4 ] || fail "expected at least 4 volumes, got $nvols"

step "arca and duplicity restore the resumed backup exactly"
expect_exit 0 arca restore "${A[@]}" "$T" "$WORK/r1"
$TREECMP "$src" "$WORK/r1" || fail "arca's restore differs"
duplicity restore --archive-dir "$WORK/dup-arch" --name pipe "$T" "$WORK/r2" \
    >"$WORK/dup.log" 2>&1 || { cat "$WORK/dup.log" >&2; fail "duplicity restore failed"; }
$TREECMP "$src" "$WORK/r2" || fail "duplicity's restore differs"

step "one file from the middle of the set (reading stops early)"
expect_exit 0 arca restore "${A[@]}" -r rand2 "$T" "$WORK/one"
cmp "$src/rand2" "$WORK/one" || fail "one-file restore differs"
expect_exit 0 arca restore "${A[@]}" -r text1 "$T" "$WORK/one1"
cmp "$src/text1" "$WORK/one1" || fail "one-file restore of the first file differs"

step "a wrong passphrase fails cleanly and restores nothing"
# The archive dir holds the plain manifest: the volumes are the first
# thing decrypted, on the decoder thread.
PASSPHRASE=wrong expect_exit 31 arca restore "${A[@]}" "$T" "$WORK/r3"
expect_err "wrong passphrase for duplicity-full\.$T0S\.vol1"
[ ! -e "$WORK/r3/rand1" ] || fail "a wrong passphrase restored data"

step "--concurrency 1 writes the same backup, serially"
A2=(--archive-dir "$WORK/arch3" --name serial --volsize 1 --no-print-statistics)
expect_exit 0 arca full "${A2[@]}" --concurrency 1 --current-time $T0 "$src" "file://$WORK/t2"
expect_exit 0 arca restore "${A2[@]}" --concurrency 1 "file://$WORK/t2" "$WORK/r4"
$TREECMP "$src" "$WORK/r4" || fail "serial restore differs"
[ "$(ls "$WORK/t2" | grep -c vol)" -eq "$nvols" ] ||
	fail "serial and pipelined runs cut different volumes"
expect_exit 2 arca full "${A2[@]}" --concurrency 0 "$src" "file://$WORK/t2"

step "the archive dir fills while a volume is being built and encoded"
# The senders encode a volume while the main thread still writes it; here
# the main thread fails (its signature file hits a full archive dir) in
# the middle of a volume: the run must stop with a clear error, drop that
# volume (nothing of it on the target, not even a temp file), and the
# next run must resume and give a backup both tools restore exactly.
src3=$WORK/src3
mkdir -p "$src3/b"
for i in 1 2 3; do head -c 700000 /dev/urandom >"$src3/a$i"; done
for i in $(seq -w 1 400); do
	$PY -c 'import sys; sys.stdout.write(("small file %s\n" % sys.argv[1]) * 40)' \
	    $i >"$src3/b/f$i"
done
mkdir -p "$WORK/arch4"
mount -t tmpfs -o size=160k tmpfs "$WORK/arch4" ||
    fail "this test needs root and tmpfs mounts"
trap 'umount "$WORK/arch4" 2>/dev/null || true; cleanup_work' EXIT
A4=(--archive-dir "$WORK/arch4" --name full4 --volsize 1 --no-print-statistics)
T4=file://$WORK/t4
expect_exit 30 arca full "${A4[@]}" --current-time $T0 "$src3" "$T4"
expect_err "[Nn]o space left"
ls -a "$WORK/t4" >"$WORK/ls4"
if grep -q "arca-tmp" "$WORK/ls4"; then
	cat "$WORK/ls4" >&2
	fail "the dropped volume left a temp file on the target"
fi
part=$(ls "$WORK/arch4/full4/" | grep 'manifest\.part$' || true)
[ -n "$part" ] || { ls -la "$WORK/arch4/full4" >&2; fail "no partial manifest kept"; }
listed=$(grep -c '^Volume ' "$WORK/arch4/full4/$part" || true)
onthere=$(grep -c '\.difftar\.gpg$' "$WORK/ls4" || true)
[ "$listed" -ge 1 ] && [ "$listed" -eq "$onthere" ] ||
	{ cat "$WORK/ls4" "$WORK/arch4/full4/$part" >&2; fail "target ($onthere volumes) and partial manifest ($listed) disagree"; }
# The signature file fills 160k in the small files, inside volume 3.
[ "$onthere" -eq 2 ] ||
	{ cat "$WORK/ls4" >&2; fail "expected volumes 1 and 2 only, the run stopped in volume 3"; }
# Every volume there is a whole tar: it ends with the end-of-archive blocks.
for v in $(grep '\.difftar\.gpg$' "$WORK/ls4"); do
	gpg --batch --quiet --passphrase "$PASSPHRASE" --pinentry-mode loopback \
	    -d "$WORK/t4/$v" >"$WORK/vol.tar" 2>"$WORK/gpg.err" ||
		{ cat "$WORK/gpg.err" >&2; fail "gpg cannot decrypt $v"; }
	[ "$(tail -c 1024 "$WORK/vol.tar" | tr -d '\0' | wc -c)" -eq 0 ] ||
		fail "$v on the target is not a whole tar"
done
mount -o remount,size=20m "$WORK/arch4" || fail "remount"
expect_exit 0 arca full "${A4[@]}" --current-time $T0 -v4 "$src3" "$T4"
grep -Eq "Restarting after volume" "$WORK/err" "$WORK/out" ||
	{ cat "$WORK/out" "$WORK/err" >&2; fail "the rerun did not resume"; }
expect_exit 0 arca restore "${A4[@]}" "$T4" "$WORK/r5"
$TREECMP "$src3" "$WORK/r5" || fail "arca's restore after the full archive dir differs"
duplicity restore --archive-dir "$WORK/dup-arch4" --name full4 "$T4" "$WORK/r6" \
    >"$WORK/dup.log" 2>&1 || { cat "$WORK/dup.log" >&2; fail "duplicity restore failed"; }
$TREECMP "$src3" "$WORK/r6" || fail "duplicity's restore after the full archive dir differs"
umount "$WORK/arch4"

echo "PASS: 26_pipeline"
