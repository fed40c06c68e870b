#!/usr/bin/env bash
# run.sh: fuzz one target for a while (see docs/FUZZING.md).
#
#   fuzz/run.sh TARGET SECONDS [BUILD_DIR] [extra libFuzzer flags...]
#
# Builds nothing: BUILD_DIR (default build-fuzz) must hold a build made with
# CC=clang -DARCA_FUZZ=ON.  The working corpus lives in
# BUILD_DIR/fuzz-work/TARGET (seeded from fuzz/corpus/TARGET, which is not
# modified); crashes, leaks and timeouts are written to
# BUILD_DIR/fuzz-artifacts/TARGET/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?target}
secs=${2:?seconds}
build=${3:-$here/../build-fuzz}
shift 3 2>/dev/null || shift $#
bin=$build/fuzz/fuzz_$target
[ -x "$bin" ] || { echo "no $bin: configure with CC=clang -DARCA_FUZZ=ON" >&2; exit 1; }
work=$build/fuzz-work/$target
art=$build/fuzz-artifacts/$target
mkdir -p "$work" "$art"
dict=()
[ -f "$here/dict/$target.dict" ] && dict=(-dict="$here/dict/$target.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec nice -n 10 "$bin" -max_total_time="$secs" -rss_limit_mb=2048 \
	-timeout=10 -artifact_prefix="$art/" -print_final_stats=1 \
	"${dict[@]}" "$@" "$work" "$here/corpus/$target"
