#!/usr/bin/env bash
# 08: the containers arca can write besides the defaults: plain files
# (--no-encryption --no-compression) and gpg with the user's --gpg-options;
# real duplicity restores both, and --dry-run writes nothing.
. "$(dirname "$0")/lib.sh"
need duplicity gpg

$MKTREE "$WORK/src" 0
cp -a "$WORK/src" "$WORK/snap0"
$MKTREE "$WORK/src" 1

step "plain containers: no suffix, tar inside, duplicity restores"
T=file://$WORK/plain
expect_exit 0 arca --no-encryption --no-compression --no-print-statistics \
	--volsize 1 --current-time 1700000000 "$WORK/snap0" "$T"
expect_exit 0 arca --no-encryption --no-compression --no-print-statistics \
	--volsize 1 --current-time 1700086400 --allow-source-mismatch "$WORK/src" "$T"
ls "$WORK/plain" | grep -Eq '\.difftar$' || fail "no plain volumes"
ls "$WORK/plain" | grep -Eq '\.(gz|gpg)$' && fail "plain target holds gz/gpg files"
tar tf "$WORK/plain"/duplicity-full.*.vol1.difftar >/dev/null || fail "GNU tar cannot list a plain volume"
duplicity restore --no-encryption --archive-dir "$WORK/dc1" -t 1700000000 "$T" "$WORK/d0" >/dev/null 2>&1 ||
	fail "duplicity could not restore the plain full"
$TREECMP "$WORK/snap0" "$WORK/d0" || fail "plain full differs"
duplicity restore --no-encryption --archive-dir "$WORK/dc1" "$T" "$WORK/d1" >/dev/null 2>&1 ||
	fail "duplicity could not restore the plain incremental"
$TREECMP "$WORK/src" "$WORK/d1" || fail "plain incremental differs"

step "--gpg-options reach gpg: cipher and compression as asked"
export PASSPHRASE="gpg options test"
T=file://$WORK/opts
expect_exit 0 arca --no-print-statistics --gpg-options "--cipher-algo=AES128 --compress-algo=bzip2" \
	"$WORK/snap0" "$T"
pk=$(gpg --batch --pinentry-mode loopback --passphrase "$PASSPHRASE" --list-packets \
	"$WORK/opts"/duplicity-full.*.manifest.gpg 2>&1)
grep -q "cipher 7" <<<"$pk" || fail "manifest not AES128: $pk"
grep -q "compressed packet: algo=3" <<<"$pk" || fail "manifest not bzip2: $pk"
expect_exit 0 arca "$T" "$WORK/r-opts"
$TREECMP "$WORK/snap0" "$WORK/r-opts" || fail "restore with --gpg-options differs"
duplicity restore --archive-dir "$WORK/dc2" "$T" "$WORK/d-opts" >/dev/null 2>&1 ||
	fail "duplicity could not restore"
$TREECMP "$WORK/snap0" "$WORK/d-opts" || fail "duplicity restore differs"
unset PASSPHRASE

step "--dry-run writes nothing to the target or the cache"
# Names, sizes and contents: a directory's own mtime may change (the lock
# file comes and goes), its entries may not.
snapshot() {
	find "$WORK/plain" "$XDG_CACHE_HOME" -type f ! -name lockfile -printf '%p %s\n' | sort
	find "$WORK/plain" "$XDG_CACHE_HOME" -type f ! -name lockfile -exec sha1sum {} + | sort
}
before=$(snapshot)
expect_exit 0 arca --dry-run --no-encryption --no-compression --allow-source-mismatch \
	--current-time 1700172800 "$WORK/src" "file://$WORK/plain"
after=$(snapshot)
[ "$before" = "$after" ] || fail "--dry-run changed the target or cache"
echo "PASS: 08_containers"
