#!/bin/bash
#
# 14_faults.sh: a broken server, on demand (ARCA_TEST_FAULTS, see
# src/lib/backend/fault.c and docs/RETENTION.md).
#
# - transient failures of put, get and list are retried and the backup and
#   restore come out exact; delays change nothing;
# - permanent failures (put of a volume, of a manifest, a refused listing)
#   end the run with an error naming the operation and the file, a
#   non-zero exit; every earlier backup still restores exactly, no set
#   looks complete that is not, and the next run (faults off) completes
#   and restores exactly;
# - a truncated or garbled download is caught by the volume's SHA1 and
#   downloaded again; when it stays bad the error names the volume;
# - an upload that the server stores only in part is caught by the size
#   check after the upload, retried, and when it stays short the set is
#   never completed;
# - leftovers of crashed runs: upload temp files of dead processes on the
#   target go with cleanup --force (listed without), stale private temp
#   dirs of dead runs go at the next start.

. "$(dirname "$0")/lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
export PASSPHRASE=fault-pass
TG=$WORK/tg
URL=file://$TG
OPTS=(--archive-dir "$WORK/arch" --name f --volsize 1 --backend-retry-delay 0.05)
T0=1700000000
T1=1700086400
T2=1700172800
T3=1700259200

# restore_eq TIME EXPECTED [FAULTS]: restore at TIME (with ARCA_TEST_FAULTS
# FAULTS) is exactly EXPECTED
restore_eq() {
	rm -rf "$WORK/r"
	ARCA_TEST_FAULTS=${3:-} expect_exit 0 "$ARCA" restore "${OPTS[@]}" \
	    --time "$1" "$URL" "$WORK/r"
	$TREECMP "$2" "$WORK/r" >/dev/null || fail "restore at $1 differs from $2"
}

# complete_sets: how many manifests (complete sets) the target holds
complete_sets() {
	ls "$TG" | grep -c '\.manifest$' || true
}

step "full backup with transient put and list failures"
$MKTREE "$WORK/src" 0 >/dev/null
cp -a "$WORK/src" "$WORK/exp0"
ARCA_TEST_FAULTS='put:*.vol2.*:retry:1-2;list:*:retry:1;put:*.manifest*:retry:1' \
    expect_exit 0 "$ARCA" full "${OPTS[@]}" --current-time $T0 "$WORK/src" "$URL"
expect_err "upload of duplicity-full\.[0-9TZ]+\.vol2\.difftar\.gpg failed \(attempt 2 of 5\), retrying"
expect_err "listing of the backup target failed \(attempt 1 of 5\)"
expect_err "upload of duplicity-full\.[0-9TZ]+\.manifest\.gpg failed \(attempt 1 of 5\)"
[ "$(ls "$TG" | grep -c '\.vol[0-9]*\.difftar\.gpg$')" -ge 3 ] ||
	fail "the full backup should span at least 3 volumes"
restore_eq $T0 "$WORK/exp0" 'get:*.vol1.*:retry:1-3;get:*.vol3.*:retry:1;list:*:retry:1'
grep -q "download of duplicity-full.*vol1.* failed (attempt 3 of 5)" "$WORK/err" ||
	fail "the retried downloads were not reported"

step "transient failures beyond --num-retries end the run, naming the file"
ARCA_TEST_FAULTS='get:*.vol2.*:retry' expect_exit 50 "$ARCA" restore \
    "${OPTS[@]}" --num-retries 3 "$URL" "$WORK/r2"
expect_err "download of duplicity-full\.[0-9TZ]+\.vol2\.difftar\.gpg failed after 3 attempts"

step "incremental with delays on every operation"
$MKTREE "$WORK/src" 1 >/dev/null
cp -a "$WORK/src" "$WORK/exp1"
ARCA_TEST_FAULTS='*:*:delay=0.1' expect_exit 0 "$ARCA" incremental "${OPTS[@]}" \
    --current-time $T1 "$WORK/src" "$URL"
restore_eq $T1 "$WORK/exp1" 'get:*:delay=0.1;list:*:delay=0.2'

