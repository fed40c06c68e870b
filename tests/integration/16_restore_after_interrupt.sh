#!/usr/bin/env bash
# 16: an interrupted backup (killed after its second volume was published)
# never becomes "the latest backup": restore, list-current-files and
# verify without --time use the last complete set, as duplicity does.
. "$(dirname "$0")/lib.sh"

$MKTREE "$WORK/src" 0
cp -a "$WORK/src" "$WORK/snap0"
T=file://$WORK/t
common=(--no-encryption --no-print-statistics --volsize 1)
expect_exit 0 arca full "${common[@]}" --current-time 1700000000 "$WORK/src" "$T"
$MKTREE "$WORK/src" 1

step "a full backup killed after its second volume"
got=0
ARCA_TEST_KILL_AT=vol-uploaded:2 arca full "${common[@]}" --current-time 1700086400 \
	"$WORK/src" "$T" >/dev/null 2>&1 || got=$?
[ "$got" -ge 128 ] || fail "the run was not killed (exit $got)"
ls "$WORK/t" | grep -q '^duplicity-full\.20231115T221320Z\.vol2\.' ||
	fail "the interrupted set has no second volume"

step "restore, list and verify still see the complete backup"
expect_exit 0 arca "${common[@]}" "$T" "$WORK/r"
$TREECMP "$WORK/snap0" "$WORK/r" || fail "restore after an interrupted full differs"
expect_exit 0 arca list-current-files "${common[@]}" "$T"
grep -q ' \.$' "$WORK/out" || fail "list-current-files shows no root"
expect_exit 0 arca verify --compare-data "${common[@]}" "$T" "$WORK/snap0"

step "the next run resumes or restarts, and the result restores exactly"
expect_exit 0 arca full "${common[@]}" --current-time 1700086400 "$WORK/src" "$T"
expect_exit 0 arca "${common[@]}" "$T" "$WORK/r2"
$TREECMP "$WORK/src" "$WORK/r2" || fail "restore after the resumed backup differs"
echo "PASS: 16_restore_after_interrupt"
