#!/usr/bin/env node
// A second, independent implementation of cosign's encrypted key format (go-securesystemslib "encrypted"):
// scrypt from node:crypto + NaCl secretbox from tweetnacl. Prints the PKCS#8 DER plaintext as base64.
// Usage: COSIGN_PASSWORD=... node decrypt-cosign-key.js <cosign.key>
'use strict';
const fs = require('fs');
const nodeCrypto = require('crypto');
const nacl = require('tweetnacl');

const keyPath = process.argv[2];
const password = process.env.COSIGN_PASSWORD;
if (!keyPath || password === undefined) {
  console.error('usage: COSIGN_PASSWORD=... decrypt-cosign-key.js <cosign.key>');
  process.exit(2);
}

const pem = fs.readFileSync(keyPath, 'utf8');
const match = /-----BEGIN (ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY)-----([\s\S]*?)-----END \1-----/.exec(pem);
if (!match) {
  console.error('not a cosign encrypted key');
  process.exit(1);
}

const body = JSON.parse(Buffer.from(match[2].replace(/\s+/g, ''), 'base64').toString('utf8'));
if (body.kdf.name !== 'scrypt' || body.cipher.name !== 'nacl/secretbox') {
  console.error('unexpected kdf or cipher');
  process.exit(1);
}

const { N, r, p } = body.kdf.params;
const key = nodeCrypto.scryptSync(Buffer.from(password, 'utf8'), Buffer.from(body.kdf.salt, 'base64'), 32,
  { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
const plaintext = nacl.secretbox.open(
  new Uint8Array(Buffer.from(body.ciphertext, 'base64')),
  new Uint8Array(Buffer.from(body.cipher.nonce, 'base64')),
  new Uint8Array(key));
if (!plaintext) {
  console.error('decryption failed');
  process.exit(1);
}

process.stdout.write(Buffer.from(plaintext).toString('base64') + '\n');
