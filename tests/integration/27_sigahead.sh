#!/usr/bin/env bash
# 27: the signature stream read on its own thread during an incremental.
#
# By default an incremental merges the chain's cached signature files on a
# second thread, a few batches ahead of the walk.  Here: the increments it
# makes are the same as with --concurrency 1 (nothing threaded), and real
# duplicity restores them; a signature file that is corrupt thousands of
# entries in (so the error is met on the thread, not while opening) fails
# the run with the same message and exit code as the serial reader, and
# leaves the target as it was; and a run that fails on the main thread
# while the reader thread waits for room ends promptly with the upload's
# error.
. "$(dirname "$0")/lib.sh"
need duplicity

src=$WORK/src
mkdir -p "$src"
# 3,000 small files in 30 directories: several batches of the reader.
$PY - "$src" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(30):
    p = os.path.join(root, "d%02d" % d)
    os.mkdir(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d.txt" % f), "w") as fh:
            fh.write("file %d/%d\n" % (d, f) * (f % 7 + 1))
EOF
T0=1700000000
T1=1700003600
A=(--no-encryption --no-print-statistics --num-retries 1)

step "full backup, then changes in every tenth directory"
expect_exit 0 "$ARCA" full "${A[@]}" --archive-dir "$WORK/arch" --name s \
    --current-time $T0 "$src" "file://$WORK/t"
for d in 03 13 23; do
	for f in 005 050 099; do
		echo "changed" >>"$src/d$d/f$f.txt"
		touch -d @$((T1 - 60)) "$src/d$d/f$f.txt"
	done
	rm "$src/d$d/f010.txt"
	echo "new" >"$src/d$d/new.txt"
done
echo "past the last old entry" >"$src/zz-new.txt"
for c in 1 3; do
	cp -a "$WORK/t" "$WORK/t$c"
	cp -a "$WORK/arch" "$WORK/arch$c"
done

step "the incremental is the same with and without the reader thread"
for c in 1 3; do
	expect_exit 0 "$ARCA" incremental "${A[@]}" --concurrency $c \
	    --archive-dir "$WORK/arch$c" --name s --current-time $T1 \
	    "$src" "file://$WORK/t$c"
done
inc=$(cd "$WORK/t1" && ls | grep '^duplicity-inc\..*\.difftar\.gz$')
sig=$(cd "$WORK/t1" && ls | grep '^duplicity-new-signatures\..*\.sigtar\.gz$')
[ -n "$inc" ] && [ -n "$sig" ] || { ls "$WORK/t1" >&2; fail "no increment on the target"; }
for f in $inc $sig; do
	[ -e "$WORK/t3/$f" ] || fail "$f missing with the reader thread"
	zcat "$WORK/t1/$f" >"$WORK/serial"
	zcat "$WORK/t3/$f" >"$WORK/ahead"
	cmp "$WORK/serial" "$WORK/ahead" || fail "$f differs with the reader thread"
done
# The increment holds what changed (9 edits, 3 deletions, 4 new files).
zcat "$WORK/t3/$sig" | tar -tf - >"$WORK/members"
n=$(grep -c '^signature/' "$WORK/members")
[ "$n" = 13 ] || { cat "$WORK/members" >&2; fail "expected 13 signatures, got $n"; }
n=$(grep -c '^deleted/' "$WORK/members")
[ "$n" = 3 ] || { cat "$WORK/members" >&2; fail "expected 3 deletions, got $n"; }
expect_exit 0 duplicity restore --no-encryption --archive-dir "$WORK/dupcache" \
    "file://$WORK/t3" "$WORK/r"
$TREECMP "$src" "$WORK/r" || fail "duplicity's restore of the increment differs"

step "a signature file corrupt 2,000 entries in"
# Damage the name of member 2000 of the cached full signatures (its
# header checksum then fails); the gzip around it stays valid.
cached=$(ls "$WORK/arch/s/"duplicity-full-signatures.*.sigtar.gz)
$PY - "$cached" <<'EOF'
import gzip, sys
p = sys.argv[1]
data = bytearray(gzip.decompress(open(p, "rb").read()))
off, n = 0, 0
while n < 2000:
    size = int(data[off + 124:off + 136].strip(b" \0") or b"0", 8)
    off += 512 + (size + 511) // 512 * 512
    n += 1
data[off + 20] ^= 0x01
open(p, "wb").write(gzip.compress(bytes(data)))
EOF
(cd "$WORK/t" && ls -lA --time-style=+%s | sort) >"$WORK/before"
for c in 1 3; do
	rm -rf "$WORK/archc"
	cp -a "$WORK/arch" "$WORK/archc"
	rc=0
	timeout -k 5 120 "$ARCA" incremental "${A[@]}" --concurrency $c \
	    --archive-dir "$WORK/archc" --name s --current-time $T1 \
	    "$src" "file://$WORK/t" >"$WORK/out" 2>"$WORK/err$c" || rc=$?
	echo "   --concurrency $c: exit $rc: $(tail -n 1 "$WORK/err$c")"
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] ||
	    fail "--concurrency $c: exit $rc for a corrupt signature file"
	echo $rc >"$WORK/rc$c"
	grep -q "signature file duplicity-full-signatures\..*checksum" "$WORK/err$c" ||
	    { cat "$WORK/err$c" >&2; fail "--concurrency $c: the message names no signature file and cause"; }
	(cd "$WORK/t" && ls -lA --time-style=+%s | sort) >"$WORK/after"
	cmp -s "$WORK/before" "$WORK/after" ||
	    { diff "$WORK/before" "$WORK/after" >&2; fail "--concurrency $c: the failed run changed the target"; }
