# lib.sh: shared setup for the integration scenarios (sourced, bash).
#
# Every scenario gets a fresh work dir, a private GNUPGHOME and archive
# dir, and fails loudly.  A missing prerequisite exits 77, which CTest
# reports as skipped (and .ci/run treats as a failure).

set -euo pipefail

: "${ARCA:?ARCA must point at the arca binary}"
TESTS=${ARCA_TESTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
DATA=${ARCA_TEST_DATA:-$TESTS/data}
FIXTURES=$DATA/duplicity-0.8.22
PY=/usr/bin/python3
MKTREE="$PY $TESTS/tools/mktree.py"
TREECMP="$PY $TESTS/tools/treecmp.py"

WORK=$(mktemp -d /tmp/arca-it-XXXXXX)
export GNUPGHOME=$WORK/gnupg
mkdir -m 700 "$GNUPGHOME"
export XDG_CACHE_HOME=$WORK/cache
export TZ=UTC
export LC_ALL=C.UTF-8
umask 022

cleanup_work() {
	gpgconf --homedir "$GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true
	if [ -z "${KEEP_WORK:-}" ]; then
		rm -rf "$WORK"
	else
		echo "work dir kept: $WORK" >&2
	fi
}
trap cleanup_work EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
	done
}

# expect_exit CODE CMD...: run CMD, require exit status CODE; output in $WORK/out, $WORK/err
expect_exit() {
	local want=$1 got=0
	shift
	"$@" >"$WORK/out" 2>"$WORK/err" || got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout" >&2; cat "$WORK/out" >&2
		echo "--- stderr" >&2; cat "$WORK/err" >&2
		fail "expected exit $want, got $got: $*"
	fi
}

# expect_err PATTERN: the last command's stderr matches PATTERN (grep -E)
expect_err() {
	grep -Eq -- "$1" "$WORK/err" || { cat "$WORK/err" >&2; fail "stderr lacks /$1/"; }
}

arca() {
	"$ARCA" "$@"
}

step() {
	echo "== $*"
}
