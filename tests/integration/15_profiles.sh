#!/usr/bin/env bash
# 15: profiles (arca run NAME), their permission checks, hooks, and
# schedules (systemd units or a crontab line); arca help COMMAND.
. "$(dirname "$0")/lib.sh"

export XDG_CONFIG_HOME=$WORK/config
P=$XDG_CONFIG_HOME/arca
mkdir -p "$P" "$WORK/src/keep/sub" "$WORK/src/skip" "$WORK/hooks"
echo precious > "$WORK/src/keep/a.txt"
echo also > "$WORK/src/keep/sub/b.txt"
echo junk > "$WORK/src/skip/c.txt"
printf 'profile passphrase\n' > "$P/daily.pass"
chmod 600 "$P/daily.pass"
cat > "$WORK/hooks/pre" <<HOOK
#!/bin/sh
echo "pre \$1 \$ARCA_PHASE" >> "$WORK/hooks.log"
env > "$WORK/hook-env"
HOOK
cat > "$WORK/hooks/post" <<HOOK
#!/bin/sh
echo "post \$1 result=\$ARCA_RESULT" >> "$WORK/hooks.log"
HOOK
chmod 755 "$WORK/hooks/pre" "$WORK/hooks/post"
cat > "$P/daily.conf" <<CONF
# a test profile
source = $WORK/src
target = file://$WORK/target
include = $WORK/src/keep
exclude = **
volsize = 1
passphrase-file = $P/daily.pass
max-age = 60D
keep-full = 2
full-every = 30D
pre = $WORK/hooks/pre
post = $WORK/hooks/post
no-print-statistics = yes
CONF

step "a profile others can read is refused, with the fix"
chmod 644 "$P/daily.conf"
expect_exit 2 arca run daily
expect_err "permissions 0644 for profile .*daily.conf are too open"
expect_err "chmod 600 .*daily.conf"
chmod 600 "$P/daily.conf"

step "so is a passphrase file others can read"
chmod 640 "$P/daily.pass"
expect_exit 2 arca run daily
expect_err "passphrase file .*daily.pass are too open"
[ ! -e "$WORK/target" ] || fail "a refused profile touched the target"
chmod 600 "$P/daily.pass"

step "arca run: prune, back up (full), clean up; hooks around it"
unset PASSPHRASE
expect_exit 0 arca run daily
ls "$WORK/target" | grep -q 'duplicity-full\..*\.manifest\.gpg' || fail "no full backup"
grep -q "^pre daily pre$" "$WORK/hooks.log" || fail "pre hook did not run"
grep -q "^post daily result=0$" "$WORK/hooks.log" || fail "post hook did not see the result"
grep -q "profile passphrase" "$WORK/hook-env" && fail "the passphrase reached a hook"
PASSPHRASE="profile passphrase" expect_exit 0 arca "file://$WORK/target" "$WORK/r1"
[ -f "$WORK/r1/keep/sub/b.txt" ] || fail "included file missing from the backup"
[ -e "$WORK/r1/skip" ] && fail "excluded directory was backed up"

step "a second run is an incremental; options after the name apply"
echo more >> "$WORK/src/keep/a.txt"
touch -d @1800000000 "$WORK/src/keep/a.txt"
expect_exit 0 arca run daily -v 4
ls "$WORK/target" | grep -q 'duplicity-inc\.' || fail "second run was not an incremental"

step "a failing pre hook stops the run and says so"
printf '#!/bin/sh\nexit 3\n' > "$WORK/hooks/pre"
expect_exit 30 arca run daily
expect_err "pre hook .* failed \(status 3\)"

step "unknown keys and missing profiles are clear errors"
expect_exit 2 arca run nosuch
expect_err "no profile 'nosuch'"
printf 'source = /x\ntarget = file:///y\nbogus-key = 1\n' > "$P/bad.conf"
chmod 600 "$P/bad.conf"
expect_exit 2 arca run bad
expect_err "unknown option '--bogus-key=1'"

step "schedule writes a systemd timer; unschedule removes it"
export ARCA_SYSTEMD_DIR=$WORK/units
expect_exit 0 arca schedule daily
T=$WORK/units/arca-daily.timer S=$WORK/units/arca-daily.service
grep -q '^Persistent=true$' "$T" || fail "timer is not persistent"
grep -q '^RandomizedDelaySec=' "$T" || fail "timer has no randomized delay"
grep -q '^OnCalendar=daily$' "$T" || fail "timer is not daily"
grep -q "^ExecStart=.*arca run daily$" "$S" || fail "service does not run the profile"
expect_exit 0 arca unschedule daily
[ ! -e "$T" ] && [ ! -e "$S" ] || fail "unschedule left unit files"
expect_exit 2 arca unschedule daily

if [ ! -d /run/systemd/system ]; then
	step "without systemd: a crontab line"
	unset ARCA_SYSTEMD_DIR
	expect_exit 0 arca schedule daily
	grep -Eq '^[0-9]+ [0-9]+ \* \* \* .*arca run daily$' "$WORK/out" ||
		fail "no crontab line: $(cat "$WORK/out")"
fi

step "arca help COMMAND"
expect_exit 0 arca help run
grep -q "usage: arca run" "$WORK/out" || fail "help run"
expect_exit 2 arca help nosuch
echo "PASS: 15_profiles"
