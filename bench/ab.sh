#!/usr/bin/env bash
# ab.sh: two arca builds (or settings) head to head, interleaved, on one dataset.
#
#   bench/ab.sh [--rounds N] [--ops "full noop restore one"] DATA ONE_FILE \
#               NAME=CMD... NAME=CMD...
#
# Each CMD is an arca command line prefix (a binary, maybe with options,
# e.g. "serial=/tmp/arca-rel/arca --concurrency 1").  Every round runs each
# variant in turn (so a burst of outside load hits them alike): a full
# backup of DATA to a fresh local target with encryption on, a
# nothing-changed incremental, a full restore (checked with treecmp.py)
# and the restore of ONE_FILE (a path relative to DATA, checked with cmp).
# Prints one line per operation: wall, CPU (user+sys of the whole tree)
# and peak RSS from bench/measure.py, and the CPU the rest of the machine
# used meanwhile.  For before/after comparisons; bench/run.sh is the
# benchmark against the other tools.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
MEASURE="$PY $BENCH/measure.py"
TREECMP="$PY $BENCH/../tests/tools/treecmp.py"
ROUNDS=3
OPS="full noop restore one"
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--ops) OPS=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 3 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
DATA=$1
ONE=$2
shift 2
WORK=$(mktemp -d /tmp/arca-ab-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export PASSPHRASE=arca-bench-passphrase-not-secret
export GNUPGHOME=$WORK/gnupg
mkdir -m 700 "$GNUPGHOME"

run() {	# run NAME OP CMD...: one measured operation
	local name=$1 op=$2 st=0
	shift 2
	$MEASURE "$WORK/m" -- "$@" >"$WORK/log" 2>&1 || st=$?
	[ $st -eq 0 ] || { cat "$WORK/log" >&2; echo "$name $op failed ($st)" >&2; exit 1; }
	read -r wall user sys rss _ _ _ others <"$WORK/m"
	printf '%-10s %-8s %7.2f s wall %7.2f s cpu %7d KiB  others %5.1f cpu-s\n' \
	    "$name" "$op" "$wall" "$(echo "$user + $sys" | bc)" "$rss" "$others"
}

for round in $(seq 1 "$ROUNDS"); do
	echo "== round $round (load $(cut -d' ' -f1-3 /proc/loadavg))"
	for v in "$@"; do
		name=${v%%=*}
		read -r -a cmd <<<"${v#*=}"
		rm -rf "$WORK/t" "$WORK/a" "$WORK/r" "$WORK/one"
		A=(--archive-dir "$WORK/a" --name ab --no-print-statistics)
		T=file://$WORK/t
		for op in $OPS; do
			case $op in
			full) run "$name" full "${cmd[@]}" full "${A[@]}" "$DATA" "$T" ;;
			noop) run "$name" noop "${cmd[@]}" incremental "${A[@]}" "$DATA" "$T" ;;
			restore)
				run "$name" restore "${cmd[@]}" restore "${A[@]}" "$T" "$WORK/r"
				$TREECMP "$DATA" "$WORK/r" >/dev/null || { echo "$name: restore differs" >&2; exit 1; }
				rm -rf "$WORK/r" ;;
			one)
				run "$name" one "${cmd[@]}" restore "${A[@]}" -r "$ONE" "$T" "$WORK/one"
				cmp "$DATA/$ONE" "$WORK/one" || { echo "$name: one file differs" >&2; exit 1; } ;;
			esac
			sync
		done
	done
done
