#!/bin/bash
#
# 10_retention_vs_duplicity.sh: remove-older-than, remove-all-but-n-full,
# remove-all-inc-of-but-n-full and cleanup delete exactly what duplicity
# 0.8.22 deletes.
#
# Real duplicity builds the chains (--current-time, plain and one encrypted
# collection), the target and the archive dir are copied, duplicity runs
# the command on one copy and arca on the other, and the files left on
# both sides (target and archive dir) must be the same, for each command
# and several TIME/N values, with and without --force.  Two cases are the
# documented differences (docs/RETENTION.md) and are checked for what arca
# must do instead: past the primary chain's end arca keeps its remote
# signature files, and an interrupted backup never counts as a chain (so
# remove-all-but-n-full 1 keeps the newest complete chain).  After
# deleting, every remaining time restores with arca.

. "$(dirname "$0")/lib.sh"
need duplicity gpg

export HOME=$WORK/home
# killed runs leave their private temp dirs behind: keep them in $WORK
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
mkdir -p "$HOME"
unset PASSPHRASE
T=1700000000

dup() {
	duplicity "$@" >"$WORK/dup.last" 2>&1 ||
	    { tail -n 30 "$WORK/dup.last" >&2; fail "duplicity $*"; }
}

# change N TIME: a small edit plus a new file, so every set has a volume;
# mtime TIME, since changes are seen by mtime (whole seconds) and two
# edits within one second of the real clock would look like none
change() {
	echo "change $1" >>"$WORK/src/notes"
	head -c 20000 /dev/urandom >"$WORK/src/new-$1"
	touch -d "@$2" "$WORK/src/notes" "$WORK/src/new-$1"
}

# build NAME [enc]: chains A (full +2 inc), B (full +1), C (full +2),
# D (full +1, primary), 100 s apart, made by duplicity into $WORK/base-NAME
build() {
	local name=$1 enc=(--no-encryption) i=0 t kind
	[ "${2:-}" = enc ] && enc=()
	rm -rf "$WORK/src"
	mkdir -p "$WORK/src"
	head -c 100000 /dev/urandom >"$WORK/src/data"
	echo start >"$WORK/src/notes"
	for kind in full inc inc full inc full inc inc full inc; do
		t=$((T + 100 * i))
		change $i $t
		dup "$kind" "${enc[@]}" --current-time $t --archive-dir \
		    "$WORK/base-$name/arch" --name n "$WORK/src" \
		    "file://$WORK/base-$name/tg"
		i=$((i + 1))
	done
}

# fresh NAME: copies of base NAME for duplicity (d) and arca (a)
fresh() {
	rm -rf "$WORK/d" "$WORK/a"
	cp -a "$WORK/base-$1" "$WORK/d"
	cp -a "$WORK/base-$1" "$WORK/a"
}

listing() {
	(cd "$1/tg" && ls -A | sort)
	echo "--- archive dir"
	(cd "$1/arch/n" && ls -A | grep -v -x lockfile | sort)
}

# run CMD ARGS...: the same command by both programs on their copies
run() {
	local enc=(--no-encryption)
	[ -n "${PASSPHRASE:-}" ] && enc=()
	duplicity "$@" "${enc[@]}" --archive-dir "$WORK/d/arch" --name n \
	    "file://$WORK/d/tg" >"$WORK/dup.out" 2>&1 ||
	    { cat "$WORK/dup.out" >&2; fail "duplicity $*"; }
	arca "$@" "${enc[@]}" --archive-dir "$WORK/a/arch" --name n \
	    "file://$WORK/a/tg" >"$WORK/arca.out" 2>&1 ||
	    { cat "$WORK/arca.out" >&2; fail "arca $*"; }
}

same() {
	listing "$WORK/d" >"$WORK/d.lst"
	listing "$WORK/a" >"$WORK/a.lst"
	if ! cmp -s "$WORK/d.lst" "$WORK/a.lst"; then
		diff -u "$WORK/d.lst" "$WORK/a.lst" >&2 || true
		echo "--- arca said:" >&2; cat "$WORK/arca.out" >&2
		fail "files left differ (- duplicity, + arca): $*"
	fi
}

