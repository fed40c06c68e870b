#!/usr/bin/env bash
# 28: backups straight after one another.
#
# Set times are whole seconds and name the set, so each set of a chain
# must be named for a later second than the one before it: a backup that
# starts in the same second as the last set waits for the next second.
# And file times are whole seconds too: a file changed again in the second
# the last backup read it keeps its mtime, and duplicity (comparing
# mtimes) misses the change for good.  arca reads such files again.  Here
# four backups run back to back, each after changing a file in place
# (same size) and another one (new size): every set must be named for a
# later second and not be written before it, duplicity must see the whole
# chain, and every set must restore to exactly what was backed up.
. "$(dirname "$0")/lib.sh"
need duplicity gpg

export PASSPHRASE=set-times
src=$WORK/src
mkdir -p "$src"
T=file://$WORK/t
A=(--archive-dir "$WORK/arch" --name times --no-print-statistics)

step "four backups back to back"
for i in 1 2 3 4; do
	echo "state $i" >"$src/f"
	head -c $((i * 1000)) /dev/urandom >"$src/r"
	mkdir -p "$WORK/snap$i"
	cp -a "$src/." "$WORK/snap$i/"
	expect_exit 0 arca "${A[@]}" "$src" "$T"
done
ls "$WORK/t" | grep 'manifest\.gpg$' | sort >"$WORK/manifests"
[ "$(grep -c . "$WORK/manifests")" -eq 4 ] ||
	{ cat "$WORK/manifests" >&2; fail "expected 4 manifests"; }

step "each set is named for a later second, and not published before it"
prev=0
for m in $(cat "$WORK/manifests"); do
	# duplicity-full.T.manifest.gpg or duplicity-inc.S.to.T.manifest.gpg
	stamp=$(echo "$m" | sed -E 's/.*\.([0-9]{8}T[0-9]{6}Z)\.manifest\.gpg$/\1/')
	label=$(date -u -d "$(echo "$stamp" | sed -E 's/(....)(..)(..)T(..)(..)(..)Z/\1-\2-\3 \4:\5:\6/')" +%s)
	[ "$label" -gt "$prev" ] || fail "$m is not named for a later second than the set before it"
	written=$(stat -c %Y "$WORK/t/$m")
	[ "$written" -ge "$label" ] ||
		fail "$m was written at $written, before the second $label it is named for"
	prev=$label
done

step "duplicity sees the whole chain"
duplicity collection-status --archive-dir "$WORK/dup-arch" --name times "$T" \
    >"$WORK/status" 2>&1 || { cat "$WORK/status" >&2; fail "duplicity collection-status failed"; }
grep -q "Number of contained backup sets: 4" "$WORK/status" ||
	{ cat "$WORK/status" >&2; fail "duplicity does not see 4 sets in one chain"; }

step "every set restores to what was backed up"
i=1
for m in $(cat "$WORK/manifests"); do
	stamp=$(echo "$m" | sed -E 's/.*\.([0-9]{8}T[0-9]{6}Z)\.manifest\.gpg$/\1/')
	expect_exit 0 arca restore "${A[@]}" --time "$stamp" "$T" "$WORK/r$i"
	$TREECMP "$WORK/snap$i" "$WORK/r$i" || fail "set $i ($stamp) restores differently"
	i=$((i + 1))
done
duplicity restore --archive-dir "$WORK/dup-arch" --name times "$T" "$WORK/rd" \
    >"$WORK/dup.log" 2>&1 || { cat "$WORK/dup.log" >&2; fail "duplicity restore failed"; }
$TREECMP "$WORK/snap4" "$WORK/rd" || fail "duplicity's restore of the last set differs"

echo "PASS: 28_set_times"
