#!/usr/bin/env bash
# 17: the progress line appears on a terminal (redrawn with "\r", with the
# documented fields, at most ~4 times a second) and never when stderr is a
# pipe or a file; --json statistics after a backup carry every field
# docs/JSON.md lists, with the right numbers for a known tree and mutation.
. "$(dirname "$0")/lib.sh"

PTYRUN="$PY $TESTS/tools/ptyrun.py"
T=file://$WORK/t
S=$WORK/src
mkdir -p "$S/d" "$WORK/t"
# 40 MiB that gzip cannot shrink: long enough for redraws after the first.
head -c $((40 << 20)) /dev/urandom > "$S/big"
printf 'one\n' > "$S/a"
printf 'two\n' > "$S/d/b"
printf 'three\n' > "$S/c"
touch -d @1700000000 "$S/big" "$S/a" "$S/d/b" "$S/c"
OPTS=(--no-encryption --volsize 32)

# Lines the terminal showed, split on \r and \n, that are progress lines.
plines() {
	tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g' | grep -E "^$2 [0-9]+:[0-9]{2}" || true
}

step "full backup on a terminal: redrawn line, ETA, final line"
start=$(date +%s%N)
$PTYRUN "$WORK/tty" "$WORK/stdout" "$ARCA" full "${OPTS[@]}" \
    --no-print-statistics --current-time 1700000100 "$S" "$T" ||
	{ cat "$WORK/tty" >&2; fail "full backup under a terminal"; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
plines "$WORK/tty" Backup > "$WORK/lines"
cat "$WORK/lines"
n=$(wc -l < "$WORK/lines")
[ "$n" -ge 3 ] || fail "expected the start, a redraw and the final line, got $n"
# A report at most every 250 ms, plus the first and the last.
[ "$n" -le $((ms / 250 + 3)) ] || fail "$n redraws in $ms ms: more than 4 a second"
grep -c $'\r'"Backup " "$WORK/tty" >/dev/null || fail "no carriage return before the line"
grep -q $'\x1b\\[K' "$WORK/tty" || fail "the line is not erased to its end"
grep -Eq '[0-9]+% ETA [0-9]+:[0-9]{2}' "$WORK/lines" || fail "no ETA in a full backup"
grep -Eq '/s \| [0-9]+ files .* scanned \| [0-9]+ skipped .* \| .* sent$' \
    "$WORK/lines" || fail "fields missing"
last=$(tail -n 1 "$WORK/lines")
case "$last" in
"Backup "*" done | "*"/s | 6 files 40.0MiB scanned | 0 skipped 0B | "*" sent") ;;
*) fail "final line: $last" ;;
esac
# The final line ends with a newline (the terminal shows \r\n).
tail -c 2 "$WORK/tty" | od -c | grep -q '\\r  *\\n' || fail "no newline after the final line"
[ ! -s "$WORK/stdout" ] || fail "progress on stdout"

step "statistics on the same terminal replace the final line"
touch -d @1700000200 "$S/a"
$PTYRUN "$WORK/tty" tty "$ARCA" incr "${OPTS[@]}" --current-time 1700000300 \
    "$S" "$T" || fail "incremental under a terminal"
grep -q 'Backup Statistics' "$WORK/tty" || fail "no statistics"
tr '\r' '\n' < "$WORK/tty" | sed -n '/Backup Statistics/,$p' |
    grep -q '^Backup ' && fail "a progress line after the statistics"

step "skipped files are counted"
touch -d @1700000400 "$S/c"
$PTYRUN "$WORK/tty" "$WORK/stdout" "$ARCA" incr "${OPTS[@]}" \
    --no-print-statistics --current-time 1700000500 "$S" "$T" ||
	fail "incremental"
last=$(plines "$WORK/tty" Backup | tail -n 1)
case "$last" in
*"| 6 files 40.0MiB scanned | 5 skipped 40.0MiB | "*) ;;
*) fail "final line of an incremental: $last" ;;
esac

step "restore on a terminal: volumes, written files"
$PTYRUN "$WORK/tty" tty "$ARCA" restore "${OPTS[@]}" "$T" "$WORK/r1" ||
	{ cat "$WORK/tty" >&2; fail "restore under a terminal"; }
plines "$WORK/tty" Restore > "$WORK/lines"
cat "$WORK/lines"
last=$(tail -n 1 "$WORK/lines")
case "$last" in
"Restore "*" done | "*"/s | volume "*" fetched | 6 files 40.0MiB written") ;;
*) fail "final restore line: $last" ;;
esac
# Two volumes of the full, one each for the incrementals.
grep -q 'volume 4/4 ' "$WORK/lines" || fail "volume count"
cmp "$S/big" "$WORK/r1/big" || fail "restored content"

step "--no-progress on a terminal: no line"
$PTYRUN "$WORK/tty" tty "$ARCA" restore "${OPTS[@]}" --no-progress "$T" \
    "$WORK/r2" || fail "restore --no-progress"
