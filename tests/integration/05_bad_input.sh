#!/bin/bash
#
# 05_bad_input.sh: wrong passphrases, damaged volumes, missing targets,
# unreadable sources and bad option values.  Each case wants a clear
# message on stderr, the documented exit code, and nothing half-done:
# no restore dir (or an empty one), an unchanged target, no temp files.
#
# Every case runs in a subshell; all of them run, and the failed ones are
# listed at the end.

. "$(dirname "$0")/lib.sh"
need gpg timeout sha1sum sha256sum

export TMPDIR=$WORK/tmp		# arca's temp dirs; must be empty afterwards
mkdir -p "$TMPDIR"
unset PASSPHRASE SIGN_PASSPHRASE
RIGHT=right-passphrase
FIXPASS=fixture-passphrase
FAILED=()

# Never wait for a terminal, never hang.
arca() {
	timeout -k 5 600 "$ARCA" "$@" </dev/null
}

with_pass() {
	local p=$1
	shift
	PASSPHRASE=$p "$@"
}

no_pass() {
	(unset PASSPHRASE; "$@")
}

run_case() {
	local name=$1 rc
	shift
	step "$name"
	set +e
	(set -e; "$@")
	rc=$?
	set -e
	if [ "$rc" != 0 ]; then
		FAILED+=("$name")
		echo "-- case '$name' FAILED" >&2
	fi
}

# expect_clean CODE PATTERN CMD...: exit CODE, a one-line message matching
# PATTERN, no crash report, no temp files left behind.
expect_clean() {
	local code=$1 pat=$2
	shift 2
	expect_exit "$code" "$@"
	expect_err "$pat"
	clean_run
}

# After a run: no sanitizer or crash text, the final "arca: ..." line
# exists, TMPDIR is empty.
clean_run() {
	if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation|core dumped|Aborted' "$WORK/err"; then
		cat "$WORK/err" >&2
		fail "crash report on stderr"
	fi
	if [ -n "$(ls -A "$TMPDIR")" ]; then
		ls -laR "$TMPDIR" >&2
		fail "temp files left in TMPDIR"
	fi
}

# The last command's final error line: one line starting "arca: ".
one_line_error() {
	local last
	last=$(grep -v '^Try ' "$WORK/err" | tail -n 1)
	case $last in
	"arca: "?*) ;;
	*) cat "$WORK/err" >&2; fail "no final 'arca: ...' error line" ;;
	esac
}

absent_or_empty() {
	if [ -e "$1" ] && [ -n "$(ls -A "$1" 2>/dev/null)" ]; then
		ls -la "$1" >&2
		fail "$1 was created and is not empty"
	fi
}

# listing DIR: every entry with type, size, mode, mtime and content hash.
listing() {
	(
		cd "$1"
		find . -printf '%p %y %s %m %T@ %l\n' | LC_ALL=C sort
		find . -type f -exec sha256sum {} + | LC_ALL=C sort
	)
}

# files_listing DIR: regular files and their hashes (archive dirs: taking
# the lock changes the directory's mtime, not its files)
files_listing() {
	(cd "$1" && find . -type f ! -name lockfile -exec sha256sum {} + |
	    LC_ALL=C sort)
}

same_files() {	# same_files BEFORE_FILE DIR WHAT
	files_listing "$2" >"$WORK/after.lst"
	if ! cmp -s "$1" "$WORK/after.lst"; then
		diff "$1" "$WORK/after.lst" >&2 || true
		fail "$3 changed"
	fi
}

same_listing() {	# same_listing BEFORE_FILE DIR WHAT
	listing "$2" >"$WORK/after.lst"
	if ! cmp -s "$1" "$WORK/after.lst"; then
		diff "$1" "$WORK/after.lst" >&2 || true
		fail "$3 changed"
	fi
}

flip_byte() {	# flip_byte FILE: invert the byte in the middle
	$PY -c 'import os, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xff]))' "$1"
}

vol_of() {	# vol_of DIR N: name of the full set's volume N
	(cd "$1" && ls | grep -E "^duplicity-full\.[^.]*\.vol$2\.difftar")
}

# ----------------------------------------------------------- the targets

