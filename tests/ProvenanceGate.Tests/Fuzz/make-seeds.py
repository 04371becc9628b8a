#!/usr/bin/env python3
"""Derives the fuzz seed corpus (seeds/<family>/) from the repository's fixtures: small copies, so that every
mutation runs in milliseconds. Run from the repository root; the BOM, fingerprint and signature seeds that need the
tool itself are written by `make-seeds.sh` afterwards. Re-running it rewrites the same files."""
import io, json, os, pickle, shutil, struct, sys, zipfile, collections

ROOT = os.getcwd()
DATA = os.path.join(ROOT, "tests/ProvenanceGate.Tests/TestData")
FUZZ = os.path.join(ROOT, "tests/ProvenanceGate.Tests/Fuzz/seeds")
TRAINED = os.path.join(DATA, "trained/models")
COSIGN = os.path.join(DATA, "cosign")


def out(family, name, data):
    os.makedirs(os.path.join(FUZZ, family), exist_ok=True)
    with open(os.path.join(FUZZ, family, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def copy(family, source, name=None):
    with open(source, "rb") as f:
        out(family, name or os.path.basename(source), f.read())


def read(*parts):
    with open(os.path.join(*parts), "rb") as f:
        return f.read()


SIZES = {"F32": 4, "F16": 2, "BF16": 2}


def tiny_safetensors(source, keep):
    """The fixture's first layer with every dimension cut to 8 and the values taken from the fixture."""
    raw = read(source)
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    tensors, blobs, offset = collections.OrderedDict(), [], 0
    for name, info in header.items():
        if name == "__metadata__" or not keep(name):
            continue
        size = SIZES[info["dtype"]]
        shape = [min(d, 8) for d in info["shape"]]
        count = 1
        for d in shape:
            count *= d
        start = info["data_offsets"][0]
        blob = body[start:start + count * size]
        tensors[name] = {"dtype": info["dtype"], "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if "__metadata__" in header:
        tensors = collections.OrderedDict([("__metadata__", header["__metadata__"])] + list(tensors.items()))
    text = json.dumps(tensors, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def layer0(name):
    return ".layers." not in name and "blk." not in name or ".layers.0." in name or "blk.0." in name


def tiny_config(source):
    config = json.loads(read(source))
    config.update({"hidden_size": 8, "intermediate_size": 8, "vocab_size": 8, "num_hidden_layers": 1,
                   "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 4})
    return json.dumps(config, indent=2) + "\n"


def tiny_tokenizer_json(source, vocab=48, merges=24):
    tokenizer = json.loads(read(source))
    model = tokenizer["model"]
    model["vocab"] = dict(list(model["vocab"].items())[:vocab])
    model["merges"] = model.get("merges", [])[:merges]
    tokenizer["added_tokens"] = tokenizer.get("added_tokens", [])[:3]
    return json.dumps(tokenizer, ensure_ascii=False, indent=1) + "\n", model


def varint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def tiny_sentencepiece(source, keep=40):
    """ModelProto with its first `keep` pieces (field 1) and every other field as it was."""
    data, i, pieces, kept = read(source), 0, 0, bytearray()
    while i < len(data):
        start = i
        tag, i = varint(data, i)
        wire = tag & 7
        if wire == 0:
            _, i = varint(data, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, i = varint(data, i)
            i += length
        else:
            raise SystemExit(f"unexpected wire type {wire}")
        if tag >> 3 == 1:
            pieces += 1
            if pieces > keep:
                continue
        kept += data[start:i]
    return bytes(kept)


def gguf_seed(version):
    """A one-layer llama GGUF as llama.cpp lays it out (hidden 32, 4 heads, 2 KV heads, vocabulary 16): F16
    embedding, Q8_0 matrices, Q4_0 output, F32 norms, SentencePiece-style tokenizer metadata, a declared base."""
    def string(text):
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    def kv(key, kind, value):
        return string(key) + struct.pack("<I", kind) + value

    u32 = lambda v: struct.pack("<I", v)
    f32 = lambda v: struct.pack("<f", v)
    tokens = ["<unk>", "<s>", "</s>"] + ["\u2581" + w for w in "the a of to and in is it for on that with as was".split()][:13]
    metadata = [
        kv("general.architecture", 8, string("llama")), kv("general.name", 8, string("tiny-chat")),
        kv("general.license", 8, string("apache-2.0")), kv("general.file_type", 4, u32(7)),
        kv("general.quantization_version", 4, u32(2)), kv("general.base_model.count", 4, u32(1)),
        kv("general.base_model.0.name", 8, string("tiny-base")), kv("general.base_model.0.organization", 8, string("Acme")),
        kv("llama.block_count", 4, u32(1)), kv("llama.context_length", 4, u32(64)), kv("llama.embedding_length", 4, u32(32)),
        kv("llama.feed_forward_length", 4, u32(64)), kv("llama.attention.head_count", 4, u32(4)),
        kv("llama.attention.head_count_kv", 4, u32(2)), kv("llama.rope.freq_base", 6, f32(10000.0)),
        kv("llama.attention.layer_norm_rms_epsilon", 6, f32(1e-5)), kv("tokenizer.ggml.model", 8, string("llama")),
        kv("tokenizer.ggml.tokens", 9, u32(8) + struct.pack("<Q", len(tokens)) + b"".join(string(t) for t in tokens)),
        kv("tokenizer.ggml.scores", 9, u32(6) + struct.pack("<Q", len(tokens)) + b"".join(f32(-i) for i in range(len(tokens)))),
        kv("tokenizer.ggml.token_type", 9, u32(5) + struct.pack("<Q", len(tokens)) + b"".join(struct.pack("<i", 3 if i < 3 else 1) for i in range(len(tokens)))),
        kv("tokenizer.ggml.bos_token_id", 4, u32(1)),
    ]
    state = [12345]

    def values(n):
        out_values = []
        for _ in range(n):
            state[0] = (state[0] * 1103515245 + 12345) % (1 << 31)
            out_values.append((state[0] / (1 << 31) - 0.5) * 0.2)
        return out_values

    def q8_0(xs):
        data = b""
        for b in range(0, len(xs), 32):
            block = xs[b:b + 32]
            d = max(abs(v) for v in block) / 127 or 1.0
            data += struct.pack("<e", d) + bytes(struct.pack("<b", max(-127, min(127, round(v / d))))[0] for v in block)
        return data

    def q4_0(xs):
        data = b""
        for b in range(0, len(xs), 32):
            block = xs[b:b + 32]
            m = max(block, key=abs)
            d = m / -8 or 1.0
            q = [max(0, min(15, int(v / d + 8.5))) for v in block]
            data += struct.pack("<e", d) + bytes(q[j] | (q[j + 16] << 4) for j in range(16))
        return data

    F32, F16, Q4_0, Q8_0 = 0, 1, 2, 8
    encode = {F32: lambda xs: struct.pack("<%df" % len(xs), *xs), F16: lambda xs: struct.pack("<%de" % len(xs), *xs), Q4_0: q4_0, Q8_0: q8_0}
    # (name, rows, row length, type); GGUF lists dimensions row length first.
    tensors = [("token_embd.weight", 16, 32, F16), ("blk.0.attn_norm.weight", 1, 32, F32), ("blk.0.attn_q.weight", 32, 32, Q8_0),
               ("blk.0.attn_k.weight", 16, 32, Q8_0), ("blk.0.attn_v.weight", 16, 32, Q8_0), ("blk.0.attn_output.weight", 32, 32, Q8_0),
               ("blk.0.ffn_norm.weight", 1, 32, F32), ("blk.0.ffn_gate.weight", 64, 32, Q8_0), ("blk.0.ffn_up.weight", 64, 32, Q8_0),
               ("blk.0.ffn_down.weight", 32, 64, Q8_0), ("output_norm.weight", 1, 32, F32), ("output.weight", 16, 32, Q4_0)]
    infos, blobs, offset = b"", b"", 0
    for name, rows, length, kind in tensors:
        blob = encode[kind](values(rows * length))
        dims = [length] if rows == 1 else [length, rows]
        infos += string(name) + u32(len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + u32(kind) + struct.pack("<Q", offset)
        blob += b"\0" * (-len(blob) % 32)
        blobs += blob
        offset += len(blob)
    header = b"GGUF" + u32(version) + struct.pack("<QQ", len(tensors), len(metadata)) + b"".join(metadata) + infos
    return header + b"\0" * (-len(header) % 32) + blobs


def format_seeds():
    """Seeds of the other weight formats .NET apps ship: GGUF (v2, v3), ONNX (typed fields; a real torch.onnx.export
    with anonymous transposed MatMul weights when torch and onnx are installed) and torch.save checkpoints (zip, legacy)."""
    out("gguf", "tiny-llama.v3.gguf", gguf_seed(3))
    out("gguf", "tiny-llama.v2.gguf", gguf_seed(2))
    copy("onnx", os.path.join(DATA, "onnx", "typed.onnx"))
    for name in ("views.pt", "views-legacy.pt"):
        copy("pytorch-checkpoint", os.path.join(DATA, "pytorch", "views", name))
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(0)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = torch.nn.Embedding(16, 32)
            self.q_proj = torch.nn.Linear(32, 32, bias=False)
            self.lm_head = torch.nn.Linear(32, 16, bias=False)

        def forward(self, ids):
            return self.lm_head(torch.relu(self.q_proj(self.embed_tokens(ids))))

    exported = io.BytesIO()
    torch.onnx.export(Tiny(), torch.zeros(1, 4, dtype=torch.long), exported, input_names=["input_ids"], opset_version=17)
    out("onnx", "torch-export.onnx", exported.getvalue())


def main():
    # Rewrites its own files; the tool-made seeds (FuzzTests.Regenerate_tool_made_seeds) and the hand-written
    # model-directory scripts stay.
    base = os.path.join(TRAINED, "dev-base")
    bf16 = os.path.join(TRAINED, "dev-ft-bf16")
    sharded = os.path.join(TRAINED, "dev-sharded")

    # The one small model every harness that needs a model directory starts from.
    st = tiny_safetensors(os.path.join(base, "model.safetensors"), layer0)
    st_bf16 = tiny_safetensors(os.path.join(bf16, "model.safetensors"), layer0)
    config = tiny_config(os.path.join(base, "config.json"))
    tokenizer, _ = tiny_tokenizer_json(os.path.join(base, "tokenizer.json"))
    for family in ("safetensors-header", "safetensors-body"):
        out(family, "model.safetensors", st)
        out(family, "bf16.safetensors", st_bf16)
    out("_model", "model.safetensors", st)
    out("_model", "config.json", config)
    out("_model", "tokenizer.json", tokenizer)
    out("_model", "generation_config.json", read(base, "generation_config.json"))

    # Two tiny shards and their index, shard boundaries as in the fixture.
    index = json.loads(read(sharded, "model.safetensors.index.json"))
    shard_of = index["weight_map"]
    weight_map = {}
    for shard in sorted(set(shard_of.values())):
        keep = lambda name, shard=shard: shard_of.get(name) == shard and layer0(name)
        out("_shards", shard, tiny_safetensors(os.path.join(sharded, shard), keep))
        weight_map.update({k: v for k, v in shard_of.items() if v == shard and layer0(k)})
    out("_shards", "config.json", config)
    out("shard-index", "model.safetensors.index.json",
        json.dumps({"metadata": {"total_size": 0}, "weight_map": dict(sorted(weight_map.items()))}, indent=2) + "\n")

    out("config-json", "config.json", config)
    copy("config-json", os.path.join(TRAINED, "dev-neox", "config.json"), "neox-config.json")
    out("tokenizer-json", "tokenizer.json", tokenizer)
    out("tokenizer-model", "tokenizer.model", tiny_sentencepiece(os.path.join(base, "tokenizer.model")))
    _, model = tiny_tokenizer_json(os.path.join(base, "tokenizer.json"))
    out("vocab-json", "vocab.json", json.dumps(model["vocab"], ensure_ascii=False) + "\n")
    merges = "#version: 0.2\n" + "".join((m if isinstance(m, str) else " ".join(m)) + "\n" for m in model["merges"])
    out("merges-txt", "merges.txt", merges)
    out("_model", "merges.txt", merges)
    out("_model", "vocab.json", json.dumps(model["vocab"], ensure_ascii=False) + "\n")

    sample = os.path.join(ROOT, "samples/models/sample-finetune")
    copy("declaration", os.path.join(sample, "provenance.yaml"))
    decl_json = json.dumps({"schemaVersion": 1, "model": {"id": "acme/tiny", "version": "1.0.0", "license": "Apache-2.0"},
                            "baseModels": [{"id": "acme/base", "relation": "fine-tune", "sha256": "1" * 64}],
                            "datasets": [{"name": "acme/data", "containsPii": False, "knownBiases": ["English-heavy"]}]}, indent=2)
    out("declaration", "provenance.json", decl_json + "\n")
    copy("model-card", os.path.join(sample, "README.md"))

    profiles = os.path.join(ROOT, "src/ProvenanceGate.Core/Verification/Policy/Profiles")
    copy("policy", os.path.join(profiles, "baseline.yaml"))
    copy("policy", os.path.join(profiles, "eu-ai-act.yaml"))

    generated = os.path.join(COSIGN, "generated")
    upstream = os.path.join(COSIGN, "upstream")
    copy("cosign-key", os.path.join(generated, "keys/cosign.key"))
    copy("cosign-key", os.path.join(generated, "keys/cosign-empty-password.key"))
    copy("cosign-key", os.path.join(upstream, "cosign/keys_test-pemcosignkey.key"))
    copy("pkcs8-key", os.path.join(generated, "keys/cosign.pkcs8.pem"))
    copy("pkcs8-key", os.path.join(generated, "keys/cosign.pkcs8.der"))
    copy("pkcs8-key", os.path.join(upstream, "cosign/keys_test-pemcosigneckey-SEC1.key"))
    copy("public-key", os.path.join(generated, "keys/cosign.pub"))
    copy("public-key", os.path.join(upstream, "model-transparency/signing-key-pub.spki.pem"))
    copy("signature", os.path.join(generated, "blob/model.safetensors.sig"))
    copy("signature", os.path.join(generated, "blob/model.safetensors.sig.der"))
    copy("sigstore-bundle", os.path.join(generated, "blob/model.safetensors.sigstore.json"))
    copy("sigstore-bundle", os.path.join(generated, "blob/model.safetensors.cosign-bundle.json"))
    copy("sigstore-bundle", os.path.join(generated, "attest/model.safetensors.att.sigstore.json"))
    copy("dsse-envelope", os.path.join(generated, "attest/model.safetensors.dsse.v2.json"))
    copy("dsse-envelope", os.path.join(generated, "attest/model.safetensors.dsse.v3.json"))
    copy("_signing", os.path.join(generated, "blob/model.safetensors"))
    copy("_signing", os.path.join(generated, "keys/cosign.pub"))
    copy("bom-validate", os.path.join(generated, "blob/ml-bom.cdx.json"))

    # Pickles as CPython writes them (protocols 2 and 4), one with a code import, and a torch-style zip.
    ordered = collections.OrderedDict([("weight", [1.0, 2.0]), ("step", 3)])
    out("pickle", "state-p2.pkl", pickle.dumps(ordered, protocol=2))
    out("pickle", "state-p4.pkl", pickle.dumps({"a": (1, "x", b"y"), "b": [None, True]}, protocol=4))
    out("pickle", "code-import.pkl", b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle.dumps(ordered, protocol=2))
        z.writestr("archive/version", "3\n")
    out("pickle", "torch.pt", archive.getvalue())
    format_seeds()


if __name__ == "__main__":
    sys.exit(main())
