using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>How one initializer is presented to the fingerprint: a Hugging Face-style name, and whether it is stored [in, out].</summary>
internal sealed record OnnxWeightRole(string Name, bool Transposed);

/// <summary>
/// Finds what each weight initializer is from the graph, not from its name: exporters rename weights
/// (torch.onnx.export folds a Linear's transposed weight into an anonymous <c>onnx::MatMul_123</c>).
/// The node that consumes a weight says its orientation (MatMul reads [in, out]; Gemm with transB, or a MatMul fed
/// through Transpose, reads [out, in]); the embedding is the table a Gather looks up; and the linear layers, taken in
/// graph order and grouped by the activation they read, form the chain of a transformer block: attention inputs
/// (q, k, v or fused qkv), attention output, MLP inputs (gate, up or fused), MLP output, then the next layer.
/// </summary>
internal static class OnnxGraphRoles
{
    private sealed record Linear(string Initializer, int Node, string Input, long In, long Out, bool Transposed);

    public static Dictionary<string, OnnxWeightRole> Resolve(OnnxModel model)
    {
        var initializers = model.Initializers.Where(i => i.Dims.Count == 2 && OnnxTypes.ToDType(i.DataType) is not null)
            .GroupBy(i => i.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<(int Node, int Input)>>(StringComparer.Ordinal);
        for (var n = 0; n < model.Nodes.Count; n++)
        {
            for (var i = 0; i < model.Nodes[n].Inputs.Count; i++)
            {
                var input = model.Nodes[n].Inputs[i];
                if (!initializers.ContainsKey(input))
                    continue;
                if (!consumers.TryGetValue(input, out var list))
                    consumers[input] = list = [];
                list.Add((n, i));
            }
        }

        var roles = new Dictionary<string, OnnxWeightRole>(StringComparer.Ordinal);
        var linears = new List<Linear>();
        OnnxInitializer? embedding = null;
        foreach (var (name, uses) in consumers)
        {
            var tensor = initializers[name];
            // A weight shared by several nodes (a tied embedding that is also the LM head) is judged by its first use.
            var (nodeIndex, input) = uses[0];
            var node = model.Nodes[nodeIndex];
            switch (node.OpType)
            {
                case "Gather" when input == 0:
                    if (embedding is null || tensor.Dims[0] > embedding.Dims[0])
                        embedding = tensor;
                    break;
                case "MatMul" when input == 1:
                    linears.Add(new Linear(name, nodeIndex, node.Inputs[0], tensor.Dims[0], tensor.Dims[1], Transposed: true));
                    break;
                case "Gemm" when input == 1:
                    linears.Add(node.TransB != 0
                        ? new Linear(name, nodeIndex, node.Inputs[0], tensor.Dims[1], tensor.Dims[0], Transposed: false)
                        : new Linear(name, nodeIndex, node.Inputs[0], tensor.Dims[0], tensor.Dims[1], Transposed: true));
                    break;
                case "Transpose" when input == 0 && node.Perm is [] or [1, 0] && node.Outputs.Count == 1
                    && FirstConsumer(model, node.Outputs[0], nodeIndex) is { } matMul && model.Nodes[matMul].OpType == "MatMul" && model.Nodes[matMul].Inputs[1] == node.Outputs[0]:
                    linears.Add(new Linear(name, matMul, model.Nodes[matMul].Inputs[0], tensor.Dims[1], tensor.Dims[0], Transposed: false));
                    break;
            }
        }

        foreach (var linear in linears)
            roles[linear.Initializer] = new OnnxWeightRole(linear.Initializer, linear.Transposed);
        if (embedding is null)
            return roles;
        if (IsAnonymous(embedding.Name))
            roles[embedding.Name] = new OnnxWeightRole("model.embed_tokens.weight", false);

        var width = embedding.Dims[1];
        var vocabulary = embedding.Dims[0];
        linears.Sort((a, b) => a.Node.CompareTo(b.Node));
        if (linears.Count > 0 && linears[^1] is { Out: var vocabOut, In: var vocabIn } head && vocabOut == vocabulary && vocabIn == width)
        {
            linears.RemoveAt(linears.Count - 1);
            Name(roles, head, "lm_head.weight");
        }

        NameLayers(roles, linears, width);
        return roles;
    }

    /// <summary>Names the layer chain when the linears form whole transformer blocks of the residual width; otherwise leaves them.</summary>
    private static void NameLayers(Dictionary<string, OnnxWeightRole> roles, List<Linear> linears, long width)
    {
        // Consecutive linears that read the same activation are one step (q, k and v read the same normed input).
        var steps = new List<List<Linear>>();
        foreach (var linear in linears)
        {
            if (steps.Count > 0 && steps[^1][0].Input == linear.Input)
                steps[^1].Add(linear);
            else
                steps.Add([linear]);
        }

        if (steps.Count == 0 || steps.Count % 4 != 0)
            return;
        for (var layer = 0; layer < steps.Count / 4; layer++)
        {
            var (attentionIn, attentionOut, mlpIn, mlpOut) = (steps[layer * 4], steps[(layer * 4) + 1], steps[(layer * 4) + 2], steps[(layer * 4) + 3]);
            var isBlock = attentionIn.All(l => l.In == width) && attentionIn.Count is 1 or 3
                && attentionOut is [{ Out: var attentionWidth }] && attentionWidth == width
                && mlpIn.All(l => l.In == width) && mlpIn.Count is 1 or 2
                && mlpOut is [{ Out: var mlpWidth }] && mlpWidth == width;
            if (!isBlock)
                return;
        }

        for (var layer = 0; layer < steps.Count / 4; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            var (attentionIn, attentionOut, mlpIn, mlpOut) = (steps[layer * 4], steps[(layer * 4) + 1], steps[(layer * 4) + 2], steps[(layer * 4) + 3]);
            if (attentionIn.Count == 3)
            {
                Name(roles, attentionIn[0], prefix + "self_attn.q_proj.weight");
                Name(roles, attentionIn[1], prefix + "self_attn.k_proj.weight");
                Name(roles, attentionIn[2], prefix + "self_attn.v_proj.weight");
            }
            else
            {
                Name(roles, attentionIn[0], prefix + "self_attn.qkv_proj.weight");
            }

            Name(roles, attentionOut[0], prefix + "self_attn.o_proj.weight");
            if (mlpIn.Count == 2)
            {
                Name(roles, mlpIn[0], prefix + "mlp.gate_proj.weight");
                Name(roles, mlpIn[1], prefix + "mlp.up_proj.weight");
            }
            else
            {
                // One MLP input twice as wide as the output's input is a fused gate and up projection.
                Name(roles, mlpIn[0], prefix + (mlpIn[0].Out == 2 * mlpOut[0].In ? "mlp.gate_up_proj.weight" : "mlp.up_proj.weight"));
            }

            Name(roles, mlpOut[0], prefix + "mlp.down_proj.weight");
        }
    }

    /// <summary>Gives an anonymous initializer its graph-derived name; a name that already says its role is kept.</summary>
    private static void Name(Dictionary<string, OnnxWeightRole> roles, Linear linear, string name)
    {
        if (IsAnonymous(linear.Initializer))
            roles[linear.Initializer] = new OnnxWeightRole(name, linear.Transposed);
    }

    private static bool IsAnonymous(string name) => TensorRoles.Resolve(name) is { Role: TensorRole.Other, Layer: null };

    private static int? FirstConsumer(OnnxModel model, string value, int after)
    {
        for (var n = after + 1; n < model.Nodes.Count; n++)
        {
            if (model.Nodes[n].Inputs.Contains(value, StringComparer.Ordinal))
                return n;
        }

        return null;
    }
}