step "setup"
mkdir -p "$WORK/src/sub"
head -c 2600000 /dev/urandom >"$WORK/src/big.bin"
echo "small file" >"$WORK/src/small.txt"
echo "nested" >"$WORK/src/sub/nested.txt"
ENC=file://$WORK/enc
PLAIN=file://$WORK/plain
with_pass "$RIGHT" arca full --volsize 1 --archive-dir "$WORK/arch" \
    --name enc "$WORK/src" "$ENC" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log" >&2; fail "encrypted full backup failed"; }
arca full --no-encryption --volsize 1 --archive-dir "$WORK/arch" \
    --name plain "$WORK/src" "$PLAIN" >"$WORK/setup.log" 2>&1 ||
    { cat "$WORK/setup.log" >&2; fail "plain full backup failed"; }
[ -n "$(vol_of "$WORK/plain" 3)" ] || fail "the plain backup has < 3 volumes"
cp -r "$FIXTURES/encrypted" "$WORK/fixenc"
chmod -R u+w "$WORK/fixenc"

# ------------------------------------------------------ wrong passphrase

case_wrong_pass_restore_arca() {
	# warm cache: the manifest is cached in clear, the volumes are not
	expect_clean 31 'passphrase' with_pass wrong arca restore \
	    --archive-dir "$WORK/arch" --name enc "$ENC" "$WORK/r-wp1"
	one_line_error
	absent_or_empty "$WORK/r-wp1"
	# cold cache: the manifest itself must be decrypted first
	expect_clean 31 'passphrase' with_pass wrong arca restore \
	    --archive-dir "$WORK/arch-cold1" "$ENC" "$WORK/r-wp2"
	one_line_error
	absent_or_empty "$WORK/r-wp2"
	expect_clean 31 'passphrase' with_pass wrong arca verify \
	    --archive-dir "$WORK/arch" --name enc "$ENC" "$WORK/src"
	# and the right one works
	expect_exit 0 with_pass "$RIGHT" arca restore --archive-dir \
	    "$WORK/arch" --name enc "$ENC" "$WORK/r-wp3"
	cmp "$WORK/src/big.bin" "$WORK/r-wp3/big.bin"
}

case_wrong_pass_restore_fixture() {
	local u=file://$WORK/fixenc
	expect_clean 31 'passphrase' with_pass wrong arca restore \
	    --archive-dir "$WORK/arch-fix" "$u" "$WORK/r-fx1"
	one_line_error
	absent_or_empty "$WORK/r-fx1"
	# right passphrase, then at once a wrong one (gpg-agent cache trap)
	expect_exit 0 with_pass "$FIXPASS" arca restore \
	    --archive-dir "$WORK/arch-fix" "$u" "$WORK/r-fx2"
	$TREECMP --expected "$FIXTURES/expected.json" 2 "$WORK/r-fx2" \
	    >"$WORK/cmp.out" || { cat "$WORK/cmp.out" >&2; fail "fixture restore differs"; }
	expect_clean 31 'passphrase' with_pass wrong arca restore \
	    --archive-dir "$WORK/arch-fix" "$u" "$WORK/r-fx3"
	absent_or_empty "$WORK/r-fx3"
	# prime the agent's symmetric key cache with plain gpg, as a user
	# might have done, and try again, warm and cold
	gpg --batch --pinentry-mode loopback --passphrase "$FIXPASS" \
	    -o /dev/null -d "$WORK/fixenc/duplicity-full.20240101T000000Z.manifest.gpg" \
	    2>/dev/null
	gpg --batch --pinentry-mode loopback --passphrase "$FIXPASS" \
	    -o /dev/null -d "$WORK/fixenc/$(vol_of "$WORK/fixenc" 1)" 2>/dev/null
	expect_clean 31 'passphrase' with_pass wrong arca restore \
	    --archive-dir "$WORK/arch-fix" "$u" "$WORK/r-fx4"
	absent_or_empty "$WORK/r-fx4"
	expect_clean 31 'passphrase' with_pass wrong arca restore \
	    --archive-dir "$WORK/arch-fix-cold" "$u" "$WORK/r-fx5"
	absent_or_empty "$WORK/r-fx5"
	# listing needs the manifests only: a wrong passphrase fails there too
	expect_clean 31 'passphrase' with_pass wrong arca list-current-files \
	    --archive-dir "$WORK/arch-fix-cold2" "$u"
}

