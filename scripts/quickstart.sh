#!/usr/bin/env bash
# quickstart.sh: install what is missing, build arca, then run a real
# encrypted backup, an incremental and a restore of a small sample tree to
# a local file:// target, showing each step.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
ARCA=$PWD/build/arca

demo=$(mktemp -d /tmp/arca-quickstart-XXXXXX)
export GNUPGHOME=$demo/gnupg XDG_CACHE_HOME=$demo/cache
mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --homedir "$GNUPGHOME" --kill gpg-agent 2>/dev/null || true' EXIT
export PASSPHRASE="a really really long passphrase"

run() { echo "\$ $*"; "$@"; }

mkdir -p "$demo/precious/docs"
echo "the one copy that matters" > "$demo/precious/notes.txt"
head -c 300000 /dev/urandom > "$demo/precious/docs/photo.raw"
ln -s notes.txt "$demo/precious/link"

echo "== full backup (encrypted with \$PASSPHRASE)"
run "$ARCA" --no-print-statistics "$demo/precious" "file://$demo/backup"
echo "changed later" >> "$demo/precious/notes.txt"
echo "a new file" > "$demo/precious/docs/new.txt"
sleep 1
echo "== incremental backup"
run "$ARCA" --no-print-statistics "$demo/precious" "file://$demo/backup"
echo "== what the target holds"
run ls -1 "$demo/backup"
run "$ARCA" collection-status "file://$demo/backup"
echo "== restore everything"
run "$ARCA" "file://$demo/backup" "$demo/restored"
run diff -r "$demo/precious" "$demo/restored"
echo "== restore one file"
run "$ARCA" -r notes.txt "file://$demo/backup" "$demo/notes.txt"
run cat "$demo/notes.txt"
echo "== every file on the target is a plain OpenPGP message: stock gpg reads it"
echo "\$ gpg --batch --pinentry-mode loopback --passphrase-fd 0 -d $demo/backup/duplicity-full.*.manifest.gpg"
printf '%s' "$PASSPHRASE" | gpg --batch --quiet --pinentry-mode loopback --passphrase-fd 0 \
	-d "$demo"/backup/duplicity-full.*.manifest.gpg
echo "OK: backup, incremental and restore verified in $demo"
