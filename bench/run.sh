#!/usr/bin/env bash
# run.sh: arca, duplicity, restic and borg side by side on the same data.
#
#   bench/run.sh [--scale S] [--kind mix|small|tiny] [--files N] [--seed SEED]
#                [--runs N] [--tools "arca duplicity restic borg"]
#                [--ops "full noop incr restore one"] [--arca PATH]
#                [--data DIR] [--work DIR] [--results FILE] [--keep]
#
# For every run and every tool, on a fresh local target with encryption on
# (arca and duplicity: symmetric gpg with PASSPHRASE; restic: RESTIC_PASSWORD,
# repository v2 with its default compression; borg: repokey, BORG_PASSPHRASE,
# default lz4):
#   full     full backup of the generated tree
#   noop     incremental with nothing changed
#   incr     incremental after `gen_dataset.py mutate` changed ~1 % of files
#   restore  full restore of the latest backup into an empty directory,
#            checked against the source with tests/tools/treecmp.py
#   one      restore of one small file (gen_dataset.py pick), checked with
#            cmp plus mode, mtime and owner
# then the mutation is undone (gen_dataset.py unmutate) for the next tool.
# Each operation runs under bench/measure.py: wall seconds, CPU seconds of the
# whole process tree (user+sys; includes the gpg processes GPGME double-forks,
# which /usr/bin/time cannot see), peak RSS of the tool's own process and of
# the largest process of the tree, and the CPU the rest of the machine used
# meanwhile.  The bench's gpg-agent (a daemon, outside the tree) is
# accounted separately from /proc and its CPU added to the tool's.  `sync`
# runs after every operation, outside the timing.
#
# Page cache: before each tool's full backup the page cache is dropped
# (`echo 1 > /proc/sys/vm/drop_caches`, where allowed: root on a machine
# that permits it; the output says which) and the tree is read back, so
# every tool starts from the same memory: its input cached, the rest of
# RAM free.  Without the drop, what earlier tools left in the cache (a run
# writes many GB) fills RAM and the next tool pays for page reclaim: the
# same arca full backup took 5.0-9.3 s (five runs) right after a 19 GB
# file was written, 4.5-5.4 s once it was deleted.  Every operation runs
# with its input in the page cache.
#
# Tools run in a rotating order (run 1: arca duplicity restic borg; run 2:
# duplicity restic borg arca; ...) so a burst of outside load does not always
# hit the same tool.  At the end bench/report.py prints medians, ranges,
# arca's ratio to each peer and the issue's goals.  Raw numbers stay in
# --results (a TSV, default WORK/results.tsv).
#
# The dataset is generated once into --data (default
# /tmp/arca-bench-data/mix-sSCALE-fFILES-SEED or KIND-fFILES-SEED) and reused while its
# .complete stamp exists.  --keep keeps each tool's target and archive dir
# (deleted after the tool otherwise).  Restored trees are set aside and
# deleted at the end (deleting a million files takes minutes here): plan for
# about (2 + runs x tools) x the dataset's size of free disk.
#
# Needs bench/deps.sh (restic, borgbackup, duplicity, time) and an arca
# binary: --arca, $ARCA, or `arca` on PATH.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARGS=
[ $# -eq 0 ] || ARGS=$(printf " %q" "$@")
REPO=$(cd "$BENCH/.." && pwd)
PY=/usr/bin/python3
GEN="$PY $BENCH/gen_dataset.py"
MEASURE="$PY $BENCH/measure.py"
TREECMP="$PY $REPO/tests/tools/treecmp.py"

SCALE=1.0
KIND=mix
FILES=
SEED=1
RUNS=3
TOOLS="arca duplicity restic borg"
OPS="full noop incr restore one"
ARCA_BIN=${ARCA:-}
DATA=
WORK=
RESULTS=
KEEP=

usage() {
	sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--scale) SCALE=$2; shift 2 ;;
	--kind) KIND=$2; shift 2 ;;
	--files) FILES=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--tools) TOOLS=$2; shift 2 ;;
	--ops) OPS=$2; shift 2 ;;
	--arca) ARCA_BIN=$2; shift 2 ;;
	--data) DATA=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--results) RESULTS=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown argument $1" >&2; usage ;;
	esac
done

die() {
	echo "run.sh: $*" >&2
	exit 1
}

