#!/usr/bin/env bash
# lint.sh: static checks that CI runs (scripts/test.sh): cppcheck and
# clang-tidy with the project's checks (.clang-tidy), both over all of src/
# and fuzz/.  Either one's finding fails the run.  clang-tidy takes about
# 4.5 CPU minutes (2 minutes and a bit on two idle cores).
#
#   scripts/lint.sh [BUILD_DIR [FILE...]]  BUILD_DIR: a configured build (for
#                                     compile_commands.json; default build);
#                                     FILEs: clang-tidy over these only
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
jobs=$(nproc)

if [ ! -f "$build/compile_commands.json" ]; then
	cmake -S . -B "$build" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
fi

echo "== cppcheck"
cppcheck --enable=warning,portability --std=c11 --inline-suppr \
	--error-exitcode=1 -q -j"$jobs" -I include -I src/lib -D_GNU_SOURCE \
	--suppress=missingIncludeSystem src fuzz

TIDY_FILES=(src/lib/*/*.c src/cli/*.c fuzz/*.c)
if [ $# -gt 1 ]; then
	TIDY_FILES=("${@:2}")
fi
echo "== clang-tidy (${#TIDY_FILES[@]} files)"
printf '%s\n' "${TIDY_FILES[@]}" |
	xargs -P"$jobs" -n1 clang-tidy -p "$build" --quiet 2>/dev/null
echo "lint: clean"