case_wrong_pass_incremental() {
	local d
	echo "changed" >>"$WORK/src/small.txt"
	listing "$WORK/enc" >"$WORK/enc.before"
	files_listing "$WORK/arch" >"$WORK/arch.before"
	expect_clean 31 'passphrase' with_pass wrong arca incremental \
	    --archive-dir "$WORK/arch" --name enc "$WORK/src" "$ENC"
	one_line_error
	same_listing "$WORK/enc.before" "$WORK/enc" "the target"
	same_files "$WORK/arch.before" "$WORK/arch" "the archive dir"
	# implicit form (auto: incremental on the existing chain)
	expect_clean 31 'passphrase' with_pass wrong arca \
	    --archive-dir "$WORK/arch" --name enc "$WORK/src" "$ENC"
	same_listing "$WORK/enc.before" "$WORK/enc" "the target"
	same_files "$WORK/arch.before" "$WORK/arch" "the archive dir"
	# cold cache
	expect_clean 31 'passphrase' with_pass wrong arca incremental \
	    --archive-dir "$WORK/arch-cold2" "$WORK/src" "$ENC"
	same_listing "$WORK/enc.before" "$WORK/enc" "the target"
	for d in "$WORK/arch-cold2"/*; do
		[ -d "$d" ] || continue
		if ls "$d" | grep -q '\.part$'; then
			fail "partial files left in $d"
		fi
	done
}

# ----------------------------------------------------------- no passphrase

case_no_passphrase_full() {
	expect_clean 31 'PASSPHRASE' no_pass arca full --archive-dir \
	    "$WORK/arch-np" "$WORK/src" "file://$WORK/np-target"
	one_line_error
	absent_or_empty "$WORK/np-target"
}

no_part_files() {	# no_part_files ARCHIVE_DIR
	if [ -d "$1" ] && find "$1" -name '*.part' | grep -q .; then
		find "$1" >&2
		fail "partial files left in the archive dir $1"
	fi
}

case_no_passphrase_full_clean() {
	expect_exit 31 no_pass arca full --archive-dir "$WORK/arch-np" \
	    "$WORK/src" "file://$WORK/np-target"
	no_part_files "$WORK/arch-np"
}

# gpg refuses an empty passphrase; arca must say so before it starts
case_empty_passphrase() {
	expect_clean 31 'empty|PASSPHRASE' with_pass "" arca full \
	    --archive-dir "$WORK/arch-ep" "$WORK/src" "file://$WORK/ep-target"
	one_line_error
	absent_or_empty "$WORK/ep-target"
	no_part_files "$WORK/arch-ep"
}

case_no_passphrase_incremental() {
	listing "$WORK/enc" >"$WORK/enc.before"
	expect_exit 31 no_pass arca incremental --archive-dir \
	    "$WORK/arch" --name enc "$WORK/src" "$ENC"
	clean_run
	same_listing "$WORK/enc.before" "$WORK/enc" "the target"
	# the message must say that no passphrase was given, not that the
	# chain was made with another one
	expect_err 'PASSPHRASE'
}

case_no_passphrase_restore() {
	expect_clean 31 'PASSPHRASE' no_pass arca restore --archive-dir \
	    "$WORK/arch-np2" "$ENC" "$WORK/r-np"
	one_line_error
	absent_or_empty "$WORK/r-np"
	expect_clean 31 'PASSPHRASE' no_pass arca restore --archive-dir \
	    "$WORK/arch" --name enc "$ENC" "$WORK/r-np2"
	absent_or_empty "$WORK/r-np2"
}

# -------------------------------------------------------- damaged volumes

case_corrupt_volume() {
	local v
	cp -r "$WORK/plain" "$WORK/corrupt"
	v=$(vol_of "$WORK/corrupt" 1)
	flip_byte "$WORK/corrupt/$v"
	expect_clean 21 "$v" arca restore --archive-dir "$WORK/arch-c1" \
	    "file://$WORK/corrupt" "$WORK/r-c1"
	one_line_error
	absent_or_empty "$WORK/r-c1"
	expect_clean 21 "$v" arca verify --archive-dir "$WORK/arch-c1" \
	    "file://$WORK/corrupt" "$WORK/src"
	# encrypted: the hash is of the stored file, checked before gpg
	cp -r "$WORK/enc" "$WORK/corrupt-enc"
	v=$(vol_of "$WORK/corrupt-enc" 1)
	flip_byte "$WORK/corrupt-enc/$v"
	expect_clean 21 "$v" with_pass "$RIGHT" arca restore --archive-dir \
	    "$WORK/arch-c2" "file://$WORK/corrupt-enc" "$WORK/r-c2"
	absent_or_empty "$WORK/r-c2"
}

# truncate_rehash DIR N SIZE: cut volume N to SIZE bytes and put its new
# SHA1 in the plain manifest, so the hash check passes.
truncate_rehash() {
	local dir=$1 n=$2 size=$3 v old new m
	v=$(vol_of "$dir" "$n")
	old=$(sha1sum "$dir/$v" | cut -d' ' -f1)
	truncate -s "$size" "$dir/$v"
	new=$(sha1sum "$dir/$v" | cut -d' ' -f1)
	for m in "$dir"/duplicity-full.*.manifest "${@:4}"; do
		grep -q "$old" "$m" || fail "no hash $old in $m"
		sed -i "s/$old/$new/" "$m"
	done
}

# restore of a damaged set: exit 30, the volume named, nothing written
# outside the restore dir, no half-written file inside it
damaged_restore() {	# damaged_restore URL RESTORE_DIR VOLNAME ARCHIVE_ARGS...
	local url=$1 r=$2 v=$3
	shift 3
	ls -A "$WORK" | grep -v -e '^r-' -e '^arch' -e '^tmp$' -e '^out$' \
	    -e '^err$' -e '^top\.' | LC_ALL=C sort >"$WORK/top.before"
	expect_clean 30 "$v" arca restore "$@" "$url" "$r"
	one_line_error
	ls -A "$WORK" | grep -v -e '^r-' -e '^arch' -e '^tmp$' -e '^out$' \
	    -e '^err$' -e '^top\.' | LC_ALL=C sort >"$WORK/top.after"
	cmp -s "$WORK/top.before" "$WORK/top.after" ||
	    { diff "$WORK/top.before" "$WORK/top.after" >&2; fail "files appeared next to the restore dir"; }
	if [ -e "$r" ] && find "$r" -name '.arca-restore-*' | grep -q .; then
		find "$r" >&2
		fail "half-written temp file left in $r"
	fi
}

# (a) no archive dir: the manifest comes from the target
case_truncated_nocache() {
	local v size
	cp -r "$WORK/plain" "$WORK/trunc1"
	v=$(vol_of "$WORK/trunc1" 1)
	size=$(stat -c %s "$WORK/trunc1/$v")
	truncate_rehash "$WORK/trunc1" 1 $((size / 2))
	damaged_restore "file://$WORK/trunc1" "$WORK/r-t1" "$v" \
	    --archive-dir "$WORK/arch-t1"
}

# (b) archive dir kept, its manifest copy edited as well; the middle
# volume of a file that spans three
case_truncated_cached() {
	local v size
	cp -r "$WORK/plain" "$WORK/trunc2"
	expect_exit 0 arca list-current-files --archive-dir "$WORK/arch-t2" \
	    --name t2 "file://$WORK/trunc2"
	v=$(vol_of "$WORK/trunc2" 2)
	size=$(stat -c %s "$WORK/trunc2/$v")
	truncate_rehash "$WORK/trunc2" 2 $((size / 3)) \
	    "$WORK"/arch-t2/t2/duplicity-full.*.manifest
	damaged_restore "file://$WORK/trunc2" "$WORK/r-t2" "$v" \
	    --archive-dir "$WORK/arch-t2" --name t2
}

# (c) the last volume cut to zero bytes
case_truncated_empty() {
	local v
	cp -r "$WORK/plain" "$WORK/trunc3"
	v=$(ls "$WORK/trunc3" | grep -c '\.vol[0-9]*\.difftar')
	truncate_rehash "$WORK/trunc3" "$v" 0
	damaged_restore "file://$WORK/trunc3" "$WORK/r-t3" \
	    "$(vol_of "$WORK/trunc3" "$v")" --archive-dir "$WORK/arch-t3"
}

# (d) a cut just after the gzip header (10 bytes)
case_truncated_header() {
	cp -r "$WORK/plain" "$WORK/trunc4"
	truncate_rehash "$WORK/trunc4" 1 10
	damaged_restore "file://$WORK/trunc4" "$WORK/r-t4" \
	    "$(vol_of "$WORK/trunc4" 1)" --archive-dir "$WORK/arch-t4"
}

# ----------------------------------------------------------- missing target

case_missing_target() {
	local u
	for u in "file:///nonexistent/arca-it-$$" "file://$WORK/no-such-target"; do
		expect_clean 19 'does not exist|not found|no backup' arca restore \
		    --archive-dir "$WORK/arch-m" "$u" "$WORK/r-m"
		one_line_error
		[ ! -e "$WORK/r-m" ] || fail "restore dir created for a missing target"
		expect_clean 19 'does not exist|not found|no backup' arca \
		    collection-status --archive-dir "$WORK/arch-m" "$u"
		one_line_error
		expect_clean 19 'does not exist|not found|no backup' arca \
		    list-current-files --archive-dir "$WORK/arch-m" "$u"
		one_line_error
		expect_clean 19 'does not exist|not found|no backup' arca \
		    verify --archive-dir "$WORK/arch-m" "$u" "$WORK/src"
	done
	[ ! -e "/nonexistent/arca-it-$$" ] || fail "the missing target was created"
	[ ! -e "$WORK/no-such-target" ] || fail "the missing target was created"
	# an empty target: no backup there
	mkdir "$WORK/empty-target"
	expect_clean 20 'no backup' arca restore --archive-dir "$WORK/arch-m" \
	    "file://$WORK/empty-target" "$WORK/r-m2"
	absent_or_empty "$WORK/r-m2"
}

# --------------------------------------------------- unreadable source files

case_unreadable_source() {
	local s=$WORK/usrc t=$WORK/nob as=()
	mkdir -p "$s/sub" "$s/locked" "$t"
	echo "readable a" >"$s/a.txt"
	echo "readable b" >"$s/sub/b.txt"
	head -c 200000 /dev/urandom >"$s/sub/big.bin"
	echo "secret" >"$s/secret.txt"
	echo "inner" >"$s/locked/inner.txt"
	if [ "$(id -u)" = 0 ]; then
		# root reads everything: run arca as nobody on a tree nobody
		# owns, except one file and one directory owned by root
		command -v setpriv >/dev/null || skip "setpriv is missing"
		chmod 755 "$WORK"
		chown -R nobody:nogroup "$s" "$t"
		chown root:root "$s/secret.txt" "$s/locked" "$s/locked/inner.txt"
		chmod 600 "$s/secret.txt"
		chmod 700 "$s/locked"
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups
		    env HOME="$t" TMPDIR="$t")
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    cat "$s/secret.txt" >/dev/null 2>&1 &&
		    fail "nobody can still read secret.txt"
	else
		chmod 000 "$s/secret.txt" "$s/locked"
		as=(env TMPDIR="$t")
	fi
	expect_exit 24 "${as[@]}" "$ARCA" full --no-encryption \
	    --archive-dir "$t/arch" "$s" "file://$t/target"
	expect_err 'secret\.txt'
	expect_err 'locked'
	clean_run
	if ls "$t" | grep -q '^arca-'; then
		fail "arca temp dir left in $t"
	fi
	expect_exit 0 arca restore --archive-dir "$WORK/arch-u" \
	    "file://$t/target" "$WORK/r-u"
	cmp "$s/a.txt" "$WORK/r-u/a.txt"
	cmp "$s/sub/b.txt" "$WORK/r-u/sub/b.txt"
	cmp "$s/sub/big.bin" "$WORK/r-u/sub/big.bin"
	[ ! -e "$WORK/r-u/secret.txt" ] || fail "secret.txt restored (as what?)"
	[ ! -e "$WORK/r-u/locked/inner.txt" ] || fail "locked/inner.txt restored"
	if [ "$(id -u)" = 0 ]; then
		chown -R root:root "$s"
		chmod 700 "$WORK"
	else
		chmod 700 "$s/locked"
	fi
}

# ------------------------------------------------------ bad option values

case_bad_options() {
	expect_clean 2 'volsize' arca full --no-encryption --volsize abc \
	    "$WORK/src" "file://$WORK/bo1"
	absent_or_empty "$WORK/bo1"
	expect_clean 2 'volsize' arca full --no-encryption --volsize 0 \
	    "$WORK/src" "file://$WORK/bo1"
	expect_clean 2 'volsize' arca full --no-encryption --volsize=-3 \
	    "$WORK/src" "file://$WORK/bo1"
	expect_clean 2 'volsize' arca full --no-encryption --volsize 1x \
	    "$WORK/src" "file://$WORK/bo1"
	absent_or_empty "$WORK/bo1"
	expect_clean 2 'time' arca restore --time garbage \
	    --archive-dir "$WORK/arch" --name plain "$PLAIN" "$WORK/r-bo"
	absent_or_empty "$WORK/r-bo"
	expect_clean 2 'time' arca restore -t 2024-13-45 \
	    --archive-dir "$WORK/arch" --name plain "$PLAIN" "$WORK/r-bo"
	expect_clean 2 'time' arca list-current-files -t garbage \
	    --archive-dir "$WORK/arch" --name plain "$PLAIN"
	expect_clean 2 'time' arca list-current-files --time= \
	    --archive-dir "$WORK/arch" --name plain "$PLAIN"
	absent_or_empty "$WORK/r-bo"
	expect_clean 2 '.' arca full --no-encryption --no-such-option \
	    "$WORK/src" "file://$WORK/bo2"
	absent_or_empty "$WORK/bo2"
	expect_clean 2 '.' arca full --no-encryption "$WORK/src"
	expect_clean 2 '.' arca restore "$PLAIN"
	expect_clean 2 'volsize' arca full --no-encryption "$WORK/src" \
	    "file://$WORK/bo3" --volsize
	absent_or_empty "$WORK/bo3"
}

# --------------------------------------------- restore over existing data

case_restore_exists() {
	mkdir -p "$WORK/r-ex"
	echo "keep me" >"$WORK/r-ex/mine.txt"
	expect_clean 11 'exists' arca restore --archive-dir "$WORK/arch" \
	    --name plain "$PLAIN" "$WORK/r-ex"
	one_line_error
	[ "$(ls -A "$WORK/r-ex")" = mine.txt ] || fail "restore dir was written"
	grep -qx "keep me" "$WORK/r-ex/mine.txt" || fail "mine.txt changed"
}

run_case "wrong passphrase, arca backup" case_wrong_pass_restore_arca
run_case "wrong passphrase, duplicity fixture" case_wrong_pass_restore_fixture
run_case "wrong passphrase, incremental" case_wrong_pass_incremental
run_case "no passphrase, full" case_no_passphrase_full
run_case "no passphrase, full: archive dir clean" case_no_passphrase_full_clean
run_case "empty passphrase, full" case_empty_passphrase
run_case "no passphrase, incremental" case_no_passphrase_incremental
run_case "no passphrase, restore" case_no_passphrase_restore
run_case "corrupted volume" case_corrupt_volume
run_case "truncated vol1, hash updated, no cache" case_truncated_nocache
run_case "truncated vol2, hash updated in the cache too" case_truncated_cached
run_case "last volume emptied, hash updated" case_truncated_empty
run_case "vol1 cut after the gzip header, hash updated" case_truncated_header
run_case "missing target" case_missing_target
run_case "unreadable source files" case_unreadable_source
run_case "bad option values" case_bad_options
run_case "restore over existing data" case_restore_exists

if [ ${#FAILED[@]} -gt 0 ]; then
	printf 'failed case: %s\n' "${FAILED[@]}" >&2
	fail "${#FAILED[@]} case(s) failed"
fi
echo "PASS: 05_bad_input"