# restorable: every chain's sets left on arca's copy restore with arca
restorable() {
	local m t
	for m in "$WORK"/a/tg/duplicity-*.manifest*; do
		[ -e "$m" ] || continue
		t=$(basename "$m" | sed -E 's/.*([0-9]{8}T[0-9]{6}Z)\.manifest.*/\1/')
		rm -rf "$WORK/r"
		arca restore --time "$t" "${enc[@]}" --archive-dir "$WORK/a/arch" \
		    --name n "file://$WORK/a/tg" "$WORK/r" >/dev/null 2>"$WORK/r.err" ||
		    { cat "$WORK/r.err" >&2; fail "restore at $t after $*"; }
	done
}

enc=(--no-encryption)
step "building chains with duplicity"
build plain
cp -a "$WORK/src" "$WORK/src-D"	# the source as chain D ends
n_all=$(ls "$WORK/base-plain/tg" | wc -l)
[ "$n_all" -eq 30 ] || fail "expected 30 files in the base target, got $n_all"

# chain ends: A T+200, B T+400, C T+700, D T+900 (primary)
for t in $((T - 100)) $((T + 150)) $((T + 250)) $((T + 350)) $((T + 450)) \
    $((T + 650)) $((T + 750)) $((T + 900)); do
	step "remove-older-than $t --force"
	fresh plain
	run remove-older-than $t --force
	same "remove-older-than $t --force"
	restorable "remove-older-than $t"
done

step "remove-older-than without --force only lists"
fresh plain
run remove-older-than $((T + 750))
same "remove-older-than (listing)"
[ "$(ls "$WORK/a/tg" | wc -l)" -eq 30 ] || fail "remove-older-than without --force deleted files"
grep -q "Rerun command with --force" "$WORK/arca.out" || fail "no --force hint"
grep -q "Tue Nov 14 22:25:00 2023" "$WORK/arca.out" || fail "chain C's end time not listed"

for n in 1 2 3 4 5; do
	step "remove-all-but-n-full $n --force"
	fresh plain
	run remove-all-but-n-full $n --force
	same "remove-all-but-n-full $n"
	restorable "remove-all-but-n-full $n"
done

for n in 1 2 3 5; do
	step "remove-all-inc-of-but-n-full $n --force"
	fresh plain
	run remove-all-inc-of-but-n-full $n --force
	same "remove-all-inc-of-but-n-full $n"
	restorable "remove-all-inc-of-but-n-full $n"
done

step "remove-all-but-n-full 0 is refused"
expect_exit 2 arca remove-all-but-n-full 0 --force --no-encryption \
    --archive-dir "$WORK/a/arch" --name n "file://$WORK/a/tg"

# --- documented difference 1: past the primary chain's end -------------
step "remove-older-than past the primary chain keeps its remote signatures"
fresh plain
run remove-older-than $((T + 2000)) --force
listing "$WORK/d" >"$WORK/d.lst"
listing "$WORK/a" >"$WORK/a.lst"
diff "$WORK/d.lst" "$WORK/a.lst" | grep '^[<>]' >"$WORK/diff" || true
cat >"$WORK/want" <<EOF
> duplicity-full-signatures.20231114T222640Z.sigtar.gz
> duplicity-new-signatures.20231114T222640Z.to.20231114T222820Z.sigtar.gz
EOF
cmp -s "$WORK/diff" "$WORK/want" ||
    { cat "$WORK/diff" >&2; fail "unexpected difference past the primary chain"; }
grep -q "Current active backup chain is older" "$WORK/arca.out" ||
    fail "no warning about the active chain"
restorable "remove-older-than past the end"
# the chain still takes an incremental, and duplicity can still work on it
change late $((T + 2900))
arca inc --no-encryption --current-time $((T + 3000)) --archive-dir \
    "$WORK/a/arch" --name n "$WORK/src" "file://$WORK/a/tg" >/dev/null 2>&1 ||
    fail "incremental after remove-older-than"

