// Parses a GGUF file with Hugging Face's @huggingface/gguf and prints what it read as JSON on stdout:
// every metadata key (arrays in full), the tensor infos in GGUF's own dimension order, the data offset and
// the parameter count. The test compares this with what ProvenanceGate read from the same file.
import { gguf } from "@huggingface/gguf";
import path from "node:path";

const file = path.resolve(process.argv[2]);
const { metadata, tensorInfos, tensorDataOffset, parameterCount } = await gguf(file, {
  allowLocalFile: true,
  computeParametersCount: true,
});
const plain = (value) => (typeof value === "bigint" ? Number(value) : value);
const result = {
  metadata: Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, Array.isArray(value) ? value.map(plain) : plain(value)])),
  tensors: tensorInfos.map((t) => ({ name: t.name, shape: t.shape.map(plain), dtype: t.dtype, offset: plain(t.offset) })),
  tensorDataOffset: plain(tensorDataOffset),
  parameterCount: plain(parameterCount),
};
process.stdout.write(JSON.stringify(result));
