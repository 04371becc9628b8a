#!/usr/bin/python3
"""Peer for the ONNX reader: Debian's python3-onnx checks models and prints the facts ProvenanceGate reports.

Usage: peer_facts.py [--check] PATH...   (a PATH that is a directory is searched for *.onnx)
Prints one JSON object: {path: facts} or {path: {"load_error": message}} for files onnx itself cannot load.
With --check, onnx.checker.check_model must pass for every file (else the script fails).
"""
import json
import os
import sys

import onnx


def type_text(value_type):
    kind = value_type.WhichOneof("value")
    if kind == "tensor_type" or kind == "sparse_tensor_type":
        tensor = getattr(value_type, kind)
        name = onnx.TensorProto.DataType.Name(tensor.elem_type) if tensor.elem_type in onnx.TensorProto.DataType.values() else "UNDEFINED(%d)" % tensor.elem_type
        dims = []
        for dim in tensor.shape.dim:
            which = dim.WhichOneof("value")
            dims.append(str(dim.dim_value) if which == "dim_value" else dim.dim_param if which == "dim_param" else "?")
        return ("sparse " if kind == "sparse_tensor_type" else "") + name, dims
    return {"sequence_type": "sequence", "map_type": "map", "optional_type": "optional"}.get(kind, "?"), []


def facts(path):
    model = onnx.load(path, load_external_data=False)
    def values(items):
        result = []
        for item in items:
            kind, dims = type_text(item.type)
            result.append("%s: %s[%s]" % (item.name, kind, ",".join(dims)))
        return result
    parameters = 0
    for tensor in model.graph.initializer:
        count = 1
        for dim in tensor.dims:
            count *= dim
        parameters += count
    return {
        "ir_version": model.ir_version,
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "producer_name": model.producer_name,
        "producer_version": model.producer_version,
        "inputs": values(model.graph.input),
        "outputs": values(model.graph.output),
        "node_count": len(model.graph.node),
        "initializer_count": len(model.graph.initializer),
        "parameter_count": parameters,
        "metadata": {p.key: p.value for p in model.metadata_props},
    }


def main(args):
    check = "--check" in args
    paths = []
    for arg in (a for a in args if a != "--check"):
        if os.path.isdir(arg):
            for root, _, files in os.walk(arg):
                paths.extend(os.path.join(root, f) for f in files if f.endswith(".onnx"))
        else:
            paths.append(arg)
    result = {}
    for path in sorted(paths):
        if check:
            onnx.checker.check_model(path)
        try:
            result[path] = facts(path)
        except Exception as error:  # onnx cannot load it: the C# reader must still not crash on it
            result[path] = {"load_error": str(error)}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
