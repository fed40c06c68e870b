#!/usr/bin/env bash
# lint.sh: static checks that CI runs (scripts/test.sh): cppcheck over all
# of src/ and fuzz/, clang-tidy with the project's checks (.clang-tidy)
# over the modules that read remote or user input.  Either one's finding
# fails the run.
#
#   scripts/lint.sh [BUILD_DIR]      BUILD_DIR: a configured build (for
#                                     compile_commands.json; default build)
#   LINT_ALL=1 scripts/lint.sh        clang-tidy over every source file
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

# What clang-tidy must keep clean: the parsers of remote and user input
# and the restore path (issue 8).  LINT_ALL=1 shows the rest.
TIDY_FILES=(src/lib/format/*.c src/lib/archive/*.c src/lib/compress/*.c
	src/lib/delta/*.c src/lib/select/*.c src/lib/util/*.c
	src/lib/engine/extract.c src/lib/engine/restore.c
	src/lib/engine/sigstream.c src/cli/main.c fuzz/*.c)
if [ -n "${LINT_ALL:-}" ]; then
	TIDY_FILES=(src/lib/*/*.c src/cli/*.c fuzz/*.c)
fi
echo "== clang-tidy (${#TIDY_FILES[@]} files)"
printf '%s\n' "${TIDY_FILES[@]}" |
	xargs -P"$jobs" -n4 clang-tidy -p "$build" --quiet 2>/dev/null
echo "lint: clean"
