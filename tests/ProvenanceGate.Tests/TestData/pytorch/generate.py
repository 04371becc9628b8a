#!/usr/bin/python3
"""Writes the PyTorch and PEFT fixtures of this directory with real torch.save (Debian python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 tests/ProvenanceGate.Tests/TestData/pytorch/generate.py
The outputs are committed, so the tests and CI need no torch. Sources are the trained dev models beside this
directory (../trained/models); every tensor is written exactly as torch holds it after loading the safetensors
bytes (plus a documented cast where noted), so the tests can compare our reader with the source to the bit.
"""
import json
import os
import struct
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "trained", "models")
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    start = 8 + length
    tensors = OrderedDict()
    for name, info in sorted(header.items()):
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[start + begin:start + end])
        flat = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[info["dtype"]])
        tensors[name] = flat.reshape(info["shape"]).clone()
    return tensors


def write_safetensors(path, tensors):
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    header, blobs, offset = OrderedDict(), [], 0
    for name, tensor in tensors.items():
        blob = tensor.contiguous().view(torch.uint8).numpy().tobytes() if tensor.dtype == torch.bfloat16 else tensor.contiguous().numpy().tobytes()
        header[name] = {"dtype": names[tensor.dtype], "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def out(*parts):
    path = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def main():
    torch.manual_seed(20251203)

    # dev-ft, zip serialisation (torch.save's default), F16 exactly as in its safetensors.
    dev_ft = read_safetensors(os.path.join(MODELS, "dev-ft", "model.safetensors"))
    torch.save(dev_ft, out("dev-ft", "pytorch_model.bin"))

    # dev-twin, legacy serialisation, cast F32 -> F16 by torch (round to nearest even).
    dev_twin = OrderedDict((k, v.half()) for k, v in read_safetensors(os.path.join(MODELS, "dev-twin", "model.safetensors")).items())
    torch.save(dev_twin, out("dev-twin-legacy", "pytorch_model.bin"), _use_new_zipfile_serialization=False)

    # dev-ft-bf16 in two zip shards plus the Hugging Face index.
    bf16 = read_safetensors(os.path.join(MODELS, "dev-ft-bf16", "model.safetensors"))
    names = list(bf16)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map, total = OrderedDict(), 0
    for i, shard in enumerate(shards):
        file = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save(OrderedDict((n, bf16[n]) for n in shard), out("dev-ft-bf16-sharded", file))
        for n in shard:
            weight_map[n] = file
            total += bf16[n].numel() * 2
    with open(out("dev-ft-bf16-sharded", "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)

    # Views: what a state dict holds when tensors are not fresh contiguous storages.
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10) * 0.25 - 3.0
    views = OrderedDict()
    views["transposed"] = base.t()                       # strides (1, 10)
    views["rows"] = base[2:5]                            # contiguous, storage offset 20
    views["columns"] = base[:, 3:7]                      # strides (10, 1), offset 3
    views["every_other"] = base[::2, ::3]                # strides (20, 3)
    views["half"] = base.half()
    views["bfloat"] = base.bfloat16()
    views["double"] = base.double()
    views["scalar"] = torch.tensor(1.5)
    views["ints"] = torch.arange(5, dtype=torch.int64)
    views["param"] = torch.nn.Parameter(base[1].clone())
    wrapped = {"state_dict": views, "epoch": 3, "optimizer": {"lr": 0.1}}
    torch.save(wrapped, out("views", "views.pt"))
    torch.save(wrapped, out("views", "views-legacy.pt"), _use_new_zipfile_serialization=False)

    # A LoRA adapter for dev-base in PEFT's layout: random A and B on the q and v projections.
    dev_base = read_safetensors(os.path.join(MODELS, "dev-base", "model.safetensors"))
    rank, alpha = 8, 16
    adapter = OrderedDict()
    for name, weight in dev_base.items():
        if not (name.endswith("self_attn.q_proj.weight") or name.endswith("self_attn.v_proj.weight")):
            continue
        out_features, in_features = weight.shape
        a = torch.randn(rank, in_features) / in_features ** 0.5
        b = torch.randn(out_features, rank)
        # Scale B so the update is a fine-tune-sized change: 25% of the weight's Frobenius norm.
        delta = (alpha / rank) * (b @ a)
        b *= 0.25 * weight.norm() / delta.norm()
        module = "base_model.model." + name[: -len(".weight")]
        adapter[module + ".lora_A.weight"] = a.contiguous()
        adapter[module + ".lora_B.weight"] = b.contiguous()
    config = {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": rank, "lora_alpha": alpha, "lora_dropout": 0.0,
        "target_modules": ["q_proj", "v_proj"], "base_model_name_or_path": "dev-base", "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True,
    }
    for folder, save in (("lora-dev-base", lambda p: write_safetensors(os.path.join(p, "adapter_model.safetensors"), adapter)),
                         ("lora-dev-base-bin", lambda p: torch.save(adapter, os.path.join(p, "adapter_model.bin")))):
        path = os.path.dirname(out(folder, "x"))
        with open(os.path.join(path, "adapter_config.json"), "w") as f:
            json.dump(config, f, indent=2)
        save(path)

    # The merged weights as torch computes them (W + alpha/r * B @ A), for one module, to check our merge against.
    name = "model.layers.1.self_attn.q_proj.weight"
    module = "base_model.model." + name[: -len(".weight")]
    merged = dev_base[name] + (alpha / rank) * (adapter[module + ".lora_B.weight"] @ adapter[module + ".lora_A.weight"])
    write_safetensors(out("lora-dev-base-expected", "merged-q-proj-1.safetensors"), OrderedDict([(name, merged)]))


if __name__ == "__main__":
    main()