step "a permanent failure on a volume: clear error, earlier backups intact"
$MKTREE "$WORK/src" 2 >/dev/null
head -c 2600000 /dev/urandom >"$WORK/src/big-t2.bin"
cp -a "$WORK/src" "$WORK/exp2"
n=$(complete_sets)
ARCA_TEST_FAULTS='put:*.vol3.*:fail' expect_exit 50 "$ARCA" full "${OPTS[@]}" \
    --current-time $T2 "$WORK/src" "$URL"
expect_err "upload of duplicity-full\.[0-9TZ]+\.vol3\.difftar\.gpg: permission denied"
[ "$(complete_sets)" = "$n" ] || fail "a failed backup left a manifest"
restore_eq $T0 "$WORK/exp0"
restore_eq $T1 "$WORK/exp1"
# "latest" is the last complete backup, not the broken one
rm -rf "$WORK/r"
expect_exit 0 "$ARCA" restore "${OPTS[@]}" "$URL" "$WORK/r"
$TREECMP "$WORK/exp1" "$WORK/r" >/dev/null || fail "latest is not the last complete backup"

step "the next run (faults off) resumes it; it restores exactly"
expect_exit 0 "$ARCA" full "${OPTS[@]}" --current-time $T2 "$WORK/src" "$URL"
expect_err "RESTART: Volumes 2 to 2 failed to upload"
restore_eq $T2 "$WORK/exp2"
restore_eq $T1 "$WORK/exp1"

step "a permanent failure on the manifest: the set never looks complete"
echo "more data" >"$WORK/src/added-at-t3"
cp -a "$WORK/src" "$WORK/exp3"
n=$(complete_sets)
ARCA_TEST_FAULTS='put:*.manifest.gpg:auth' expect_exit 31 "$ARCA" incremental \
    "${OPTS[@]}" --current-time $T3 "$WORK/src" "$URL"
expect_err "upload of duplicity-inc\.[0-9TZ]+\.to\.[0-9TZ]+\.manifest\.gpg: access denied"
[ "$(complete_sets)" = "$n" ] || fail "a failed manifest upload left a manifest"
rm -rf "$WORK/r"
expect_exit 0 "$ARCA" restore "${OPTS[@]}" "$URL" "$WORK/r"
$TREECMP "$WORK/exp2" "$WORK/r" >/dev/null || fail "latest is not the last complete backup"

step "a refused listing stops a run before it writes anything"
ls -a "$TG" >"$WORK/before"
ARCA_TEST_FAULTS='list:*:fail' expect_exit 50 "$ARCA" incremental "${OPTS[@]}" \
    --current-time $T3 "$WORK/src" "$URL"
expect_err "listing of the backup target: permission denied"
ls -a "$TG" >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || fail "a run that could not list wrote to the target"

step "the next run completes the incremental"
expect_exit 0 "$ARCA" incremental "${OPTS[@]}" --current-time $T3 "$WORK/src" "$URL"
restore_eq $T3 "$WORK/exp3"

step "truncated and garbled downloads: downloaded again, or the volume named"
restore_eq $T0 "$WORK/exp0" 'get:*full.*.vol2.*:trunc:1;get:*full.*.vol1.*:flip:1'
grep -q "SHA1 hash mismatch for duplicity-full\..*\.vol2\.difftar\.gpg.*downloading it again" \
    "$WORK/err" || fail "the truncated download was not reported"
rm -rf "$WORK/r"
ARCA_TEST_FAULTS='get:*full.*.vol2.*:trunc=1000' expect_exit 21 "$ARCA" restore \
    "${OPTS[@]}" --time $T0 "$URL" "$WORK/r"
expect_err "Invalid data - SHA1 hash mismatch for file: duplicity-full\.[0-9TZ]+\.vol2\.difftar\.gpg"
rm -rf "$WORK/r"
ARCA_TEST_FAULTS='get:*full.*.vol1.*:flip' expect_exit 21 "$ARCA" verify \
    "${OPTS[@]}" --time $T0 "$URL" "$WORK/exp0"
expect_err "SHA1 hash mismatch for file: duplicity-full\.[0-9TZ]+\.vol1\.difftar\.gpg"

