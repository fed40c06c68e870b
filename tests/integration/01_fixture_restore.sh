#!/bin/bash
#
# 01_fixture_restore.sh: arca restores the real duplicity 0.8.22 fixtures
# (tests/data/duplicity-0.8.22, plain/ and encrypted/) exactly.
#
# For each collection and each of the three backup times in expected.json:
#   - a full restore, compared with the expected entry list (treecmp);
#   - list-current-files, compared line by line with duplicity's own
#     list-current-files on the same collection at the same time;
# and -r restores of single files (a plain snapshot, a diff, a multivol diff
# across two volumes, a metadata-only change) and of directories (one that
# became a file later), each checked against the expected entries.

. "$(dirname "$0")/lib.sh"
need duplicity gpg

export HOME=$WORK/home
mkdir -p "$HOME"
EXP=$FIXTURES/expected.json
[ -f "$EXP" ] || fail "no $EXP"

# The fixtures are copied so that no tool can write next to them.
cp -a "$FIXTURES/plain" "$FIXTURES/encrypted" "$WORK/"

mapfile -t TIMES < <($PY -c 'import json, sys
for s in json.load(open(sys.argv[1])):
	print(s["time"])' "$EXP")
[ "${#TIMES[@]}" = 3 ] || fail "expected.json has ${#TIMES[@]} times, not 3"

# subexp INDEX PREFIX OUT: expected.json's list INDEX re-rooted at PREFIX
# (a directory) as a one-list JSON file OUT, for treecmp --expected OUT 0.
subexp() {
	$PY - "$EXP" "$1" "$2" "$3" <<'EOF'
import json, sys
exp, idx, prefix, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ents = []
for e in json.load(open(exp))[idx]["entries"]:
	if e["path"] == prefix:
		e = dict(e, path=".")
	elif e["path"].startswith(prefix + "/"):
		e = dict(e, path=e["path"][len(prefix) + 1:])
	else:
		continue
	ents.append(e)
if not ents or ents[0]["path"] != "." or ents[0]["type"] != "dir":
	sys.exit("%s is not a directory in list %d" % (prefix, idx))
json.dump([{"time": 0, "entries": ents}], open(out, "w"))
EOF
}

# checkfile INDEX PATH FILE: FILE is entry PATH of expected list INDEX
checkfile() {
	$PY - "$EXP" "$1" "$2" "$3" <<'EOF'
import hashlib, json, os, stat, sys
exp, idx, path, fn = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
e = [x for x in json.load(open(exp))[idx]["entries"] if x["path"] == path]
if len(e) != 1:
	sys.exit("%s not in expected list %d" % (path, idx))
e = e[0]
st = os.lstat(fn)
bad = []
if not stat.S_ISREG(st.st_mode):
	bad.append("not a regular file")
else:
	got = {"size": st.st_size, "mtime": int(st.st_mtime),
	       "mode": "%04o" % stat.S_IMODE(st.st_mode),
	       "uid": st.st_uid, "gid": st.st_gid,
	       "sha256": hashlib.sha256(open(fn, "rb").read()).hexdigest()}
	for k, v in got.items():
		if k in e and e[k] != v:
			bad.append("%s: expected=%s actual=%s" % (k, e[k], v))
if bad:
	sys.exit("%s (-r %s, list %d): %s" % (fn, path, idx, "; ".join(bad)))
EOF
}

# Lines both tools print around the listing that are not part of it.
unnoise() {
	grep -a -v -E '^(Synchronizing remote metadata|Copying .* to local cache\.$|Local and Remote metadata are synchronized|Last full backup date:|Deleting local .*not authoritative|Last full backup is too old)' "$1" || true
}

for kind in plain encrypted; do
	if [ "$kind" = plain ]; then
		enc=(--no-encryption)
		unset PASSPHRASE
	else
		enc=()
		export PASSPHRASE=fixture-passphrase
	fi
	url=file://$WORK/$kind

	for i in 0 1 2; do
		t=${TIMES[$i]}
		step "$kind: restore --time $t"
		out=$WORK/r-$kind-$i
		expect_exit 0 arca restore "${enc[@]}" --archive-dir "$WORK/acache" \
		    --time "$t" "$url" "$out"
		$TREECMP --expected "$EXP" "$i" "$out" >"$WORK/cmp" ||
		    { cat "$WORK/cmp" >&2; fail "$kind restore at $t differs from expected.json[$i]"; }
		rm -rf "$out"

		step "$kind: list-current-files --time $t vs duplicity"
		duplicity list-current-files "${enc[@]}" --archive-dir "$WORK/dcache" \
		    --time "$t" "$url" >"$WORK/dup.raw" 2>"$WORK/dup.err" ||
		    { cat "$WORK/dup.err" >&2; fail "duplicity list-current-files $kind $t"; }
		expect_exit 0 arca list-current-files "${enc[@]}" \
		    --archive-dir "$WORK/acache" --time "$t" "$url"
		unnoise "$WORK/dup.raw" >"$WORK/dup.ls"
		unnoise "$WORK/out" >"$WORK/arca.ls"
		[ "$(wc -l <"$WORK/dup.ls")" -gt 15 ] ||
		    { cat "$WORK/dup.raw" >&2; fail "duplicity listed too little"; }
		diff -u "$WORK/dup.ls" "$WORK/arca.ls" >&2 ||
		    fail "$kind list-current-files at $t differs (- duplicity, + arca)"
	done

	# -r of single files: TIME-INDEX PATH
	for spec in "0 big.bin" "1 big.bin" "2 big.bin" "0 docs/b.txt" \
	    "1 docs/a.txt" "1 private.txt" "1 docs/medium.bin" "2 sub/deep" \
	    "0 ünïcødé.txt" "0 name with spaces.txt" "2 README.txt"; do
		i=${spec%% *}
		p=${spec#* }
		step "$kind: -r '$p' --time ${TIMES[$i]}"
		out=$WORK/one-$kind
		expect_exit 0 arca restore "${enc[@]}" --archive-dir "$WORK/acache" \
		    --time "${TIMES[$i]}" -r "$p" "$url" "$out"
		checkfile "$i" "$p" "$out" || fail "-r $p"
		rm -f "$out"
	done

	# -r of directories: TIME-INDEX PATH
	for spec in "0 docs" "1 docs" "2 docs" "0 sub" "1 sub/deep" "1 newdir" \
	    "2 emptydir2"; do
		i=${spec%% *}
		p=${spec#* }
		step "$kind: -r '$p'/ --time ${TIMES[$i]}"
		out=$WORK/dir-$kind
		subexp "$i" "$p" "$WORK/sub.json"
		expect_exit 0 arca restore "${enc[@]}" --archive-dir "$WORK/acache" \
		    --time "${TIMES[$i]}" -r "$p" "$url" "$out"
		$TREECMP --expected "$WORK/sub.json" 0 "$out" >"$WORK/cmp" ||
		    { cat "$WORK/cmp" >&2; fail "-r $p at ${TIMES[$i]}"; }
		rm -rf "$out"
	done

	# a path that a later set deleted is gone at that time, present before
	step "$kind: -r of a deleted path"
	expect_exit 19 arca restore "${enc[@]}" --archive-dir "$WORK/acache" \
	    --time "${TIMES[1]}" -r docs/b.txt "$url" "$WORK/gone"
	[ ! -e "$WORK/gone" ] || fail "-r of a missing path created the target"
	# default time: now, i.e. the latest set
	step "$kind: restore without --time = latest"
	expect_exit 0 arca "${enc[@]}" --archive-dir "$WORK/acache" "$url" "$WORK/latest"
	$TREECMP --expected "$EXP" 2 "$WORK/latest" >"$WORK/cmp" ||
	    { cat "$WORK/cmp" >&2; fail "$kind implicit restore (latest)"; }
	rm -rf "$WORK/latest"
done

# The encrypted fixture with a wrong passphrase: refused, nothing written.
step "encrypted: wrong passphrase"
export PASSPHRASE=not-the-passphrase
expect_exit 31 arca restore --archive-dir "$WORK/acache-wrong" \
    --time "${TIMES[0]}" "file://$WORK/encrypted" "$WORK/wrong"
if [ -e "$WORK/wrong" ] && [ -n "$(ls -A "$WORK/wrong")" ]; then
	fail "a restore with the wrong passphrase left files behind"
fi

echo "01_fixture_restore: all passed"
