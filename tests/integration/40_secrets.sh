#!/bin/bash
#
# 40_secrets.sh: the passphrase stays secret while arca runs.
#
# A symmetric backup of several volumes (each OpenPGP message takes a
# while), through gpg (--gpg-engine gnupg: GPGME spawns gpg and gpg-agent)
# and through the built-in engine, runs with PASSPHRASE in its
# environment; tests/tools/secretscan.py
# reads /proc/*/environ and /proc/*/cmdline of every process meanwhile.
# Required: the passphrase is in no process's environment or command line
# once arca has started (not in arca's own: the bytes are zeroed in place,
# not in gpg's or gpg-agent's, which GPGME spawns with arca's environment;
# gpg gets it through its pinentry-loopback channel), arca runs with
# RLIMIT_CORE 0 and its copy mlock'ed (VmLck > 0: out of swap), and the
# passphrase appears in no file arca wrote (target, archive dir, temp
# dir) nor in its output at -v9 (logs).  A restore and a wrong passphrase
# are checked the same way.
. "$(dirname "$0")/lib.sh"
need gpg timeout

[ "$(id -u)" = 0 ] || skip "needs root: mlock of the passphrase and /proc of all processes"
# ASan's mlock is a no-op that reports success: there, memory locking is
# not checked (the dev build's run of this scenario checks it).
# (Not `ldd | grep -q`: under pipefail, grep quitting early can kill
# ldd with SIGPIPE and make the test fail as if ASan were absent.)
if [[ "$(ldd "$ARCA" 2>/dev/null)" == *libasan* ]]; then
	export SECRETSCAN_NOLOCK=1
fi
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR" "$WORK/src"
# A passphrase no file or process has by chance.
PW="arca-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
umask 077
printf '%s\n' "$PW" >"$WORK/pw"
umask 022
head -c 3000000 /dev/urandom >"$WORK/src/a.bin"
head -c 3000000 /dev/urandom >"$WORK/src/b.bin"
echo "text" >"$WORK/src/t.txt"

scan_run() {	# scan_run NAME PASSPHRASE ARCA-ARGS...: exit code in $code
	local name=$1 pw=$2
	shift 2
	code=0
	PASSPHRASE=$pw "$ARCA" "$@" >"$WORK/out-$name" 2>"$WORK/err-$name" \
	    </dev/null &
	local pid=$!
	$PY "$TESTS/tools/secretscan.py" "$WORK/pw" "$pid" "$WORK/scan-$name" \
	    "GNUPGHOME=$GNUPGHOME" &
	local scanner=$!
	wait "$pid" || code=$?
	wait "$scanner" || fail "$name: secretscan.py failed"
	echo "   $name: exit $code; $(grep -c '^seen' "$WORK/scan-$name") process names seen:" \
	    "$(grep '^seen' "$WORK/scan-$name" | cut -d' ' -f2 | tr '\n' ' ')"
	if grep '^leak' "$WORK/scan-$name"; then
		fail "$name: the passphrase is visible in /proc"
	fi
	if grep -Eqx '(nolock|exited-before-lock)' "$WORK/scan-$name"; then
		# may end before the scan starts
		[ "$name" = wrong ] || [ -n "${SECRETSCAN_NOLOCK:-}" ] && return 0
		fail "$name: arca never mlock'ed its passphrase (VmLck stayed 0)"
	fi
	grep -qx 'core 0 0' "$WORK/scan-$name" ||
	    { cat "$WORK/scan-$name" >&2; fail "$name: core dumps not disabled"; }
	if grep -rlF -- "$PW" "$WORK/out-$name" "$WORK/err-$name" \
	    "$WORK/target" "$WORK/arch" "$TMPDIR" 2>/dev/null; then
		fail "$name: the passphrase was written to a file (listed above)"
	fi
}

step "full backup through gpg, 4 encrypted volumes"
scan_run full "$PW" full -v9 --gpg-engine gnupg --volsize 1 "$WORK/src" \
    "file://$WORK/target" --archive-dir "$WORK/arch"
[ "$code" = 0 ] || { cat "$WORK/err-full" >&2; fail "full backup failed"; }
grep -q '^seen gpg' "$WORK/scan-full" ||
    fail "gpg was never seen running: the scan watched nothing"
ls "$WORK/target" | grep -q 'vol4\.difftar\.gpg' || fail "expected 4+ volumes"

step "incremental through the built-in engine"
echo "more" >>"$WORK/src/t.txt"
head -c 2000000 /dev/urandom >"$WORK/src/c.bin"
scan_run inc "$PW" incremental -v9 --volsize 1 "$WORK/src" \
    "file://$WORK/target" --archive-dir "$WORK/arch"
[ "$code" = 0 ] || { cat "$WORK/err-inc" >&2; fail "incremental failed"; }

step "restore"
scan_run restore "$PW" restore -v9 --archive-dir "$WORK/arch" \
    "file://$WORK/target" "$WORK/restored"
[ "$code" = 0 ] || { cat "$WORK/err-restore" >&2; fail "restore failed"; }
cmp "$WORK/src/a.bin" "$WORK/restored/a.bin" || fail "restore differs"

step "wrong passphrase: refused, and not echoed either"
echo "${PW}-wrong" >"$WORK/pw"
scan_run wrong "${PW}-wrong" restore -v9 --archive-dir "$WORK/arch2" \
    "file://$WORK/target" "$WORK/restored2"
[ "$code" != 0 ] || fail "restore with a wrong passphrase succeeded"
grep -qF -- "${PW}-wrong" "$WORK/err-wrong" "$WORK/out-wrong" &&
    fail "the wrong passphrase was printed"

echo "passphrase never seen in /proc, files or output"