step "an upload stored in part: caught by the size check, retried"
T4=$((T3 + 86400))
T5=$((T4 + 86400))
head -c 1500000 /dev/urandom >"$WORK/src/big-new.bin"
cp -a "$WORK/src" "$WORK/exp4"
ARCA_TEST_FAULTS='put:*.vol1.*:trunc:1;put:*.sigtar.gpg:trunc=10:1' expect_exit 0 "$ARCA" \
    incremental "${OPTS[@]}" --current-time $T4 "$WORK/src" "$URL"
expect_err "the target holds [0-9]+ bytes of duplicity-inc\.[0-9TZ]+\.to\.[0-9TZ]+\.vol1\.difftar\.gpg after its upload, [0-9]+ were sent"
expect_err "the target holds 10 bytes of duplicity-new-signatures"
restore_eq $T4 "$WORK/exp4"

step "an upload that stays short: an error, and no complete set"
# A new name: rewriting big-new.bin within the second of the last run
# keeps its size and mtime, and no backup would see the change.
head -c 1500000 /dev/urandom >"$WORK/src/big-new2.bin"
cp -a "$WORK/src" "$WORK/exp5"
n=$(complete_sets)
ARCA_TEST_FAULTS='put:*.vol2.*:trunc' expect_exit 50 "$ARCA" incremental \
    "${OPTS[@]}" --num-retries 2 --current-time $T5 "$WORK/src" "$URL"
expect_err "upload of duplicity-inc\.[0-9TZ]+\.to\.[0-9TZ]+\.vol2\.difftar\.gpg failed after 2 attempts: the target holds"
[ "$(complete_sets)" = "$n" ] || fail "a short upload completed a set"
restore_eq $T4 "$WORK/exp4"
expect_exit 0 "$ARCA" incremental "${OPTS[@]}" --current-time $T5 "$WORK/src" "$URL"
restore_eq $T5 "$WORK/exp5"
expect_exit 0 "$ARCA" verify "${OPTS[@]}" --compare-data "$URL" "$WORK/src"

step "a malformed ARCA_TEST_FAULTS is refused"
ARCA_TEST_FAULTS='put:*:explode' expect_exit 2 "$ARCA" collection-status "${OPTS[@]}" "$URL"
expect_err "ARCA_TEST_FAULTS: bad rule 'put:\*:explode'"

step "upload temp files of dead runs: listed by cleanup, deleted with --force"
sleep 0 & dead=$!
wait $dead
# a run killed in the middle of an upload (its pid is gone)
head -c 5000 /dev/urandom >"$TG/.duplicity-inc.X.vol1.difftar.gpg.arca-tmp-$dead"
# an upload in progress: this shell is alive
echo busy >"$TG/.duplicity-inc.Y.vol1.difftar.gpg.arca-tmp-$$"
# from a live pid, but untouched for two days: not ours, long dead
echo old >"$TG/.duplicity-inc.Z.vol1.difftar.gpg.arca-tmp-$$1"
touch -d '2 days ago' "$TG/.duplicity-inc.Z.vol1.difftar.gpg.arca-tmp-$$1"
expect_exit 0 "$ARCA" cleanup "${OPTS[@]}" "$URL"
grep -q "arca-tmp-$dead\$" "$WORK/out" || fail "cleanup did not list the dead run's temp file"
grep -q "arca-tmp-$$1\$" "$WORK/out" || fail "cleanup did not list the old temp file"
grep -q "arca-tmp-$$\$" "$WORK/out" && fail "cleanup listed a live run's temp file"
[ -e "$TG/.duplicity-inc.X.vol1.difftar.gpg.arca-tmp-$dead" ] ||
	fail "cleanup without --force deleted a file"
expect_exit 0 "$ARCA" cleanup --force "${OPTS[@]}" "$URL"
[ -e "$TG/.duplicity-inc.X.vol1.difftar.gpg.arca-tmp-$dead" ] &&
	fail "cleanup --force left the dead run's temp file"
[ -e "$TG/.duplicity-inc.Z.vol1.difftar.gpg.arca-tmp-$$1" ] &&
	fail "cleanup --force left the two-day-old temp file"
[ -e "$TG/.duplicity-inc.Y.vol1.difftar.gpg.arca-tmp-$$" ] ||
	fail "cleanup --force deleted a live run's temp file"
rm -f "$TG/.duplicity-inc.Y.vol1.difftar.gpg.arca-tmp-$$"

