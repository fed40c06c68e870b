#!/usr/bin/env bash
# 09: collection-status --json gives the fields docs/JSON.md promises, with
# the right values, for an empty target, a chain, and an incomplete set.
. "$(dirname "$0")/lib.sh"

T=file://$WORK/t
mkdir -p "$WORK/src/d" "$WORK/t"
echo one > "$WORK/src/d/f"

step "empty target: no backup, nulls"
expect_exit 0 arca collection-status --json --current-time 1700000000 "$T"
$PY - "$WORK/out" <<'PYEOF' || fail "empty-target JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["chains"] == [], d
assert d["last_backup"] is None and d["last_backup_age_seconds"] is None, d
assert d["now"] == {"unix": 1700000000, "utc": "20231114T221320Z"}, d["now"]
PYEOF

step "a full and an incremental"
expect_exit 0 arca full --no-encryption --no-print-statistics --current-time 1700000000 "$WORK/src" "$T"
echo two >> "$WORK/src/d/f"
touch -d @1700000500 "$WORK/src/d/f"
expect_exit 0 arca incr --no-encryption --no-print-statistics --current-time 1700086400 "$WORK/src" "$T"
expect_exit 0 arca collection-status --json --current-time 1700090000 "$T"
$PY - "$WORK/out" <<'PYEOF' || fail "chain JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["chains"]) == 1, d
c = d["chains"][0]
assert c["primary"] is True
assert [s["type"] for s in c["sets"]] == ["full", "incremental"], c
assert c["sets"][0]["time"]["unix"] == 1700000000
assert c["sets"][1]["start"]["unix"] == 1700000000
assert c["sets"][1]["time"]["utc"] == "20231115T221320Z"
assert all(s["volumes"] == 1 and s["encrypted"] is False for s in c["sets"])
assert d["last_backup"]["unix"] == 1700086400
assert d["last_backup_age_seconds"] == 3600, d["last_backup_age_seconds"]
assert d["last_full_backup"]["unix"] == 1700000000
assert d["orphaned_sets"] == [] and d["incomplete_sets"] == []
PYEOF

step "volumes without a manifest show up as an incomplete set"
cp "$WORK"/t/duplicity-full.*.vol1.difftar.gz \
	"$WORK/t/duplicity-full.20231120T000000Z.vol1.difftar.gz"
expect_exit 0 arca collection-status --json --current-time 1700090000 "$T"
$PY - "$WORK/out" <<'PYEOF' || fail "incomplete-set JSON"
import json, sys
d = json.load(open(sys.argv[1]))
inc = d["incomplete_sets"]
assert len(inc) == 1 and inc[0]["type"] == "full", inc
assert inc[0]["time"]["utc"] == "20231120T000000Z", inc
PYEOF
echo "PASS: 09_status_json"
