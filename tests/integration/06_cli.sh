#!/bin/bash
#
# 06_cli.sh: the command line as a user meets it, next to duplicity where
# both should behave alike.
#
#   --help/--version; usage errors exit 2 with a one-line reason;
#   restore into a non-empty directory (11, untouched; --force like
#   duplicity's, but never through a symlink found there); -r of a missing
#   path (19); incremental without a chain (17); missing source (13);
#   nothing at the target (20); relative and absolute --time strings against
#   --current-time; collection-status and list-current-files against
#   duplicity's; verify --compare-data (0, then 1 after a same-size,
#   same-mtime edit, and whatever else duplicity counts as a difference);
#   implicit backup/restore; the cron-script form: --include DIR --include
#   DIR --exclude '**' / URL; an incremental with the wrong passphrase (31,
#   nothing written); a locked archive dir (23); restore into a directory
#   whose parents are missing.
#
# Checks of parity with duplicity that do not stop the script when they
# fail are marked "deferred": they are listed, and fail it, at the end.

. "$(dirname "$0")/lib.sh"
need duplicity gpg

export HOME=$WORK/home
mkdir -p "$HOME"
unset PASSPHRASE
NE=--no-encryption
SRC=$WORK/src
URL=file://$WORK/tgt
AC=(--archive-dir "$WORK/acache")
DAY=86400
BT=(1700003600 1700090000 1700176400)

dupq() {
	duplicity "$@" >"$WORK/dup.out" 2>"$WORK/dup.err" ||
	    { cat "$WORK/dup.out" "$WORK/dup.err" >&2; fail "duplicity $*"; }
}

# Lines that are not part of a listing or status, or depend on the setup.
unnoise() {
	grep -a -v -E '^(Synchronizing remote metadata|Copying .* to local cache\.$|Local and Remote metadata are synchronized|Last full backup date:|Deleting local .*not authoritative|Last full backup is too old|Connecting with backend: |Archive dir: )' "$1" || true
}

# Checks of parity with duplicity that should not hide the checks after
# them: recorded here, reported (and failed) at the end.
later() {
	echo "FAIL (deferred): $*" >&2
	echo "$*" >>"$WORK/deferred"
}

# vexit EXPECTED-CODE WHAT ARGS...: run arca verify, defer a wrong exit code
vexit() {
	local want=$1 what=$2 got=0
	shift 2
	"$ARCA" verify "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
	[ "$got" = "$want" ] || { cat "$WORK/out" "$WORK/err" >&2; later "verify $what: exit $got, want $want (duplicity: $want)"; }
}

# one_line_reason: stderr of the last command is a short usage error
one_line_reason() {
	[ ! -s "$WORK/out" ] || { cat "$WORK/out" >&2; fail "usage error wrote to stdout"; }
	[ "$(wc -l <"$WORK/err")" -ge 1 ] && [ "$(wc -l <"$WORK/err")" -le 2 ] ||
	    { cat "$WORK/err" >&2; fail "usage error is not one line (plus a hint)"; }
	if grep -q -E 'Traceback|Usage:|usage:' "$WORK/err"; then
		cat "$WORK/err" >&2
		fail "usage error dumps more than a reason"
	fi
}

# ---------------------------------------------------------------- usage
step "--help, -h, --version"
expect_exit 0 arca --help
for c in full incremental restore verify collection-status list-current-files; do
	grep -q "^  $c " "$WORK/out" || { cat "$WORK/out" >&2; fail "--help does not list $c"; }
done
grep -q -- '--no-encryption' "$WORK/out" && grep -q -- '--file-to-restore' "$WORK/out" ||
    fail "--help does not list the options"
[ ! -s "$WORK/err" ] || fail "--help wrote to stderr"
expect_exit 0 arca -h
grep -q "list-current-files" "$WORK/out" || fail "-h"
expect_exit 0 arca --version
grep -q -E '^arca [0-9]' "$WORK/out" || { cat "$WORK/out" >&2; fail "--version"; }