step "private temp dirs of killed runs go at the next start"
echo change >"$WORK/src/added-at-t3"
ARCA_TEST_KILL_AT=walk:3 "$ARCA" incremental "${OPTS[@]}" \
    --current-time $((T5 + 86400)) "$WORK/src" "$URL" >/dev/null 2>&1 && fail "the run was not killed"
left=$(ls "$TMPDIR")
[ -n "$left" ] || fail "the killed run left no temp dir (the test needs one)"
mkdir -p "$TMPDIR/arca-$dead-abcdef/sub" "$TMPDIR/arca-$$-abcdef" "$WORK/keep"
touch "$TMPDIR/arca-$dead-abcdef/sub/file" "$WORK/keep/file"
ln -s "$WORK/keep" "$TMPDIR/arca-$dead-ghijkl"
expect_exit 0 "$ARCA" collection-status "${OPTS[@]}" "$URL"
for d in $left "arca-$dead-abcdef"; do
	[ -e "$TMPDIR/$d" ] && fail "the stale temp dir $d was not removed"
done
[ -d "$TMPDIR/arca-$$-abcdef" ] || fail "a live process's temp dir was removed"
[ -L "$TMPDIR/arca-$dead-ghijkl" ] || fail "a symlink was removed"
[ -e "$WORK/keep/file" ] || fail "the sweep followed a symlink"
expect_exit 0 "$ARCA" incremental "${OPTS[@]}" --current-time $((T5 + 86400)) \
    "$WORK/src" "$URL"
restore_eq $((T5 + 86400)) "$WORK/src"
step "sftp: only upload temp files untouched for a day are stale"
need ssh-keygen
[ "$(id -u)" -eq 0 ] || skip "the sftp part needs root (useradd, sshd)"
SSHD_SH="$TESTS/servers/sshd.sh"
SRV=$WORK/sshd
mkdir -p "$SRV"
trap 'bash "$SSHD_SH" stop "$SRV" || true; cleanup_work' EXIT
bash "$SSHD_SH" start "$SRV" >/dev/null
. "$SRV/env"
SURL="sftp://$SSHD_USER@127.0.0.1:$SSHD_PORT/bk"
SOPTS=(--archive-dir "$WORK/arch-sftp" --ssh-options
    "-oIdentityFile=$SSHD_KEY -oUserKnownHostsFile=$SSHD_KNOWN_HOSTS")
rm -rf "$WORK/small"
mkdir "$WORK/small"
echo small >"$WORK/small/f"
expect_exit 0 "$ARCA" full "${SOPTS[@]}" "$WORK/small" "$SURL"
B=$SSHD_HOME/bk
# a pid that is dead here means nothing for a remote file: kept while fresh
echo x >"$B/.duplicity-inc.X.vol1.difftar.gpg.arca-tmp-$dead"
echo y >"$B/.duplicity-inc.Y.vol1.difftar.gpg.arca-tmp-$dead"
touch -d '30 hours ago' "$B/.duplicity-inc.Y.vol1.difftar.gpg.arca-tmp-$dead"
chown "$SSHD_USER" "$B"/.*arca-tmp*
expect_exit 0 "$ARCA" cleanup "${SOPTS[@]}" "$SURL"
grep -q "\.Y\..*arca-tmp-$dead\$" "$WORK/out" || fail "sftp: the old temp file was not listed"
grep -q "\.X\..*arca-tmp" "$WORK/out" && fail "sftp: a fresh temp file was listed"
[ -e "$B/.duplicity-inc.Y.vol1.difftar.gpg.arca-tmp-$dead" ] || fail "sftp: deleted without --force"
expect_exit 0 "$ARCA" cleanup --force "${SOPTS[@]}" "$SURL"
[ -e "$B/.duplicity-inc.Y.vol1.difftar.gpg.arca-tmp-$dead" ] && fail "sftp: the old temp file stayed"
[ -e "$B/.duplicity-inc.X.vol1.difftar.gpg.arca-tmp-$dead" ] || fail "sftp: a fresh temp file was deleted"
expect_exit 0 "$ARCA" restore "${SOPTS[@]}" "$SURL" "$WORK/r-sftp"
cmp -s "$WORK/small/f" "$WORK/r-sftp/f" || fail "sftp: restore differs"
echo "14_faults: ok"
