#!/bin/bash
#
# 11_interrupted.sh: a backup killed at any instant leaves the target
# consistent, the next run resumes it (or starts cleanly), and the result
# restores exactly, by arca and by real duplicity.
#
# arca kills itself with SIGKILL at a named point (ARCA_TEST_KILL_AT=
# point:n, docs/RETENTION.md): during the walk, mid-volume, before and
# after a volume's upload, after its manifest block, between the last
# volume and the signature upload, before, during and after the signature
# upload, before and after the manifest upload, while finishing, and while
# writing the resume state; on full and incremental backups, with and
# without encryption, and on a machine that only has the public key.
# After each kill: every earlier time still restores, the rerun succeeds,
# the result restores exactly (arca and duplicity), collection-status
# shows no incomplete or orphaned set, and the archive dir holds no
# leftovers.  Then the same for kills during cleanup and remove-older-than,
# and resuming across programs (arca resumes duplicity's partial set and
# duplicity arca's).

. "$(dirname "$0")/lib.sh"
need duplicity gpg

export HOME=$WORK/home
# killed runs leave their private temp dirs behind: keep them in $WORK
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
mkdir -p "$HOME"
T0=1700000000
T1=1700086400
T2=1700172800
PASS=interrupted-test-pass

# mksrc DIR: ~4.5 MB in three files (several 1 MB volumes) and small ones
mksrc() {
	rm -rf "$1"
	mkdir -p "$1/sub" "$1/empty"
	head -c 1500000 /dev/urandom >"$1/f1"
	head -c 1500000 /dev/urandom >"$1/f2"
	head -c 1500000 /dev/urandom >"$1/f3"
	for i in $(seq 1 40); do echo "small file $i" >"$1/sub/s$i"; done
	ln -s f1 "$1/link"
	# changes are seen by mtime in whole seconds: keep them apart
	touch -d @$((T0 - 3600)) "$1"/f? "$1"/sub/*
}

# mutate DIR: an incremental of several volumes (new data, a delta, a deletion)
mutate() {
	head -c 2500000 /dev/urandom >"$1/new-big"
	head -c 700000 /dev/urandom >>"$1/f1"
	rm "$1/f3"
	echo changed >"$1/sub/s7"
	touch -d @$T1 "$1/sub/s7" "$1/f1" "$1/new-big"
}

compare() {
	$TREECMP --ignore-dir-mtime "$1" "$2" >"$WORK/cmp" 2>&1 ||
	    { cat "$WORK/cmp" >&2; fail "$3"; }
}

# a: arca with this scenario's target, archive dir and keys
a() {
	arca "$@" --volsize 1 "${encopt[@]}" --archive-dir "$WORK/arch" \
	    --name "$name" "$src" "file://$WORK/tg-$name"
}

restore_arca() {	# TIME DIR
	rm -rf "$2"
	arca restore "${encopt[@]}" --time "$1" --archive-dir "$WORK/arch-r" \
	    --name "$name" "file://$WORK/tg-$name" "$2" >/dev/null 2>"$WORK/r.err" ||
	    { cat "$WORK/r.err" >&2; fail "$name: arca restore at $1"; }
}

restore_dup() {		# TIME DIR
	rm -rf "$2"
	# the test key has no passphrase; duplicity wants one in the environment
	PASSPHRASE=${PASSPHRASE:-} duplicity restore "${dupenc[@]}" --time "$1" --archive-dir \
	    "$WORK/arch-d" --name "$name" "file://$WORK/tg-$name" "$2" \
	    >/dev/null 2>"$WORK/r.err" ||
	    { cat "$WORK/r.err" >&2; fail "$name: duplicity restore at $1"; }
}

# consistent: what must hold after a finished run
consistent() {
	arca collection-status "${encopt[@]}" --archive-dir "$WORK/arch" \
	    --name "$name" "file://$WORK/tg-$name" >"$WORK/st" 2>&1 ||
	    fail "$name: collection-status"
	grep -q "No orphaned or incomplete backup sets found." "$WORK/st" ||
	    { cat "$WORK/st" >&2; fail "$name: $1: orphaned or incomplete sets"; }
	if ls -A "$WORK/arch/$name" | grep -E '\.part$|^arca-resume|arca-tmp' >&2; then
		fail "$name: $1: leftovers in the archive dir"
	fi
}

# scenario NAME KIND KILLPOINT [enc|pubkey]
scenario() {
	name=$1
	local kind=$2 kp=$3 mode=${4:-plain} rc=0 tlast
	step "$name: kill $kind backup at $kp ($mode)"
	src=$WORK/src-$name
	encopt=(--no-encryption)
	dupenc=(--no-encryption)
	unset PASSPHRASE
	case $mode in
	enc)	encopt=(); dupenc=(); export PASSPHRASE=$PASS ;;
	pubkey)	encopt=(--encrypt-key "$KEYID"); dupenc=(--encrypt-key "$KEYID") ;;
	esac
	rm -rf "$WORK/arch" "$WORK/arch-r" "$WORK/arch-d" "$WORK/tg-$name"
	mksrc "$src"
	if [ "$kind" = inc ]; then
		pub a full --current-time $T0 >/dev/null 2>&1 || fail "$name: full"
		cp -a "$src" "$WORK/snap0"
		mutate "$src"
	fi
	cp -a "$src" "$WORK/snap1"
	pub env ARCA_TEST_KILL_AT="$kp" "$ARCA" "$kind" --volsize 1 \
	    "${encopt[@]}" --archive-dir "$WORK/arch" --name "$name" \
	    --current-time $T1 "$src" "file://$WORK/tg-$name" \
	    >"$WORK/kill.out" 2>&1 || rc=$?
	[ $rc -eq 137 ] || { cat "$WORK/kill.out" >&2;
	    fail "$name: expected to be killed at $kp, exit $rc"; }
	# a half-written upload, as a crash inside the backend leaves it
	[ "$kp" = sig-put:1 ] && head -c 1000 /dev/urandom \
	    >"$WORK/tg-$name/.duplicity-x.sigtar.gz.arca-tmp-99999"
	if [ "$kind" = inc ]; then
		restore_arca $T0 "$WORK/r0"
		compare "$WORK/snap0" "$WORK/r0" "$name: earlier backup broken by the kill"
	fi
	# the next run (a later time: resuming keeps the interrupted set's)
	pub a "$kind" --current-time $T2 >"$WORK/rerun.out" 2>&1 ||
	    { cat "$WORK/rerun.out" >&2; fail "$name: the run after the kill"; }
	cat "$WORK/rerun.out" >>"$WORK/rerun.log"
	consistent "after the rerun"
	# at T1 too when the killed run's set was resumed or had finished
	for tlast in $T1 $T2; do
		[ $tlast = $T1 ] && ! ls "$WORK/tg-$name" |
		    grep -q '20231115T221320Z\.manifest' && continue
		restore_arca $tlast "$WORK/r1"
		compare "$WORK/snap1" "$WORK/r1" "$name: arca restore at $tlast"
	done
	restore_dup $T2 "$WORK/r2"
	compare "$WORK/snap1" "$WORK/r2" "$name: duplicity restore"
	if [ "$kind" = inc ]; then
		restore_arca $T0 "$WORK/r0"
		compare "$WORK/snap0" "$WORK/r0" "$name: first backup after the rerun"
	fi
	rm -rf "$WORK/snap0" "$WORK/snap1" "$src"
}

pub() { "$@"; }

# the backup machine of the public-key case has no secret key
step "keys for the public-key case"
gpg --batch --passphrase '' --quick-gen-key "arca test <arca@example.invalid>" \
    rsa2048 encrypt,sign never >/dev/null 2>&1 || fail "gpg key generation"
KEYID=$(gpg --list-keys --with-colons | awk -F: '/^fpr/ { print $10; exit }')
PUBHOME=$WORK/gnupg-pub
mkdir -m 700 "$PUBHOME"
gpg --export "$KEYID" | GNUPGHOME=$PUBHOME gpg --batch --import >/dev/null 2>&1
echo "$KEYID:6:" | GNUPGHOME=$PUBHOME gpg --batch --import-ownertrust >/dev/null 2>&1
GNUPGHOME=$PUBHOME gpg --list-secret-keys 2>/dev/null | grep -q . &&
    fail "the public-key home has a secret key"

scenario walk-early full walk:3
scenario walk-late inc walk:45
scenario mid-volume inc vol-add:40
scenario before-put full vol-put:2
scenario after-put inc vol-uploaded:3
scenario after-block inc vol-done:3
scenario before-sigs inc sig-put:1
scenario after-sigs full sig-uploaded:1
scenario before-manifest inc manifest-put:1
scenario after-manifest inc manifest-uploaded:1
scenario finishing full finished:1
scenario state inc state-saved:1
scenario enc-after-block inc vol-done:3 enc
scenario enc-full-after-put full vol-uploaded:3 enc
pub() { GNUPGHOME=$PUBHOME "$@"; }
scenario pubkey-full full vol-done:3 pubkey
scenario pubkey-inc inc vol-uploaded:3 pubkey
pub() { "$@"; }
grep -q "Restarting after volume" "$WORK/rerun.log" || fail "no run resumed"
[ "$(grep -c "Restarting after volume" "$WORK/rerun.log")" -ge 8 ] ||
    fail "fewer resumes than expected"

# --- a changed passphrase: the partial set cannot be continued ---------
step "resuming with another passphrase starts cleanly"
name=newpass
src=$WORK/src-$name
encopt=()
dupenc=()
rm -rf "$WORK/arch" "$WORK/arch-r" "$WORK/arch-d"
mksrc "$src"
export PASSPHRASE=$PASS
rc=0
ARCA_TEST_KILL_AT=vol-done:3 a full --current-time $T1 >/dev/null 2>&1 || rc=$?
[ $rc -eq 137 ] || fail "newpass: not killed"
export PASSPHRASE=another-pass
a full --current-time $T2 >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "newpass: rerun"; }
grep -q "different passphrase" "$WORK/out" || { cat "$WORK/out" >&2; fail "newpass: no reason given"; }
consistent "after a new passphrase"
ls "$WORK/tg-$name" | grep -q 20231115T221320Z && fail "newpass: old partial volumes left"
restore_arca $T2 "$WORK/r1"
compare "$src" "$WORK/r1" "newpass: restore"

# --- across programs -----------------------------------------------------
step "arca resumes duplicity's interrupted backup"
name=cross1
src=$WORK/src-$name
encopt=(--no-encryption)
dupenc=(--no-encryption)
unset PASSPHRASE
rm -rf "$WORK/arch" "$WORK/arch-r" "$WORK/arch-d"
mksrc "$src"
duplicity full --no-encryption --volsize 1 --fail-on-volume 3 --current-time $T1 \
    --archive-dir "$WORK/arch" --name $name "$src" "file://$WORK/tg-$name" \
    >/dev/null 2>&1 || true
ls "$WORK/arch/$name/"*.manifest.part >/dev/null 2>&1 || fail "cross1: no partial"
a full --current-time $T2 >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "cross1: arca"; }
grep -q "Restarting after volume 2" "$WORK/out" || { cat "$WORK/out" >&2; fail "cross1: not resumed"; }
consistent "arca after duplicity"
restore_dup $T2 "$WORK/r2"
compare "$src" "$WORK/r2" "cross1: duplicity restore"
restore_arca $T1 "$WORK/r1"
compare "$src" "$WORK/r1" "cross1: arca restore"

step "duplicity resumes arca's interrupted backup"
name=cross2
rm -rf "$WORK/arch" "$WORK/arch-r" "$WORK/arch-d"
mksrc "$src"
rc=0
ARCA_TEST_KILL_AT=vol-done:3 a full --current-time $T1 >/dev/null 2>&1 || rc=$?
[ $rc -eq 137 ] || fail "cross2: not killed"
duplicity full --no-encryption --volsize 1 --archive-dir "$WORK/arch" \
    --name $name "$src" "file://$WORK/tg-$name" >"$WORK/out" 2>&1 ||
    { cat "$WORK/out" >&2; fail "cross2: duplicity"; }
grep -q "Restarting after volume 2" "$WORK/out" || { cat "$WORK/out" >&2; fail "cross2: not resumed"; }
restore_arca $T1 "$WORK/r1"
compare "$src" "$WORK/r1" "cross2: arca restore"
# the next arca run tidies arca's own state that duplicity left alone
echo more >"$src/sub/more"
a inc --current-time $T2 >/dev/null 2>&1 || fail "cross2: arca incremental"
consistent "arca after duplicity's resume"

# --- kills while deleting ---------------------------------------------------
# chains: A (full T0, inc), B (full, inc), C (full, inc: primary), plus an
# interrupted set and an orphaned one for cleanup
deletion_target() {
	name=$1
	src=$WORK/src-$name
	rm -rf "$WORK/arch" "$WORK/arch-r" "$WORK/arch-d" "$WORK/tg-$name"
	mkdir -p "$src"
	local i=0 kind
	for kind in full inc full inc full inc; do
		echo "state $i" >"$src/state"
		head -c 1200000 /dev/urandom >"$src/blob-$i"
		touch -d @$((T0 + 1000 * i)) "$src/state" "$src/blob-$i"
		a "$kind" --current-time $((T0 + 1000 * i)) >/dev/null 2>&1 ||
		    fail "$name: backup $i"
		i=$((i + 1))
	done
}

# restorable: every set whose manifest is left restores
restorable() {
	local m t
	for m in "$WORK/tg-$name"/duplicity-*.manifest; do
		[ -e "$m" ] || continue
		t=$(basename "$m" | sed -E 's/.*([0-9]{8}T[0-9]{6}Z)\.manifest$/\1/')
		restore_arca "$t" "$WORK/r0"
		grep -q . "$WORK/r0/state" || fail "$name: restore at $t is empty"
	done
}

for n in 1 3 6; do
	step "killed during remove-older-than (deletion $n)"
	deletion_target rm$n
	rc=0
	ARCA_TEST_KILL_AT=delete:$n arca remove-older-than $((T0 + 3500)) --force \
	    --no-encryption --archive-dir "$WORK/arch" --name $name \
	    "file://$WORK/tg-$name" >/dev/null 2>&1 || rc=$?
	[ $rc -eq 137 ] || fail "$name: not killed"
	restorable
	arca remove-older-than $((T0 + 3500)) --force --no-encryption \
	    --archive-dir "$WORK/arch" --name $name "file://$WORK/tg-$name" \
	    >/dev/null 2>&1 || fail "$name: rerun of remove-older-than"
	arca cleanup --force --no-encryption --archive-dir "$WORK/arch" \
	    --name $name "file://$WORK/tg-$name" >/dev/null 2>&1 || fail "$name: cleanup"
	consistent "after remove-older-than"
	[ "$(ls "$WORK/tg-$name" | grep -c manifest)" -eq 2 ] ||
	    { ls "$WORK/tg-$name" >&2; fail "$name: wrong sets left"; }
	restorable
done

for n in 1 2 4; do
	step "killed during cleanup (deletion $n)"
	deletion_target cl$n
	# an interrupted backup, and chain A's incremental loses its manifest
	head -c 3000000 /dev/urandom >"$src/big"
	rc=0
	ARCA_TEST_KILL_AT=vol-done:2 a inc --current-time $((T0 + 9000)) \
	    >/dev/null 2>&1 || rc=$?
	[ $rc -eq 137 ] || fail "$name: backup not killed"
	rm "$WORK/tg-$name/duplicity-inc.20231114T221320Z.to.20231114T223000Z.manifest"
	rc=0
	ARCA_TEST_KILL_AT=delete:$n arca cleanup --force --no-encryption \
	    --archive-dir "$WORK/arch" --name $name "file://$WORK/tg-$name" \
	    >/dev/null 2>&1 || rc=$?
	[ $rc -eq 137 ] || fail "$name: cleanup not killed"
	restorable
	arca cleanup --force --no-encryption --archive-dir "$WORK/arch" \
	    --name $name "file://$WORK/tg-$name" >/dev/null 2>&1 ||
	    fail "$name: rerun of cleanup"
	consistent "after cleanup"
	restorable
	a inc --current-time $((T0 + 9500)) >/dev/null 2>&1 || fail "$name: backup after cleanup"
	restore_arca $((T0 + 9500)) "$WORK/r1"
	compare "$src" "$WORK/r1" "$name: restore after cleanup"
done

# --- the target fails under the backup: disk full, then read-only -------
# (permanent errors: the file backend does not retry them; the run stops
# with a clear error and the next one resumes)
step "target disk full (tmpfs), then read-only"
name=full
src=$WORK/src-$name
encopt=(--no-encryption)
dupenc=(--no-encryption)
unset PASSPHRASE
rm -rf "$WORK/arch" "$WORK/arch-r" "$WORK/arch-d"
mkdir -p "$WORK/tg-$name"
mount -t tmpfs -o size=3m tmpfs "$WORK/tg-$name" ||
    fail "this test needs root and tmpfs mounts"
trap 'umount "$WORK/tg-full" 2>/dev/null || true; cleanup_work' EXIT
mkdir -p "$src"
head -c 300000 /dev/urandom >"$src/small"
a full --current-time $T0 >/dev/null 2>&1 || fail "full: first backup"
cp -a "$src" "$WORK/snap0"
head -c 4000000 /dev/urandom >"$src/big"
expect_exit 30 a inc --current-time $T1
expect_err "no space left"
restore_arca $T0 "$WORK/r0"
compare "$WORK/snap0" "$WORK/r0" "full: earlier backup after the disk filled"
mount -o remount,size=30m "$WORK/tg-$name" || fail "remount"
a inc --current-time $T2 >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "full: rerun"; }
grep -q "Restarting after volume" "$WORK/out" || { cat "$WORK/out" >&2; fail "full: not resumed"; }
consistent "after the disk was freed"
restore_arca $T2 "$WORK/r1"
compare "$src" "$WORK/r1" "full: arca restore after resuming"
restore_dup $T2 "$WORK/r2"
compare "$src" "$WORK/r2" "full: duplicity restore after resuming"
cp -a "$src" "$WORK/snap1"
head -c 3000000 /dev/urandom >"$src/big2"
# Serial (--concurrency 1): pipelined, the next volume is being written
# into the target while this one waits, and Linux refuses to remount a
# file system read-only while a file on it is open for writing.
ARCA_TEST_STOP_AT=vol-put:2 "$ARCA" inc --volsize 1 --no-encryption \
    --concurrency 1 \
    --archive-dir "$WORK/arch" --name $name --current-time $((T2 + 100)) \
    "$src" "file://$WORK/tg-$name" >"$WORK/out" 2>"$WORK/err" &
held=$!
for i in $(seq 1 400); do
	[ "$(awk '{ print $3 }' "/proc/$held/stat" 2>/dev/null)" = T ] && break
	sleep 0.05
done
mount -o remount,ro "$WORK/tg-$name" || fail "remount read-only"
kill -CONT $held
rc=0
wait $held || rc=$?
[ $rc -ne 0 ] || fail "full: a backup to a read-only target succeeded"
grep -q "Read-only file system" "$WORK/err" || { cat "$WORK/err" >&2; fail "full: unclear error"; }
restore_arca $T2 "$WORK/r1"
compare "$WORK/snap1" "$WORK/r1" "full: earlier backup after the target went read-only"
mount -o remount,rw "$WORK/tg-$name" || fail "remount read-write"
a inc --current-time $((T2 + 200)) >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "full: rerun after read-only"; }
consistent "after the target came back"
restore_dup $((T2 + 200)) "$WORK/r2"
compare "$src" "$WORK/r2" "full: duplicity restore at the end"
umount "$WORK/tg-$name"

echo "interrupted runs leave consistent targets"
