#!/usr/bin/env bash
# profile.sh: where arca's time goes, operation by operation.
#
#   bench/profile.sh [--scale S] [--kind mix|small|tiny] [--files N] [--seed SEED]
#                    [--ops "full noop incr restore one"] [--arca PATH]
#                    [--data DIR] [--work DIR] [--bucket SECONDS]
#
# Runs arca's five benchmark operations (as bench/run.sh does, same dataset
# directory convention) each under `perf record -e cpu-clock` (software clock:
# this VM has no hardware counters), following every process arca starts,
# and prints per operation:
#   - wall seconds, CPU seconds of the whole tree, CPUs used (CPU / wall),
#     and how many gpg processes ran (each pays gpg's passphrase S2K);
#   - CPU split by process and library (gpg's libz = deflate/inflate, gpg's
#     libgcrypt = AES-CFB, SHA-1 MDC and the S2K; arca's [kernel] = file and
#     pipe I/O; libgpgme = GPGME copying data between arca's fds and gpg);
#   - the hottest symbols inside arca itself;
#   - a timeline: per --bucket seconds (default 0.5), milliseconds of CPU per
#     process, which shows what runs serially and what overlaps.
# perf.data files stay in WORK (default a new /tmp/arca-profile-XXXXXX) for
# `perf report -i WORK/perf.OP`.  Needs linux-perf (bench/deps.sh).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
GEN="$PY $BENCH/gen_dataset.py"
MEASURE="$PY $BENCH/measure.py"
SCALE=0.05
KIND=mix
FILES=
SEED=1
OPS="full noop incr restore one"
ARCA_BIN=${ARCA:-$(command -v arca || true)}
DATA=
WORK=
BUCKET=0.5
FREQ=1000

while [ $# -gt 0 ]; do
	case $1 in
	--scale) SCALE=$2; shift 2 ;;
	--kind) KIND=$2; shift 2 ;;
	--files) FILES=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--ops) OPS=$2; shift 2 ;;
	--arca) ARCA_BIN=$2; shift 2 ;;
	--data) DATA=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--bucket) BUCKET=$2; shift 2 ;;
	*) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
[ -n "$ARCA_BIN" ] && [ -x "$ARCA_BIN" ] || { echo "profile.sh: use --arca PATH" >&2; exit 2; }
command -v perf >/dev/null || { echo "profile.sh: perf is missing (bench/deps.sh)" >&2; exit 2; }

if [ -z "$DATA" ]; then
	case $KIND in
	mix) DATA=/tmp/arca-bench-data/mix-s$SCALE-f${FILES:-default}-$SEED ;;
	*) DATA=/tmp/arca-bench-data/$KIND-f${FILES:-default}-$SEED ;;
	esac
fi
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/arca-profile-XXXXXX)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
if [ ! -e "$DATA.complete" ]; then
	rm -rf "$DATA"
	mkdir -p "$DATA"
	$GEN generate --kind "$KIND" --scale "$SCALE" ${FILES:+--files "$FILES"} --seed "$SEED" "$DATA"
	touch "$DATA.complete"
fi
SRC=$(cd "$DATA" && pwd)
PICK=$($GEN pick "$SRC")

export TZ=UTC LC_ALL=C.UTF-8
export GNUPGHOME=$WORK/gnupg
mkdir -p -m 700 "$GNUPGHOME"
export PASSPHRASE=arca-bench-passphrase-not-secret
T=$WORK/t
A=$WORK/a
rm -rf "$T" "$A" "$WORK/r" "$WORK/r1"
mkdir -p "$A" "$WORK/r1"
gpgconf --launch gpg-agent

cleanup() {
	gpgconf --homedir "$GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true
	[ ! -d "$WORK/undo" ] || $GEN unmutate --undo "$WORK/undo" "$SRC" >/dev/null || true
	rm -rf "$T" "$A" "$WORK/r" "$WORK/r1"
}
trap cleanup EXIT

echo "profile of $ARCA_BIN on $($GEN stats "$SRC") ($KIND, scale $SCALE)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"

profile() {
	local op=$1
	shift
	local data=$WORK/perf.$op
	find "$SRC" -type f -print0 | xargs -0 cat >/dev/null
	perf record -q -o "$data" -e cpu-clock -F "$FREQ" -g -- \
		$MEASURE "$WORK/m.$op" -- "$@" >"$WORK/log.$op" 2>&1
	sync
	read -r wall user sys rss _ _ _ others <"$WORK/m.$op"
	echo
	echo "=== $op: $*"
	printf 'wall %.2f s, cpu %.2f s (%.2f CPUs used), arca peak RSS %d KiB, outside load %.2f cores, %d gpg processes (GPGME also runs gpg --version)\n' \
		"$wall" "$(echo "$user + $sys" | bc)" "$(echo "($user + $sys) / $wall" | bc -l)" "$rss" \
		"$(echo "$others / $wall" | bc -l)" \
		"$(perf script -i "$data" -F comm,pid 2>/dev/null | awk '$1=="gpg" {p[$2]=1} END {print length(p)}')"
	echo "-- CPU by process and library (share of the tree's samples)"
	perf report -i "$data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | grep -v 'measure.py\|python3' | awk '$1+0 >= 0.5' | head -12 || true
	echo "-- hottest symbols in arca's own process"
	perf report -i "$data" --no-children --comm arca --sort dso,sym --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -8 || true
	echo "-- timeline: ms of CPU per ${BUCKET}s bucket"
	perf script -i "$data" -F comm,time 2>/dev/null | awk -v b="$BUCKET" -v f="$FREQ" '
		$1 == "python3" { next }
		{ t = $NF + 0; if (t0 == 0) t0 = t; i = int((t - t0) / b); c[i, $1]++; seen[$1] = 1; if (i > n) n = i }
		END {
			for (i = 0; i <= n; i++) {
				line = sprintf("%6.1fs", i * b)
				for (p in seen) if (c[i, p]) line = line sprintf("  %s %d", p, c[i, p] * 1000 / f)
				print line
			}
		}' || true
}

for op in $OPS; do
	case $op in
	full) profile full "$ARCA_BIN" full --no-print-statistics --archive-dir "$A" --name bench "$SRC" "file://$T" ;;
	noop) profile noop "$ARCA_BIN" incremental --no-print-statistics --archive-dir "$A" --name bench "$SRC" "file://$T" ;;
	incr)
		$GEN mutate --seed "$SEED" --undo "$WORK/undo" "$SRC" >/dev/null
		profile incr "$ARCA_BIN" incremental --no-print-statistics --archive-dir "$A" --name bench "$SRC" "file://$T" ;;
	restore) rm -rf "$WORK/r"; profile restore "$ARCA_BIN" restore --archive-dir "$A" --name bench "file://$T" "$WORK/r" ;;
	one) rm -f "$WORK/r1/one"; profile one "$ARCA_BIN" restore --archive-dir "$A" --name bench --file-to-restore "$PICK" "file://$T" "$WORK/r1/one" ;;
	*) echo "unknown op $op" >&2; exit 2 ;;
	esac
done
