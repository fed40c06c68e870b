#!/bin/bash
# make-vectors.sh: known-answer OpenPGP messages written by stock gpg, for
# the built-in engine's reader (tests/unit/test_openpgp.c), and the seed
# corpus of fuzz/fuzz_openpgp.c.
#
# Requirements (Debian 12): gnupg (2.2), python3.  Usage:
#   ./make-vectors.sh [OUTPUT_DIR [CORPUS_DIR]]
# OUTPUT_DIR defaults to this script's folder, CORPUS_DIR to
# fuzz/corpus/openpgp of the same tree.  gpg's salts and session keys are
# random, so the messages differ on every run; plain.bin does not.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
CORPUS=${2:-$HERE/../../../fuzz/corpus/openpgp}
PASS=arca-kat-passphrase
FUZZPASS=fuzz

WORK=$(mktemp -d /tmp/arca-kat-XXXXXX)
export GNUPGHOME=$WORK/gnupg
mkdir -m 700 "$GNUPGHOME"
trap 'gpgconf --homedir "$GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

# 40000 bytes: 20000 of English-like text, then 20000 pseudo-random bytes.
/usr/bin/python3 - "$OUT/plain.bin" <<'PY'
import random, sys
r = random.Random(4880)
words = ("the of and to in is was that for it with as his on be at by had "
         "backup volume archive signature manifest restore encrypted chain "
         "passphrase packet literal compressed deflate").split()
text = bytearray()
while len(text) < 20000:
    text += (" ".join(r.choice(words) for _ in range(12)) + ".\n").encode()
data = bytes(text[:20000]) + bytes(r.getrandbits(8) for _ in range(20000))
open(sys.argv[1], "wb").write(data)
PY
: > "$WORK/empty"

G=(gpg --batch --no-tty --yes --pinentry-mode loopback --no-symkey-cache)

# NAME "GPG OPTIONS" INPUT [pipe]: one vector.
vec() {
	local name=$1 opts=$2 in=$3 how=${4:-file}
	# shellcheck disable=SC2086
	if [ "$how" = pipe ]; then
		"${G[@]}" --passphrase "$PASS" $opts -c -o "$OUT/$name.gpg" < "$in"
	else
		"${G[@]}" --passphrase "$PASS" $opts -c -o "$OUT/$name.gpg" "$in"
	fi 2>/dev/null
}

vec default "" "$OUT/plain.bin"
vec aes128-sha256-zlib "--cipher-algo AES --s2k-digest-algo SHA256 --s2k-count 262144 --compress-algo zlib" "$OUT/plain.bin" pipe
vec aes192-sha512-bzip2 "--cipher-algo AES192 --s2k-digest-algo SHA512 --s2k-count 65536 --compress-algo bzip2" "$OUT/plain.bin" pipe
vec camellia256-s2k1-none "--cipher-algo CAMELLIA256 --s2k-mode 1 --compress-algo none" "$OUT/plain.bin" pipe
vec camellia128-s2k0-zip "--cipher-algo CAMELLIA128 --s2k-mode 0 --compress-algo zip" "$OUT/plain.bin"
vec twofish-sha224 "--cipher-algo TWOFISH --s2k-digest-algo SHA224 --s2k-count 131072" "$OUT/plain.bin"
vec 3des-sha384-file-none "--cipher-algo 3DES --s2k-digest-algo SHA384 --s2k-count 65536 --compress-algo none" "$OUT/plain.bin"
vec cast5-rmd160 "--cipher-algo CAST5 --s2k-digest-algo RIPEMD160 --s2k-count 65536" "$OUT/plain.bin" pipe
vec blowfish "--cipher-algo BLOWFISH --s2k-count 65536" "$OUT/plain.bin"
vec empty "--s2k-count 65536" "$WORK/empty"
# No MDC: the old SE packet, refused unless allowed.
vec cast5-nomdc "--rfc2440 --cipher-algo CAST5 --s2k-count 65536" "$OUT/plain.bin" pipe
# A passphrase packet carrying an encrypted session key (gpg writes one only
# when it also encrypts to a key): -c -e with a throwaway key.
"${G[@]}" --passphrase '' --quick-gen-key kat@arca.invalid ed25519 sign,cert never 2>/dev/null
FPR=$(gpg --with-colons --list-keys kat@arca.invalid | awk -F: '/^fpr/ {print $10; exit}')
"${G[@]}" --passphrase '' --quick-add-key "$FPR" cv25519 encr never 2>/dev/null
"${G[@]}" --passphrase "$PASS" --s2k-count 65536 --trust-model always \
	-r kat@arca.invalid -c -e -o "$OUT/skesk-esk-pkesk.gpg" "$OUT/plain.bin" 2>/dev/null
"${G[@]}" --trust-model always -r kat@arca.invalid -e \
	-o "$OUT/pkesk-only.gpg" "$OUT/plain.bin" 2>/dev/null

# Fuzz seeds: passphrase "fuzz", cheap S2K, a leading byte 0 (decrypt);
# plain packet streams (gpg --store) with a leading byte 1 (inner parser).
mkdir -p "$CORPUS"
head -c 3000 "$OUT/plain.bin" > "$WORK/small"
seed() {
	local name=$1 mode=$2 opts=$3 f=$WORK/seed.gpg
	# shellcheck disable=SC2086
	"${G[@]}" --passphrase "$FUZZPASS" --s2k-count 65536 $opts -o "$f" "$WORK/small" 2>/dev/null
	{ printf "\\x$mode"; cat "$f"; } > "$CORPUS/$name"
}
seed enc-zip 00 "-c"
seed enc-zlib 00 "-c --compress-algo zlib --cipher-algo AES"
seed enc-bzip2 00 "-c --compress-algo bzip2 --cipher-algo 3DES"
seed enc-none 00 "-c --compress-algo none --s2k-mode 1"
seed enc-nomdc 02 "-c --rfc2440 --cipher-algo CAST5"
seed enc-esk 00 "-c -e -r kat@arca.invalid --trust-model always"
seed store-zip 01 "--store --compress-algo zip"
seed store-zlib 01 "--store --compress-algo zlib"
seed store-bzip2 01 "--store --compress-algo bzip2"
seed store-none 01 "--store --compress-algo none"
echo "vectors in $OUT, seeds in $CORPUS"