[ -n "$ARCA_BIN" ] || ARCA_BIN=$(command -v arca || true)
case " $TOOLS " in
*" arca "*)
	[ -n "$ARCA_BIN" ] && [ -x "$ARCA_BIN" ] || die "no arca binary: use --arca PATH or ARCA=PATH"
	ARCA_BIN=$(cd "$(dirname "$ARCA_BIN")" && pwd)/$(basename "$ARCA_BIN") ;;
esac
for t in $TOOLS; do
	case $t in
	arca) ;;
	duplicity|restic|borg) command -v "$t" >/dev/null || die "$t is not installed: run bench/deps.sh" ;;
	*) die "unknown tool $t" ;;
	esac
done
for o in $OPS; do
	case $o in full|noop|incr|restore|one) ;; *) die "unknown operation $o" ;; esac
done
case " $OPS " in *" full "*) ;; *) die "--ops must include full (every run starts from an empty target)" ;; esac

if [ -z "$DATA" ]; then
	case $KIND in
	mix) DATA=/tmp/arca-bench-data/mix-s$SCALE-f${FILES:-default}-$SEED ;;
	*) DATA=/tmp/arca-bench-data/$KIND-f${FILES:-default}-$SEED ;;
	esac
fi
[ -n "$WORK" ] || WORK=$(mktemp -d /tmp/arca-bench-XXXXXX)
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
[ -n "$RESULTS" ] || RESULTS=$WORK/results.tsv
LOGS=$WORK/logs
mkdir -p "$LOGS"

export TZ=UTC LC_ALL=C.UTF-8
export GNUPGHOME=$WORK/gnupg
mkdir -p -m 700 "$GNUPGHOME"
export PASSPHRASE=arca-bench-passphrase-not-secret
export RESTIC_PASSWORD=$PASSPHRASE BORG_PASSPHRASE=$PASSPHRASE
export BORG_BASE_DIR=$WORK/borg-home
export XDG_CACHE_HOME=$WORK/cache
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes BORG_DISPLAY_PASSPHRASE=no

cleanup() {
	gpgconf --homedir "$GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true
	if [ -n "${SRC:-}" ] && [ -d "$WORK/undo" ]; then
		$GEN unmutate --undo "$WORK/undo" "$SRC" >/dev/null || true
	fi
	if [ -z "$KEEP" ]; then
		rm -rf "$WORK/t" "$WORK/r" "$WORK/r1" "$WORK/a" "$WORK/cache" "$WORK/borg-home"
	fi
	rm -rf "$WORK/trash"
}
trap cleanup EXIT

# ------------------------------------------------------------- dataset

if [ ! -e "$DATA.complete" ]; then
	rm -rf "$DATA"
	mkdir -p "$DATA"
	echo "== generating $DATA"
	$GEN generate --kind "$KIND" --scale "$SCALE" ${FILES:+--files "$FILES"} \
		--seed "$SEED" --progress "$DATA"
	touch "$DATA.complete"
fi
SRC=$(cd "$DATA" && pwd)
[ ! -d "$WORK/undo" ] || die "$WORK/undo exists: a previous run was interrupted"
PICK=$($GEN pick "$SRC")
DATASTATS=$($GEN stats "$SRC")

# ------------------------------------------------------------- machine

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "command: bench/run.sh$ARGS (nice $(nice))"
	echo "settings: kind $KIND, scale $SCALE, files ${FILES:-default}, seed $SEED, runs $RUNS, tools $TOOLS, ops $OPS"
	echo "dataset: $DATASTATS ($KIND, scale $SCALE, seed $SEED); one-file target: $PICK"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); kernel $(uname -r)"
	echo "filesystem: $(df -T "$WORK" | awk 'NR==2 {print $2}') (work), $(df -T "$SRC" | awk 'NR==2 {print $2}') (data)"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ -w /proc/sys/vm/drop_caches ]; then
		echo "page cache: dropped before each tool's full backup, then the tree read back"
	else
		echo "page cache: cannot be dropped here; the tree is read back before each tool's full backup"
	fi
	for t in $TOOLS; do
		case $t in
		arca) echo "arca: $("$ARCA_BIN" --version 2>&1 | head -1) ($ARCA_BIN)" ;;
		duplicity) echo "duplicity: $(duplicity --version 2>&1 | tail -1), $(gpg --version | head -1)" ;;
		restic) echo "restic: $(restic version | cut -d' ' -f1-2)" ;;
		borg) echo "borg: $(borg --version)" ;;
		esac
	done
} | tee "$WORK/machine.txt"

printf 'run\ttool\top\twall\tuser\tsys\trss_main_kib\trss_any_kib\tprocs\tstatus\tothers_cpu\ttarget_bytes\tcheck\tagent_cpu\n' >"$RESULTS"