# --- cleanup ----------------------------------------------------------------
step "cleanup: orphaned, incomplete sets and orphaned signatures"
b=$WORK/base-plain
cp -a "$b" "$WORK/base-messy"
m=$WORK/base-messy
# chain A: its first incremental loses its manifest (-> incomplete, and the
# second incremental becomes orphaned); its remote full signatures go (->
# orphaned remote new-signatures, and local ones once the cache follows
# the target); plus a file that is not duplicity's.  (A signature file
# missing only locally is not used: arca's cache sync fetches every
# missing file, duplicity's default "partial" sync only the current
# chain's.)
rm "$m"/tg/duplicity-inc.20231114T221320Z.to.20231114T221500Z.manifest
rm "$m"/tg/duplicity-full-signatures.20231114T221320Z.sigtar.gz
echo keep >"$m/tg/not-a-backup-file.txt"
fresh messy
run cleanup
same "cleanup without --force"
grep -q "Run arca again with the --force" "$WORK/arca.out" || fail "no --force hint"
fresh messy
run cleanup --force
same "cleanup --force"
[ -e "$WORK/a/tg/not-a-backup-file.txt" ] || fail "cleanup deleted a foreign file"
restorable "cleanup --force"
run cleanup --force
same "second cleanup --force"
grep -q "No extraneous files found" "$WORK/arca.out" || fail "second cleanup found files"

step "cleanup: a set discarded for its missing signature file"
cp -a "$b" "$WORK/base-nosig"
# chain D gets a second incremental, whose signature file then goes: the
# collection drops that set (it needs two incrementals) as incomplete
change nosig $((T + 940))
dup inc --no-encryption --current-time $((T + 950)) --archive-dir \
    "$WORK/base-nosig/arch" --name n "$WORK/src" "file://$WORK/base-nosig/tg"
rm "$WORK"/base-nosig/tg/duplicity-new-signatures.20231114T222820Z.to.20231114T222910Z.sigtar.gz
rm "$WORK"/base-nosig/arch/n/duplicity-new-signatures.20231114T222820Z.to.20231114T222910Z.sigtar.gz
fresh nosig
run cleanup --force
same "cleanup with a signature-less last set"
[ -e "$WORK/a/tg/duplicity-inc.20231114T222820Z.to.20231114T222910Z.manifest" ] &&
    fail "the discarded set was not deleted"
restorable "cleanup of a discarded set"

step "cleanup: a trailing interrupted backup goes even without --force"
cp -a "$b" "$WORK/base-partial"
head -c 3500000 /dev/urandom >"$WORK/src/big"
duplicity inc --no-encryption --volsize 1 --fail-on-volume 2 \
    --current-time $((T + 1000)) --archive-dir "$WORK/base-partial/arch" \
    --name n "$WORK/src" "file://$WORK/base-partial/tg" >/dev/null 2>&1 || true
