using ProvenanceGate.Fingerprinting;

// Usage: ProvenanceGate.Bench.AotProbe <model> <output.fingerprint.json>: what `fingerprint --no-cache -o` computes and writes.
var fingerprint = Fingerprinter.FromModelDirectory(args[0]);
FingerprintFile.Write(args[1], fingerprint);
