#!/usr/bin/env bash
# openpgp_vs_gpg.sh: arca's two OpenPGP engines for passphrase backups on
# the same data: GnuPG through GPGME (--gpg-engine=gnupg) and the built-in
# engine (crypto/openpgp*.c, the default).
#
#   bench/openpgp_vs_gpg.sh [--arca PATH] [--scale S] [--runs N]
#                           [--work DIR] [--no-engine-bench]
#
# Data: bench/gen_dataset.py's benchmark mix (55 % random, 45 % text) at
# --scale (default 0.2: ~193 MiB in ~4,000 files), generated once into
# WORK/data.  For each run and engine, on a fresh file:// target and
# archive dir: a full backup, an incremental with nothing changed, and a
# full restore into an empty directory (checked with tests/tools/
# treecmp.py).  Each operation runs under bench/measure.py (wall and CPU
# seconds of the whole process tree, gpg included).  Engines alternate
# order between runs.  Prints medians; raw numbers in WORK/results.tsv.
# Then, unless --no-engine-bench, bench/pgp_bench.c (built against the
# libarca.a next to the arca binary) encrypts a tar of the data with each
# deflate setting, stored blocks on and off.
#
# The machine is shared: trust ratios more than seconds, and CPU seconds
# more than wall seconds.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ARCA=$ROOT/build/arca
SCALE=0.2
RUNS=3
WORK=/tmp/arca-bench-openpgp
ENGINE_BENCH=1
PY=/usr/bin/python3

while [ $# -gt 0 ]; do
	case $1 in
	--arca) ARCA=$2; shift 2 ;;
	--scale) SCALE=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--no-engine-bench) ENGINE_BENCH=0; shift ;;
	*) echo "usage: $0 [--arca PATH] [--scale S] [--runs N] [--work DIR] [--no-engine-bench]" >&2; exit 2 ;;
	esac
done
[ -x "$ARCA" ] || { echo "no arca binary at $ARCA (build first, or --arca)" >&2; exit 2; }
ARCA=$(cd "$(dirname "$ARCA")" && pwd)/$(basename "$ARCA")

mkdir -p "$WORK"
DATA=$WORK/data
if [ ! -e "$DATA/.complete" ]; then
	rm -rf "$DATA"
	$PY "$HERE/gen_dataset.py" generate --kind mix --scale "$SCALE" "$DATA"
	touch "$DATA/.complete"
fi
export GNUPGHOME=$WORK/gnupg
rm -rf "$GNUPGHOME"
mkdir -m 700 "$GNUPGHOME"
export PASSPHRASE=openpgp-bench-passphrase
export XDG_CACHE_HOME=$WORK/cache
trap 'gpgconf --homedir "$GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true' EXIT
# gpg-agent must run before measuring (measure.py does not wait for daemons).
gpg-connect-agent /bye >/dev/null 2>&1 || true

RESULTS=$WORK/results.tsv
printf 'run\tengine\top\twall\tuser\tsys\n' > "$RESULTS"

# measure RUN ENGINE OP CMD...: one timed operation appended to RESULTS.
measure() {
	local run=$1 engine=$2 op=$3 line
	shift 3
	"$PY" "$HERE/measure.py" "$WORK/m.out" -- "$@" > "$WORK/m.log" 2>&1 || {
		cat "$WORK/m.log" >&2
		echo "FAILED: $engine $op" >&2
		exit 1
	}
	sync
	read -r -a line < "$WORK/m.out"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$engine" "$op" "${line[0]}" \
		"${line[1]}" "${line[2]}" >> "$RESULTS"
}

cat "$DATA"/* > /dev/null 2>&1 || true	# page cache, same for both
for run in $(seq 1 "$RUNS"); do
	if [ $((run % 2)) -eq 1 ]; then engines="gnupg builtin"; else engines="builtin gnupg"; fi
	for e in $engines; do
		echo "== run $run: $e"
		T=$WORK/target-$e R=$WORK/restore-$e
		rm -rf "$T" "$R" "$XDG_CACHE_HOME"
		measure "$run" "$e" full "$ARCA" full --gpg-engine="$e" \
			--no-print-statistics "$DATA" "file://$T"
		measure "$run" "$e" noop "$ARCA" incremental --gpg-engine="$e" \
			--no-print-statistics "$DATA" "file://$T"
		measure "$run" "$e" restore "$ARCA" restore --gpg-engine="$e" \
			"file://$T" "$R"
		$PY "$ROOT/tests/tools/treecmp.py" "$DATA" "$R" > /dev/null || {
			echo "restore by $e differs from the source" >&2
			exit 1
		}
		printf '%s\t%s\tsize_mib\t%s\t0\t0\n' "$run" "$e" \
			"$(du -sb "$T" | awk '{printf "%.1f", $1 / 1048576}')" >> "$RESULTS"
		if [ "$run" = 1 ] && [ "$e" = builtin ]; then
			# Stock gpg reads what the built-in engine wrote.
			v=$(ls "$T"/duplicity-full.*.vol1.difftar.gpg)
			gpg --batch --no-tty --pinentry-mode loopback --no-symkey-cache \
				--passphrase "$PASSPHRASE" -o /dev/null -d "$v" 2>/dev/null ||
				{ echo "gpg cannot decrypt $v" >&2; exit 1; }
		fi
		rm -rf "$R"
	done
done

$PY - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
ops = ["full", "noop", "restore"]
val = {}
for run, eng, op, wall, user, sys_ in rows:
    val.setdefault((eng, op), []).append((float(wall), float(user) + float(sys_)))
med = lambda xs: statistics.median(xs)
print("\n| operation | gnupg wall s | builtin wall s | gnupg CPU s | builtin CPU s | wall ratio |")
print("|---|---|---|---|---|---|")
for op in ops:
    g, b = val[("gnupg", op)], val[("builtin", op)]
    gw, bw = med([w for w, _ in g]), med([w for w, _ in b])
    gc, bc = med([c for _, c in g]), med([c for _, c in b])
    print(f"| {op} | {gw:.2f} | {bw:.2f} | {gc:.2f} | {bc:.2f} | {gw / bw:.1f}x |")
g, b = val[("gnupg", "size_mib")], val[("builtin", "size_mib")]
print(f"| target MiB | {med([w for w, _ in g]):.1f} | {med([w for w, _ in b]):.1f} | | | |")
PY

if [ "$ENGINE_BENCH" = 1 ]; then
	BUILD=$(dirname "$ARCA")
	[ -e "$BUILD/libarca.a" ] || { echo "no $BUILD/libarca.a: skipping the engine bench" >&2; exit 0; }
	cc -O2 -D_GNU_SOURCE -I"$ROOT/src/lib" -I"$ROOT/include" \
		"$HERE/pgp_bench.c" -o "$WORK/pgp_bench" "$BUILD/libarca.a" \
		$(pkg-config --libs libgcrypt libisal) -lbz2 -lpthread
	tar cf "$WORK/data.tar" -C "$DATA" .
	echo
	echo "Engine alone on a tar of the data ($(du -m "$WORK/data.tar" | cut -f1) MiB), best of 3, one core:"
	"$WORK/pgp_bench" "$WORK/data.tar" 3
	rm -f "$WORK/data.tar"
fi