# ------------------------------------------------------------- tools

T=$WORK/t        # target (repository)
A=$WORK/a        # archive dir / cache of arca and duplicity

# tool_cmd TOOL OP: print nothing, set CMD (array) and CWD for the operation
tool_cmd() {
	local tool=$1 op=$2
	CWD=$WORK
	case $tool in
	arca|duplicity)
		local bin=$ARCA_BIN
		[ "$tool" = arca ] || bin=duplicity
		local common=(--archive-dir "$A" --name bench)
		case $op in
		full) CMD=("$bin" full "${common[@]}" "$SRC" "file://$T") ;;
		noop|incr) CMD=("$bin" incremental "${common[@]}" "$SRC" "file://$T") ;;
		restore) CMD=("$bin" restore "${common[@]}" "file://$T" "$WORK/r") ;;
		one) CMD=("$bin" restore "${common[@]}" --file-to-restore "$PICK" "file://$T" "$WORK/r1/one") ;;
		esac ;;
	restic)
		case $op in
		full|noop|incr) CMD=(restic --repo "$T" backup --host bench "$SRC") ;;
		restore) CMD=(restic --repo "$T" restore latest --host bench --target "$WORK/r") ;;
		one) CMD=(restic --repo "$T" restore latest --host bench --target "$WORK/r1" --include "$SRC/$PICK") ;;
		esac ;;
	borg)
		case $op in
		full|noop|incr) CMD=(borg create "$T::$op" "$SRC") ;;
		restore) CWD=$WORK/r; CMD=(borg extract "$T::$LAST_BORG") ;;
		one) CWD=$WORK/r1; CMD=(borg extract "$T::$LAST_BORG" "${SRC#/}/$PICK") ;;
		esac ;;
	esac
}

# Where a restore puts the tree / the one file.
restored_root() {
	case $1 in
	arca|duplicity) echo "$WORK/r" ;;
	restic|borg) echo "$WORK/r$SRC" ;;
	esac
}
restored_one() {
	case $1 in
	arca|duplicity) echo "$WORK/r1/one" ;;
	restic|borg) echo "$WORK/r1$SRC/$PICK" ;;
	esac
}

tool_init() {
	local tool=$1
	rm -rf "$T" "$A" "$WORK/cache" "$BORG_BASE_DIR"
	mkdir -p "$A" "$WORK/cache"
	case $tool in
	restic) restic --repo "$T" init >"$LOGS/init-restic.log" 2>&1 ;;
	borg) borg init --encryption=repokey "$T" >"$LOGS/init-borg.log" 2>&1 ;;
	arca|duplicity) gpgconf --launch gpg-agent ;;
	esac
}

FAILED=0

# CPU seconds the bench's gpg-agent has used so far.  The agent is a daemon
# outside the measured process tree, but it works for the tool being
# measured: duplicity's gpg (no --no-symkey-cache) keeps it busy, about 1 s
# of CPU per 64 MiB backed up.  Its share is added to the tool's CPU and
# taken out of the outside load.
agent_cpu() {
	local p
	p=$(pgrep -f "gpg-agent --homedir $GNUPGHOME" | head -1 || true)
	if [ -n "$p" ] && [ -r "/proc/$p/stat" ]; then
		awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$p/stat"
	else
		echo 0
	fi
}