done
cmp -s "$WORK/rc1" "$WORK/rc3" || fail "exit codes differ: $(cat "$WORK/rc1") and $(cat "$WORK/rc3")"
tail -n 1 "$WORK/err1" >"$WORK/last1"
tail -n 1 "$WORK/err3" >"$WORK/last3"
cmp -s "$WORK/last1" "$WORK/last3" ||
    fail "the thread's message differs: '$(cat "$WORK/last3")' against '$(cat "$WORK/last1")'"

step "the main thread fails while the reader waits for room"
# Every file changes, in 1 MiB volumes; the first volume's upload fails
# for good while the reader holds its batches full.
cp -a "$WORK/arch1" "$WORK/archf"
rm -rf "$WORK/tf"
cp -a "$WORK/t1" "$WORK/tf"
$PY - "$src" <<'EOF'
import os, sys
root = sys.argv[1]
for d in sorted(os.listdir(root)):
    p = os.path.join(root, d)
    if os.path.isdir(p):
        for f in sorted(os.listdir(p)):
            with open(os.path.join(p, f), "ab") as fh:
                fh.write(os.urandom(1024))
EOF
(cd "$WORK/tf" && ls -lA --time-style=+%s | sort) >"$WORK/before"
rc=0
ARCA_TEST_FAULTS='put:*.vol1.*:fail' timeout -k 5 120 "$ARCA" incremental \
    "${A[@]}" --volsize 1 --archive-dir "$WORK/archf" --name s \
    --current-time $((T1 + 3600)) "$src" "file://$WORK/tf" \
    >"$WORK/out" 2>"$WORK/err" || rc=$?
echo "   exit $rc: $(tail -n 1 "$WORK/err")"
[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $rc -ne 137 ] ||
    fail "exit $rc for a failed upload (124/137: the run hung)"
grep -q "vol1" "$WORK/err" || { cat "$WORK/err" >&2; fail "the error does not name volume 1"; }
(cd "$WORK/tf" && ls -lA --time-style=+%s | sort) >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" ||
    { diff "$WORK/before" "$WORK/after" >&2; fail "the failed run changed the target"; }
echo "PASS: 27_sigahead"
