#!/usr/bin/python3
"""Regenerates the ONNX fixtures from the trained dev models with the real exporter, torch.onnx.export.

Run with Debian's python3-torch (1.13) and python3-onnx:  /usr/bin/python3 generate.py
Writes, next to this script:
  dev-ft/    model.onnx (weights inside), genai_config.json, the dev-ft tokenizer files: the ONNX Runtime GenAI layout
  dev-twin/  model.onnx + model.onnx.data (weights as external data)
  expected.json  input ids and torch's logits for them, for the ONNX Runtime check.
  typed.onnx + typed.json  initializers in ONNX's typed fields (float_data, int32_data holding float16/bfloat16/int8,
                 double_data) and raw bfloat16/uint8, with the values the reader must produce (MatMul weight as [out, in]).
The exporter folds each Linear's transposed weight into an anonymous "onnx::MatMul_N" initializer: the reader must
find their roles from the graph. Weights are exported as float32 (dev-ft stores float16: the values are exact).
"""
import json
import math
import os
import shutil
import struct

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "trained", "models")
DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}


def read_safetensors(path):
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.astype(np.float32))
    return tensors


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.kv = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c["hidden_size"] // self.h
        hidden = c["hidden_size"]
        self.q_proj = nn.Linear(hidden, self.h * self.hd, bias=False)
        self.k_proj = nn.Linear(hidden, self.kv * self.hd, bias=False)
        self.v_proj = nn.Linear(hidden, self.kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.h * self.hd, hidden, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # Hugging Face's repeat_kv (expand + reshape), which every ONNX runtime executes
        rep = self.h // self.kv
        k = k[:, :, None, :, :].expand(b, self.kv, rep, t, self.hd).reshape(b, self.h, t, self.hd)
        v = v[:, :, None, :, :].expand(b, self.kv, rep, t, self.hd).reshape(b, self.h, t, self.hd)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(mask, float("-inf"))
        o = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, t, self.h * self.hd)
        return self.o_proj(o)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.up_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(c["intermediate_size"], c["hidden_size"], bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    """State-dict keys are Hugging Face's, so the safetensors load as they are."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Backbone(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(self, input_ids):
        c = self.c
        hd = c["hidden_size"] // c["num_attention_heads"]
        t = input_ids.shape[1]
        inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        freqs = torch.outer(torch.arange(t, dtype=torch.float32), inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        x = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin)
        return self.lm_head(self.model.norm(x))


def export(name, external):
    source = os.path.join(MODELS, name)
    with open(os.path.join(source, "config.json")) as f:
        config = json.load(f)
    model = LlamaForCausalLM(config)
    model.load_state_dict(read_safetensors(os.path.join(source, "model.safetensors")), strict=True)
    model.eval()
    target = os.path.join(HERE, name)
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    ids = torch.tensor([[1, 17, 230, 5, 999, 42, 2048, 7]], dtype=torch.int64)
    path = os.path.join(target, "model.onnx")
    with torch.no_grad():
        logits = model(ids)
        torch.onnx.export(model, (ids,), path, input_names=["input_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
                          opset_version=14, do_constant_folding=True)
    proto = onnx.load(path)
    for key, value in (("source_model", name), ("source_format", "safetensors")):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    if external:
        onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=1024)
    else:
        onnx.save_model(proto, path)
    onnx.checker.check_model(path)
    return ids, logits, config


def typed():
    from onnx import TensorProto, helper
    rng = np.random.default_rng(7)
    matmul = rng.standard_normal((4, 3)).astype(np.float32)
    f16 = rng.standard_normal((4, 3)).astype(np.float16)
    bf16_bits = (rng.standard_normal((2, 3)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    int8 = np.array([[-128, -5, 0], [1, 77, 127]], dtype=np.int8)
    uint8 = np.array([[0, 1, 2], [128, 200, 255]], dtype=np.uint8)
    double = rng.standard_normal((2, 2))
    initializers = [
        helper.make_tensor("matmul_float_data", TensorProto.FLOAT, [4, 3], matmul.flatten().tolist()),
        # make_tensor stores float16/bfloat16 values as their 16-bit patterns in int32_data
        helper.make_tensor("f16_int32_data", TensorProto.FLOAT16, [4, 3], f16.astype(np.float32).flatten().tolist()),
        helper.make_tensor("bf16_int32_data", TensorProto.BFLOAT16, [2, 3], ((bf16_bits.astype(np.uint32) << 16).view(np.float32)).flatten().tolist()),
        helper.make_tensor("int8_int32_data", TensorProto.INT8, [2, 3], int8.flatten().tolist()),
        helper.make_tensor("uint8_raw", TensorProto.UINT8, [2, 3], uint8.tobytes(), raw=True),
        helper.make_tensor("bf16_raw", TensorProto.BFLOAT16, [2, 3], bf16_bits.tobytes(), raw=True),
        helper.make_tensor("double_data", TensorProto.DOUBLE, [2, 2], double.flatten().tolist()),
    ]
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "matmul_float_data"], ["y"])], "typed",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])], initializers)
    model = helper.make_model(graph, producer_name="provenancegate-fixture", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save_model(model, os.path.join(HERE, "typed.onnx"))
    bf16 = (bf16_bits.astype(np.uint32) << 16).view(np.float32)
    expected = {
        "matmul_float_data": {"shape": [3, 4], "values": matmul.T.flatten().tolist()},
        "f16_int32_data": {"shape": [4, 3], "values": f16.astype(np.float32).flatten().tolist()},
        "bf16_int32_data": {"shape": [2, 3], "values": bf16.flatten().tolist()},
        "int8_int32_data": {"shape": [2, 3], "values": int8.astype(np.float32).flatten().tolist()},
        "uint8_raw": {"shape": [2, 3], "values": uint8.astype(np.float32).flatten().tolist()},
        "bf16_raw": {"shape": [2, 3], "values": bf16.flatten().tolist()},
        "double_data": {"shape": [2, 2], "values": double.astype(np.float32).flatten().tolist()},
    }
    with open(os.path.join(HERE, "typed.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def main():
    typed()
    ids, logits, config = export("dev-ft", external=False)
    target = os.path.join(HERE, "dev-ft")
    for tokenizer_file in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(MODELS, "dev-ft", tokenizer_file), target)
    genai = {"model": {"type": config["model_type"], "vocab_size": config["vocab_size"], "context_length": config["max_position_embeddings"],
                       "bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"],
                       "decoder": {"filename": "model.onnx", "hidden_size": config["hidden_size"], "num_hidden_layers": config["num_hidden_layers"],
                                   "num_attention_heads": config["num_attention_heads"], "num_key_value_heads": config["num_key_value_heads"],
                                   "head_size": config["hidden_size"] // config["num_attention_heads"]}}}
    with open(os.path.join(target, "genai_config.json"), "w") as f:
        json.dump(genai, f, indent=2)
        f.write("\n")
    export("dev-twin", external=True)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({"model": "dev-ft", "input_ids": ids[0].tolist(), "logits_last": [round(float(v), 5) for v in logits[0, -1, :16]],
                   "argmax": logits[0].argmax(-1).tolist()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