# measure RUN TOOL OP: time one operation, append a results row
measure() {
	local run=$1 tool=$2 op=$3 log=$LOGS/$1-$2-$3.log status=0 check=- size=-
	tool_cmd "$tool" "$op"
	# arca and duplicity refuse an existing restore target; borg extracts
	# into its working directory.
	case $op in
	restore) rm -rf "$WORK/r"; [ "$tool" != borg ] || mkdir -p "$WORK/r" ;;
	one) rm -rf "$WORK/r1"; mkdir -p "$WORK/r1" ;;
	esac
	echo "+ ${CMD[*]}" >"$log"
	local agent0 agent1
	agent0=$(agent_cpu)
	(cd "$CWD" && $MEASURE "$WORK/m.out" -- "${CMD[@]}") >>"$log" 2>&1 || status=$?
	agent1=$(agent_cpu)
	sync
	if [ "$status" -ne 0 ]; then
		echo "   $tool $op FAILED (exit $status), log: $log" >&2
		tail -5 "$log" >&2
		FAILED=1
		check=FAILED
	else
		case $op in
		full|noop|incr) size=$(du -sb "$T" | cut -f1) ;;
		restore)
			if $TREECMP "$SRC" "$(restored_root "$tool")" >"$LOGS/$run-$tool-treecmp.log" 2>&1; then
				check=ok
			else
				check=MISMATCH; FAILED=1
				echo "   $tool restore differs from the source: $LOGS/$run-$tool-treecmp.log" >&2
				tail -5 "$LOGS/$run-$tool-treecmp.log" >&2
			fi
			# Deleting a million files takes minutes here: set them
			# aside and delete them after the last measurement.
			mkdir -p "$WORK/trash"
			mv "$WORK/r" "$WORK/trash/r.$run.$tool" ;;
		one)
			local got want
			got=$(restored_one "$tool")
			want=$SRC/$PICK
			if cmp -s "$want" "$got" &&
				[ "$(stat -c '%a %Y %u %g %s' "$want")" = "$(stat -c '%a %Y %u %g %s' "$got" 2>/dev/null)" ]; then
				check=ok
			else
				check=MISMATCH; FAILED=1
				echo "   $tool one-file restore differs: $want vs $got" >&2
			fi
			rm -rf "$WORK/r1" ;;
		esac
	fi
	[ -s "$WORK/m.out" ] || echo "0 0 0 0 0 0 $status 0" >"$WORK/m.out"
	read -r wall user sys rss_main rss_any procs mstatus others <"$WORK/m.out"
	local agent
	agent=$(awk -v a="$agent0" -v b="$agent1" 'BEGIN { d = b - a; printf "%.2f", d < 0 ? 0 : d }')
	others=$(awk -v o="$others" -v a="$agent" 'BEGIN { d = o - a; printf "%.2f", d < 0 ? 0 : d }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" "$op" \
		"$wall" "$user" "$sys" "$rss_main" "$rss_any" "$procs" "$mstatus" "$others" \
		"$size" "$check" "$agent" >>"$RESULTS"
	printf '   %-9s %-8s %7.2f s wall %7.2f s cpu (gpg-agent %.2f) %6d KiB  others %5.1f cpu-s  %s\n' \
		"$tool" "$op" "$wall" "$(echo "$user $sys $agent" | awk '{print $1+$2+$3}')" "$agent" \
		"$rss_main" "$others" "$check"
	rm -f "$WORK/m.out"
}

has_op() {
	case " $OPS " in *" $1 "*) return 0 ;; esac
	return 1
}

read_tree() {
	find "$SRC" -type f -print0 | xargs -0 cat >/dev/null
}

# The same start for every tool: an empty page cache (where the kernel
# lets us drop it), then the tree read back.
level_cache() {
	sync
	if echo 1 2>/dev/null >/proc/sys/vm/drop_caches; then
		echo "   (page cache dropped, tree read back before $1)"
	else
		echo "   (page cache NOT dropped: not allowed here; tree read back before $1)"
	fi
	read_tree
}

# ------------------------------------------------------------- runs

tools=($TOOLS)
for run in $(seq 1 "$RUNS"); do
	echo "== run $run of $RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
	n=${#tools[@]}
	for i in $(seq 0 $((n - 1))); do
		tool=${tools[$(((i + run - 1) % n))]}
		tool_init "$tool"
		level_cache "$tool"
		LAST_BORG=full
		measure "$run" "$tool" full
		if has_op noop; then
			measure "$run" "$tool" noop
			LAST_BORG=noop
		fi
		if has_op incr; then
			$GEN mutate --seed "$SEED" --undo "$WORK/undo" "$SRC" >"$LOGS/$run-$tool-mutate.log"
			# Flush the mutation outside the timing: on ext4 (ordered
			# data) the tool's first fsync would otherwise write back
			# the mutated files too, and only tools that fsync pay it.
			sync
			measure "$run" "$tool" incr
			LAST_BORG=incr
		fi
		has_op restore && measure "$run" "$tool" restore
		has_op one && measure "$run" "$tool" one
		if [ -d "$WORK/undo" ]; then
			$GEN unmutate --undo "$WORK/undo" "$SRC" >>"$LOGS/$run-$tool-mutate.log"
		fi
		[ -n "$KEEP" ] || rm -rf "$T" "$A"
	done
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$WORK/machine.txt"
echo
$PY "$BENCH/report.py" --machine "$WORK/machine.txt" "$RESULTS"
echo
echo "raw results: $RESULTS; logs: $LOGS"
[ "$FAILED" -eq 0 ] || die "some operations failed or restored wrong data (see above)"
