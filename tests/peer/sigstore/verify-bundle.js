#!/usr/bin/env node
// Independent check of ProvenanceGate's output with sigstore-js (@sigstore/verify), fully offline:
// an empty trusted root, the given public key for any hint, no tlog/CT/timestamp thresholds.
// Usage: node verify-bundle.js <public-key.pem> <bundle.json> [artifact]   (no artifact for DSSE bundles)
// Exit 0 and "OK" when the bundle verifies; exit 1 with the error otherwise.
'use strict';
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { crypto } = require('@sigstore/core');

const [publicKeyPath, bundlePath, artifactPath] = process.argv.slice(2);
if (!publicKeyPath || !bundlePath) {
  console.error('usage: verify-bundle.js <public-key.pem> <bundle.json> [artifact]');
  process.exit(2);
}

try {
  // The PEM must be passed as a string; a Buffer would be parsed as DER.
  const publicKey = crypto.createPublicKey(fs.readFileSync(publicKeyPath, 'utf8'));
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
  };
  const trust = toTrustMaterial(root, () => ({ publicKey, validFor: () => true }));
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const artifact = artifactPath ? fs.readFileSync(artifactPath) : undefined;
  verifier.verify(toSignedEntity(bundle, artifact));
  console.log('OK');
} catch (error) {
  console.error(`FAILED: ${error.code || ''} ${error.message}`);
  process.exit(1);
}
