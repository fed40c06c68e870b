#!/bin/bash
#
# mkca.sh DIR: a throwaway certificate authority and a server certificate
# it signed, for TLS tests on loopback.
#
# Writes DIR/ca.pem (the CA certificate to trust), DIR/ca.key,
# DIR/server.pem and DIR/server.key (for 127.0.0.1 and localhost, valid two
# days).  Every run makes a new, unrelated CA: a second DIR gives a CA that
# does not trust the first one's server.

set -euo pipefail

dir=${1:?usage: mkca.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 \
    -subj "/CN=arca throwaway test CA $$-$RANDOM" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr \
    -subj "/CN=127.0.0.1" 2>/dev/null
cat >server.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days 2 -extfile server.ext 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 644 ca.pem server.pem