step "usage errors exit 2 with one line"
expect_exit 2 arca --frobnicate "$WORK/x" "$URL"
expect_err "unknown option.*--frobnicate"
one_line_reason
expect_exit 2 arca restore -Q "$URL" "$WORK/x"
expect_err "unknown option.*-Q"
one_line_reason
expect_exit 2 arca full $NE --volsize lots "$WORK" "$URL"
expect_err "volsize"
one_line_reason
expect_exit 2 arca restore $NE -t yesterdayish "$URL" "$WORK/x"
expect_err "yesterdayish"
one_line_reason
expect_exit 2 arca restore $NE --time
one_line_reason
expect_exit 2 arca
one_line_reason
expect_exit 2 arca frobnicate a b c
expect_err "frobnicate"
one_line_reason
expect_exit 2 arca restore "$URL"
[ "$(wc -l <"$WORK/err")" -le 2 ] || fail "wrong argument count: more than a usage line"
[ ! -e "$WORK/tgt" ] && [ ! -e "$WORK/x" ] || fail "a usage error wrote something"

# ---------------------------------------------------------------- errors
step "missing source: 13"
expect_exit 13 arca full $NE "${AC[@]}" --current-time "${BT[0]}" "$WORK/no-such-dir" "$URL"
[ -z "$(ls -A "$WORK/tgt" 2>/dev/null)" ] || fail "a failed backup left files at the target"
expect_err "no-such-dir"
# (a regular file as the source is backed up, as duplicity does)

step "incremental without a chain: 17"
expect_exit 17 arca incremental $NE "${AC[@]}" --current-time "${BT[0]}" "$WORK" "file://$WORK/nochain"
[ -z "$(ls -A "$WORK/nochain" 2>/dev/null)" ] || fail "incremental without a chain wrote to the target"

step "nothing at the target: restore exits 20"
mkdir "$WORK/empty-tgt"
expect_exit 20 arca restore $NE "${AC[@]}" "file://$WORK/empty-tgt" "$WORK/x"
[ ! -e "$WORK/x" ] || fail "restore of nothing created its target"

# ---------------------------------------------------------------- a chain
# implicit backup: full the first time, incremental after
for p in 0 1 2; do
	step "phase $p: implicit 'arca SRC URL'"
	$MKTREE "$SRC" "$p"
	cp -a "$SRC" "$WORK/snap$p"
	expect_exit 0 arca $NE "${AC[@]}" --volsize 1 --current-time "${BT[$p]}" "$SRC" "$URL"
done
nf=$(ls "$WORK/tgt" | grep -c '^duplicity-full\..*\.manifest$' || true)
ni=$(ls "$WORK/tgt" | grep -c '^duplicity-inc\..*\.manifest$' || true)
[ "$nf" = 1 ] && [ "$ni" = 2 ] || { ls "$WORK/tgt" >&2; fail "implicit backups: $nf full, $ni inc; want 1 and 2"; }

step "implicit 'arca URL DIR' restores the latest"
expect_exit 0 arca $NE "${AC[@]}" "$URL" "$WORK/r"
$TREECMP "$WORK/snap2" "$WORK/r" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "implicit restore"; }
rm -rf "$WORK/r"

step "restore into an empty existing dir works without --force"
mkdir "$WORK/r"
expect_exit 0 arca restore $NE "${AC[@]}" -t "${BT[0]}" "$URL" "$WORK/r"
$TREECMP "$WORK/snap0" "$WORK/r" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "restore into empty dir"; }
rm -rf "$WORK/r"

