#!/usr/bin/env bash
# test.sh: the whole test suite: install what is missing, build with
# warnings as errors and run every test; then build once more under
# ASan+UBSan and run the suite again.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
jobs=$(nproc)

cmake --preset dev >/dev/null
cmake --build --preset dev -j"$jobs"
# A skipped test means a missing package or server: that is a failure here.
run_ctest() {
	local log
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	if grep -q "tests did not run" "$log"; then
		echo "error: some tests were skipped (see above); install what they need" >&2
		rc=1
	fi
	rm -f "$log"
	return "$rc"
}

run_ctest ctest --preset dev -j"$jobs"
# cppcheck and clang-tidy (.clang-tidy) over the dev build's compile commands.
bash scripts/lint.sh build

cmake --preset asan >/dev/null
cmake --build --preset asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_ctest ctest --preset asan -j"$jobs"