ls "$WORK"/base-partial/arch/n/*.manifest.part >/dev/null 2>&1 ||
    fail "duplicity left no partial manifest"
fresh partial
run cleanup
same "cleanup of a partial set"
ls "$WORK"/a/arch/n/*.part >/dev/null 2>&1 && fail "partial files left"
[ "$(ls "$WORK/a/tg" | wc -l)" -eq 30 ] || fail "cleanup left partial volumes"

# --- documented difference 2: an interrupted backup is no chain ----------
step "remove-all-but-n-full 1 with an interrupted full keeps a complete chain"
cp -a "$b" "$WORK/base-pfull"
duplicity full --no-encryption --volsize 1 --fail-on-volume 2 \
    --current-time $((T + 1000)) --archive-dir "$WORK/base-pfull/arch" \
    --name n "$WORK/src" "file://$WORK/base-pfull/tg" >/dev/null 2>&1 || true
fresh pfull
run remove-all-but-n-full 1 --force
# duplicity keeps nothing restorable: only the broken set
ls "$WORK/d/tg" | grep -q manifest && fail "duplicity changed: it kept a manifest"
# arca keeps chain D complete, and the partial set untouched
for f in duplicity-full.20231114T222640Z.manifest \
    duplicity-inc.20231114T222640Z.to.20231114T222820Z.manifest \
    duplicity-full.20231114T223000Z.vol1.difftar.gz \
    duplicity-full.20231114T223000Z.vol2.difftar.gz; do
	[ -e "$WORK/a/tg/$f" ] || fail "arca deleted $f"
done
[ "$(ls "$WORK/a/tg" | grep -c manifest)" -eq 2 ] || fail "arca kept more than chain D"
rm -rf "$WORK/r"
arca restore --no-encryption --archive-dir "$WORK/a/arch" --name n \
    --time $((T + 900)) "file://$WORK/a/tg" "$WORK/r" >/dev/null 2>&1 ||
    fail "chain D does not restore"
$TREECMP --ignore-dir-mtime "$WORK/src-D" "$WORK/r" >"$WORK/cmp" || fail "chain D restored wrong"

# --- collection-status and --full-if-older-than, end to end ---------------
# status of the messy target (secondary chains, an orphaned and an
# incomplete set, orphaned signatures) and of the one with a partial set:
# duplicity prints its warnings on stdout, arca on stderr
for v in messy partial plain; do
	step "collection-status ($v) as duplicity prints it"
	fresh $v
	duplicity collection-status --no-encryption --archive-dir "$WORK/d/arch" \
	    --name n "file://$WORK/d/tg" >"$WORK/d.st" 2>/dev/null ||
	    fail "duplicity collection-status"
	arca collection-status --no-encryption --archive-dir "$WORK/d/arch" \
	    --name n "file://$WORK/d/tg" >"$WORK/a.st" 2>"$WORK/a.err" ||
	    fail "arca collection-status"
	grep -v -e '^Warning, ' -e '^duplicity-' -e '^\[duplicity-' "$WORK/d.st" >"$WORK/d.st2"
	if ! cmp -s "$WORK/d.st2" "$WORK/a.st"; then
		diff -u "$WORK/d.st2" "$WORK/a.st" >&2 || true
		fail "collection-status ($v) differs (- duplicity, + arca)"
	fi
	{ grep '^Warning, ' "$WORK/d.st" || true; } | sed 's/^/arca: warning: /' >"$WORK/d.w"
	grep '^arca: warning: ' "$WORK/a.err" >"$WORK/a.w" || true
	cmp -s "$WORK/d.w" "$WORK/a.w" ||
	    { diff -u "$WORK/d.w" "$WORK/a.w" >&2; fail "collection-status ($v) warnings differ"; }
done
grep -q "Found 3 secondary backup chains" "$WORK/a.st" || fail "plain: not 3 secondary chains"

# chain D's full is at T+800 (22:26:40): an absolute TIME on either side of it
for when in "2023-11-14T22:26:30Z:inc" "2023-11-14T22:26:50Z:full"; do
	tm=${when%:*}
	want=${when##*:}
	step "--full-if-older-than $tm makes a$( [ $want = inc ] && echo "n" ) $want"
	fresh plain
	change fio $((T + 1400))
	duplicity --no-encryption --full-if-older-than "$tm" --current-time $((T + 1500)) \
	    --archive-dir "$WORK/d/arch" --name n "$WORK/src" "file://$WORK/d/tg" \
	    >/dev/null 2>&1 || fail "duplicity --full-if-older-than"
	arca --no-encryption --full-if-older-than "$tm" --current-time $((T + 1500)) \
	    --archive-dir "$WORK/a/arch" --name n "$WORK/src" "file://$WORK/a/tg" \
	    >/dev/null 2>&1 || fail "arca --full-if-older-than"
	same "--full-if-older-than $tm"
	if [ $want = full ]; then
		[ -e "$WORK/a/tg/duplicity-full.20231114T223820Z.manifest" ] || fail "no full"
	else
		[ -e "$WORK/a/tg/duplicity-inc.20231114T222820Z.to.20231114T223820Z.manifest" ] ||
		    fail "no incremental"
	fi
done

# --- encrypted -----------------------------------------------------------
step "encrypted chains"
export PASSPHRASE=retention-test-pass
enc=()
build enc enc
for t in $((T + 250)) $((T + 750)); do
	fresh enc
	run remove-older-than $t --force
	same "encrypted remove-older-than $t"
	restorable "encrypted remove-older-than $t"
done
fresh enc
run remove-all-inc-of-but-n-full 2 --force
same "encrypted remove-all-inc-of-but-n-full 2"
rm "$WORK"/base-enc/tg/duplicity-inc.20231114T221320Z.to.20231114T221500Z.manifest.gpg
fresh enc
run cleanup --force
same "encrypted cleanup --force"
restorable "encrypted cleanup"

echo "retention matches duplicity"