step "restore into a non-empty dir: 11 and untouched, then --force"
mkdir "$WORK/busy"
printf 'stray\n' >"$WORK/busy/stray.txt"
printf 'will be replaced\n' >"$WORK/busy/notes.txt"
mkdir "$WORK/busy/deep"
printf 'x\n' >"$WORK/busy/deep/extra"
touch -d @1234567890 "$WORK/busy"/* "$WORK/busy"
cp -a "$WORK/busy" "$WORK/busy.orig"
cp -a "$WORK/busy" "$WORK/busy.dup"
expect_exit 11 arca restore $NE "${AC[@]}" "$URL" "$WORK/busy"
expect_err "exist"
$TREECMP "$WORK/busy.orig" "$WORK/busy" >"$WORK/cmp" ||
    { cat "$WORK/cmp" >&2; fail "a refused restore changed the directory"; }
expect_exit 0 arca restore $NE "${AC[@]}" --force "$URL" "$WORK/busy"
dupq restore $NE --archive-dir "$WORK/dcache" --force "$URL" "$WORK/busy.dup"
$TREECMP "$WORK/snap2" "$WORK/busy.dup" >"$WORK/cmp.dup" || true
$TREECMP "$WORK/snap2" "$WORK/busy" >"$WORK/cmp.arca" || true
grep -q '^stray.txt: only in B (reg)$' "$WORK/cmp.dup" ||
    { cat "$WORK/cmp.dup" >&2; fail "duplicity's --force restore is not what this test assumes"; }
diff -u "$WORK/cmp.dup" "$WORK/cmp.arca" >&2 ||
    fail "--force restore over a non-empty dir: arca's result differs from duplicity's (treecmp vs source, - duplicity, + arca)"

step "-r of a missing path: 19"
expect_exit 19 arca restore $NE "${AC[@]}" -r no/such/path "$URL" "$WORK/r"
[ ! -e "$WORK/r" ] || fail "-r of a missing path created the target"
expect_exit 19 arca restore $NE "${AC[@]}" -t "${BT[2]}" -r tree "$URL" "$WORK/r"
[ ! -e "$WORK/r" ] || fail "-r of a deleted path created the target"
expect_exit 0 arca restore $NE "${AC[@]}" -t "${BT[0]}" -r tree "$URL" "$WORK/r"
$TREECMP "$WORK/snap0/tree" "$WORK/r" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "-r tree at phase 0"; }
rm -rf "$WORK/r"

# ---------------------------------------------------------------- times
NOW=$((BT[2] + 3600))
for spec in "1D 1" "2D 0" "1D12h 0" "30m 2" "25h 1" "1h 2" "now 2" \
    "2023-11-15 0" "11/16/2023 1" "2023-11-16T23:13:20Z 2" "20231115T231320Z 1" \
    "${BT[1]} 1" "$((BT[1] - 1)) 0"; do
	t=${spec% *}
	p=${spec##* }
	step "-t $t with --current-time $NOW: phase $p"
	expect_exit 0 arca restore $NE "${AC[@]}" --current-time "$NOW" -t "$t" -r big.bin "$URL" "$WORK/r"
	cmp -s "$WORK/snap$p/big.bin" "$WORK/r" || fail "-t $t: big.bin is not phase $p's"
	[ "$(stat -c %Y "$WORK/r")" = "$(stat -c %Y "$WORK/snap$p/big.bin")" ] || fail "-t $t: big.bin mtime"
	rm -f "$WORK/r"
	expect_exit 0 arca list-current-files $NE "${AC[@]}" --current-time "$NOW" -t "$t" "$URL"
	unnoise "$WORK/out" >"$WORK/arca.ls"
	# duplicity parses -t before it applies --current-time (relative
	# times count from the real clock), so it gets the set's own time.
	dupq list-current-files $NE --archive-dir "$WORK/dcache" -t "${BT[$p]}" "$URL"
	unnoise "$WORK/dup.out" >"$WORK/dup.ls"
	diff -u "$WORK/dup.ls" "$WORK/arca.ls" >&2 ||
	    fail "list-current-files -t $t differs (- duplicity, + arca)"
done

# ---------------------------------------------------------------- status
step "collection-status and list-current-files vs duplicity"
expect_exit 0 arca collection-status $NE "${AC[@]}" "$URL"
unnoise "$WORK/out" >"$WORK/arca.st"
dupq collection-status $NE --archive-dir "$WORK/dcache" "$URL"
unnoise "$WORK/dup.out" >"$WORK/dup.st"
grep -q "Number of contained backup sets: 3" "$WORK/arca.st" ||
    { cat "$WORK/arca.st" >&2; fail "collection-status does not show 3 sets"; }
diff -u "$WORK/dup.st" "$WORK/arca.st" >&2 || fail "collection-status differs (- duplicity, + arca)"
expect_exit 0 arca list-current-files $NE "${AC[@]}" "$URL"
unnoise "$WORK/out" >"$WORK/arca.ls"
dupq list-current-files $NE --archive-dir "$WORK/dcache" "$URL"
unnoise "$WORK/dup.out" >"$WORK/dup.ls"
diff -u "$WORK/dup.ls" "$WORK/arca.ls" >&2 || fail "list-current-files differs (- duplicity, + arca)"
grep -q ' renamed-dir/sub/more.bin$' "$WORK/arca.ls" || fail "list-current-files lacks a phase-2 file"
! grep -q ' fifo$' "$WORK/arca.ls" || fail "list-current-files shows a deleted file"

# ---------------------------------------------------------------- verify
step "verify --compare-data: 0 on the same tree, 1 after an edit"
cp -a "$WORK/snap2" "$WORK/v"
expect_exit 0 arca verify $NE "${AC[@]}" --compare-data "$URL" "$WORK/v"
expect_exit 0 arca verify $NE "${AC[@]}" --compare-data -t "${BT[0]}" "$URL" "$WORK/snap0"
# same size, same mtime, one byte different: only the data can tell
$PY - "$WORK/v/size-65536" <<'EOF'
import os, sys
st = os.lstat(sys.argv[1])
with open(sys.argv[1], "r+b") as f:
	f.seek(40000)
	b = f.read(1)
	f.seek(40000)
	f.write(bytes([b[0] ^ 0x55]))
os.utime(sys.argv[1], ns=(st.st_atime_ns, st.st_mtime_ns))
EOF
expect_exit 1 arca verify $NE "${AC[@]}" --compare-data "$URL" "$WORK/v"
grep -q 'size-65536' "$WORK/out" "$WORK/err" ||
    { cat "$WORK/out" "$WORK/err" >&2; fail "verify does not name the differing file"; }
if duplicity verify $NE --archive-dir "$WORK/dcache" --compare-data "$URL" "$WORK/v" >/dev/null 2>&1; then
	fail "duplicity's verify missed the edit too: test is wrong"
fi
# a mode change is a difference too
cp -a "$WORK/snap2" "$WORK/v2"
chmod 0666 "$WORK/v2/notes.txt"
expect_exit 1 arca verify $NE "${AC[@]}" --compare-data "$URL" "$WORK/v2"
# a missing file too
cp -a "$WORK/snap2" "$WORK/v3"
rm "$WORK/v3/a.b"
touch -r "$WORK/snap2" "$WORK/v3"
expect_exit 1 arca verify $NE "${AC[@]}" --compare-data "$URL" "$WORK/v3"
# What duplicity also reports as a difference (exit 1): a file that is
# only in the local tree, a directory's mtime.
cp -a "$WORK/snap2" "$WORK/v4"
printf 'new\n' >"$WORK/v4/extra-local-file"
touch -r "$WORK/snap2" "$WORK/v4"
vexit 1 "of a tree with an extra file" $NE "${AC[@]}" --compare-data "$URL" "$WORK/v4"
cp -a "$WORK/snap2" "$WORK/v5"
touch -d @1600000000 "$WORK/v5/deep/d01"
vexit 1 "of a tree with a directory mtime changed" $NE "${AC[@]}" --compare-data "$URL" "$WORK/v5"
# -r of a single file verifies that file against a local file
vexit 0 "-r FILE" $NE "${AC[@]}" --compare-data -r notes.txt "$URL" "$WORK/snap2/notes.txt"
vexit 0 "-r DIR" $NE "${AC[@]}" --compare-data -r renamed-dir "$URL" "$WORK/snap2/renamed-dir"
cp -a "$WORK/snap2/renamed-dir" "$WORK/v6"
$PY - "$WORK/v6/kept.txt" <<'EOF2'
import os, sys
st = os.lstat(sys.argv[1])
data = bytearray(open(sys.argv[1], "rb").read())
data[0] ^= 0x20
open(sys.argv[1], "wb").write(data)
os.utime(sys.argv[1], ns=(st.st_atime_ns, st.st_mtime_ns))
EOF2
vexit 1 "-r DIR (one file edited)" $NE "${AC[@]}" --compare-data -r renamed-dir "$URL" "$WORK/v6"

# ---------------------------------------------------------------- cron
# The script from the issue:
#   duplicity --include=/etc --include=/home --exclude='**' / file:///backup
# with the directories inside $WORK.
step "cron form: --include DIR --include DIR --exclude '**' / URL"
C=$WORK/cron
mkdir -p "$C/etc/sub" "$C/home/user/.config" "$C/other" "$C/etcetera"
printf 'conf\n' >"$C/etc/a.conf"
printf 'sub\n' >"$C/etc/sub/b.conf"
printf 'rc\n' >"$C/home/user/.config/rc"
printf 'no\n' >"$C/other/skipped"
printf 'no\n' >"$C/etcetera/skipped"
printf 'no\n' >"$C/top-file"
expect_exit 0 arca $NE --archive-dir "$WORK/cron-cache" --current-time "${BT[0]}" \
    --include="$C/etc" --include="$C/home" --exclude='**' / "file://$WORK/cron-tgt"
[ "$(ls "$WORK/cron-tgt" | grep -c '^duplicity-full\..*\.manifest$')" = 1 ] || fail "cron form made no full backup"
expect_exit 0 arca list-current-files $NE --archive-dir "$WORK/cron-cache" "file://$WORK/cron-tgt"
unnoise "$WORK/out" | cut -c26- >"$WORK/arca.ls"
dupq $NE --archive-dir "$WORK/dcache" --current-time "${BT[0]}" \
    --include="$C/etc" --include="$C/home" --exclude='**' / "file://$WORK/cron-dup"
dupq list-current-files $NE --archive-dir "$WORK/dcache" "file://$WORK/cron-dup"
unnoise "$WORK/dup.out" | cut -c26- >"$WORK/dup.ls"
diff -u "$WORK/dup.ls" "$WORK/arca.ls" >&2 || fail "cron form: files backed up differ (- duplicity, + arca)"
grep -qx "${C#/}/etc/sub/b.conf" "$WORK/arca.ls" && grep -qx "${C#/}/home/user/.config/rc" "$WORK/arca.ls" ||
    { cat "$WORK/arca.ls" >&2; fail "cron form: included files missing"; }
! grep -q 'skipped\|top-file' "$WORK/arca.ls" || fail "cron form: excluded files backed up"
expect_exit 0 arca $NE --archive-dir "$WORK/cron-cache" "file://$WORK/cron-tgt" "$WORK/cron-r"
$TREECMP "$C/etc" "$WORK/cron-r/$C/etc" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "cron form: etc restored wrong"; }
$TREECMP "$C/home" "$WORK/cron-r/$C/home" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "cron form: home restored wrong"; }
[ ! -e "$WORK/cron-r/$C/other" ] && [ ! -e "$WORK/cron-r/$C/top-file" ] || fail "cron form: restored excluded files"
[ "$(ls -A "$WORK/cron-r")" = "${C#/}" ] || [ "$(ls -A "$WORK/cron-r")" = "$(echo "${C#/}" | cut -d/ -f1)" ] ||
    { ls -A "$WORK/cron-r" >&2; fail "cron form: restore has more than the included tree at its top"; }
# the same line again, a day later, is an incremental
# (like duplicity, arca sees a change by mtime and mode, not by size)
printf 'changed\n' >>"$C/etc/a.conf"
touch -d "@$((BT[0] + DAY - 60))" "$C/etc/a.conf"
expect_exit 0 arca $NE --archive-dir "$WORK/cron-cache" --current-time "$((BT[0] + DAY))" \
    --include="$C/etc" --include="$C/home" --exclude='**' / "file://$WORK/cron-tgt"
[ "$(ls "$WORK/cron-tgt" | grep -c '^duplicity-inc\..*\.manifest$')" = 1 ] || fail "second cron run made no incremental"
expect_exit 0 arca restore $NE --archive-dir "$WORK/cron-cache" -r "${C#/}/etc/a.conf" \
    "file://$WORK/cron-tgt" "$WORK/cron-a"
cmp "$C/etc/a.conf" "$WORK/cron-a" || fail "cron form: incremental content"

# ---------------------------------------------------------------- passphrase
step "encrypted: incremental with the wrong passphrase: 31, nothing written"
mkdir "$WORK/es"
printf 'one\n' >"$WORK/es/f"
PASSPHRASE=right-one expect_exit 0 arca full "${AC[@]}" --current-time "${BT[0]}" "$WORK/es" "file://$WORK/etgt"
printf 'two\n' >>"$WORK/es/f"
# Changes are seen by mtime (duplicity's rule): give the edit its own second.
touch -d @1700000123 "$WORK/es/f"
ls -A "$WORK/etgt" >"$WORK/etgt.before"
for cache in acache acache-fresh; do
	PASSPHRASE=wrong-one expect_exit 31 arca incremental --archive-dir "$WORK/$cache" \
	    --current-time "${BT[1]}" "$WORK/es" "file://$WORK/etgt"
	ls -A "$WORK/etgt" | diff -u "$WORK/etgt.before" - >&2 ||
	    fail "an incremental with the wrong passphrase ($cache) wrote to the target"
done
expect_exit 31 env -u PASSPHRASE "$ARCA" restore "${AC[@]}" "file://$WORK/etgt" "$WORK/er"
PASSPHRASE=right-one expect_exit 0 arca incremental "${AC[@]}" --current-time "${BT[1]}" "$WORK/es" "file://$WORK/etgt"
PASSPHRASE=right-one expect_exit 0 arca restore --archive-dir "$WORK/acache-fresh2" "file://$WORK/etgt" "$WORK/er"
$TREECMP "$WORK/es" "$WORK/er" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "encrypted round trip"; }

# ---------------------------------------------------------------- lock
step "archive dir locked by another process: 23"
# duplicity's lock: a POSIX record lock on <archive dir>/<name>/lockfile
mkdir -p "$WORK/acache/locked"
$PY - "$WORK/acache/locked/lockfile" "$ARCA" "$SRC" "file://$WORK/tgt" "$WORK/acache" <<'EOF2' >"$WORK/lock.out" 2>&1 ||
import fcntl, subprocess, sys
lock, arca, src, url, cache = sys.argv[1:6]
f = open(lock, "a")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
r = subprocess.run([arca, "incremental", "--no-encryption", "--archive-dir",
    cache, "--name", "locked", "--current-time", "1700300000", src, url],
    capture_output=True, text=True)
sys.stderr.write(r.stderr)
sys.exit(0 if r.returncode == 23 else 1)
EOF2
    { cat "$WORK/lock.out" >&2; fail "a locked archive dir did not give exit 23"; }
[ "$(ls "$WORK/tgt" | grep -c '^duplicity-inc\..*\.manifest$')" = 2 ] ||
    fail "a locked run wrote a backup set"

# ---------------------------------------------------------------- symlinks
step "restore --force does not write through symlinks already in the target"
mkdir "$WORK/outside" "$WORK/busy2"
ln -s "$WORK/outside" "$WORK/busy2/renamed-dir"
ln -s "$WORK/outside/victim" "$WORK/busy2/notes.txt"
expect_exit 0 arca restore $NE "${AC[@]}" --force "$URL" "$WORK/busy2"
[ -z "$(ls -A "$WORK/outside")" ] || { ls -la "$WORK/outside" >&2; fail "restore wrote through a symlink"; }
$TREECMP "$WORK/snap2" "$WORK/busy2" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "restore over symlinks"; }

# ---------------------------------------------------------------- parents
# duplicity creates the missing parents of a restore target directory (of a
# -r single file it does not: it prints an error and exits 0).
step "restore into a path whose parents do not exist yet"
if "$ARCA" restore $NE "${AC[@]}" "$URL" "$WORK/new/parent/r" >"$WORK/out" 2>"$WORK/err"; then
	$TREECMP "$WORK/snap2" "$WORK/new/parent/r" >"$WORK/cmp" || { cat "$WORK/cmp" >&2; fail "restore into new parents"; }
else
	cat "$WORK/err" >&2
	later "restore into DIR whose parents are missing fails (duplicity creates them)"
fi

if [ -s "$WORK/deferred" ]; then
	echo "--- deferred failures:" >&2
	cat "$WORK/deferred" >&2
	exit 1
fi

echo "06_cli: all passed"