grep -q 'Restore' "$WORK/tty" && fail "progress despite --no-progress"
[ -z "$(tr -d '\r\n' < "$WORK/tty")" ] || fail "output: $(cat -v "$WORK/tty")"

step "stderr a file or a pipe: never a progress line, even with --progress"
touch -d @1700000600 "$S/a"
arca incr "${OPTS[@]}" --progress --current-time 1700000700 "$S" "$T" \
    >"$WORK/out" 2>"$WORK/err" || fail "incremental to files"
arca restore "${OPTS[@]}" --progress "$T" "$WORK/r3" 2>&1 | cat > "$WORK/pipe"
for f in "$WORK/out" "$WORK/err" "$WORK/pipe"; do
	if LC_ALL=C grep -q $'\r' "$f" || grep -Eq '^(Backup|Restore) [0-9]' "$f" ||
	    LC_ALL=C grep -q $'\x1b' "$f"; then
		cat -v "$f" >&2
		fail "progress output in $f"
	fi
done
grep -q 'Backup Statistics' "$WORK/out" || fail "statistics missing from stdout"

step "--json statistics: a full backup of a known tree"
rm -rf "$WORK/t2"
mkdir -p "$WORK/src2/sub" "$WORK/t2"
printf '12345' > "$WORK/src2/f1"
printf '1234567890' > "$WORK/src2/sub/f2"
printf 'x' > "$WORK/src2/gone"
ln -s f1 "$WORK/src2/link"
touch -h -d @1700000000 "$WORK/src2/f1" "$WORK/src2/sub/f2" "$WORK/src2/gone" "$WORK/src2/link"
T2=file://$WORK/t2
expect_exit 0 arca full --no-encryption --json --current-time 1700001000 \
    "$WORK/src2" "$T2"
grep -q 'Backup Statistics' "$WORK/out" && fail "--json printed the text block"
$PY - "$WORK/out" "$T2" "$WORK/src2" <<'PYEOF' || fail "full --json"
import json, sys
d = json.load(open(sys.argv[1]))   # stdout is one JSON object, nothing else
want = ["type", "status", "target", "source", "resumed", "dry_run",
        "backup_time", "start_time", "end_time", "elapsed_seconds",
        "source_files", "source_bytes", "new_files", "changed_files",
        "deleted_files", "raw_delta_bytes", "sent_bytes", "volumes",
        "errors", "warnings"]
assert sorted(d) == sorted(want), sorted(set(d) ^ set(want))
assert d["type"] == "full" and d["status"] == "ok", d
assert d["target"] == sys.argv[2] and d["source"] == sys.argv[3], d
assert d["resumed"] is False and d["dry_run"] is False, d
assert d["backup_time"] == {"unix": 1700001000, "utc": "20231114T223000Z"}, d
for k in ("start_time", "end_time"):
    assert set(d[k]) == {"unix", "utc"}, d[k]
assert d["end_time"]["unix"] >= d["start_time"]["unix"], d
assert d["elapsed_seconds"] == d["end_time"]["unix"] - d["start_time"]["unix"]
# root, f1, gone, link, sub, sub/f2
assert d["source_files"] == 6, d
assert d["source_bytes"] == 16, d
assert d["new_files"] == 3 and d["changed_files"] == 0, d
assert d["deleted_files"] == 0 and d["raw_delta_bytes"] == 0, d
assert d["volumes"] == 1 and d["sent_bytes"] > 0, d
assert d["errors"] == 0 and d["warnings"] == 0, d
PYEOF
vol=$(stat -c %s "$WORK"/t2/duplicity-full.*.vol1.difftar.gz)
grep -q "\"sent_bytes\": $vol," "$WORK/out" || fail "sent_bytes is not the volume's size ($vol)"

step "--json statistics: an incremental after a known change"
printf 'abcdefghij-more' > "$WORK/src2/sub/f2"
touch -d @1700002000 "$WORK/src2/sub/f2"
rm "$WORK/src2/gone"
printf 'new!' > "$WORK/src2/f3"
expect_exit 0 arca incr --no-encryption --json --current-time 1700003000 \
    "$WORK/src2" "$T2"
$PY - "$WORK/out" <<'PYEOF' || fail "incremental --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["type"] == "incremental" and d["status"] == "ok", d
assert d["backup_time"]["unix"] == 1700003000, d
# root, f1, f3, link, sub, sub/f2; f1 unchanged still counts its 5 bytes
assert d["source_files"] == 6, d
assert d["source_bytes"] == 5 + 15 + 4, d
assert d["new_files"] == 1 and d["changed_files"] == 1, d
assert d["deleted_files"] == 1, d
assert d["raw_delta_bytes"] > 0, d
assert d["volumes"] == 1 and d["errors"] == 0, d
PYEOF
echo "OK"
