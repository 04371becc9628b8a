using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// The residual-stream evasions of issue 11, generated deterministically from the committed dev fixtures (so no
/// extra binaries are committed): each variant directory holds the source's config and tokenizer files and new F32
/// weights. Built once per test run.
/// </summary>
public static class ResidualVariants
{
    private static readonly Lazy<TempDirectory> Root = new(() =>
    {
        var temp = new TempDirectory();
        var width = 112;
        Write(temp, "dev-residual-permuted", "dev-base", t => ResidualTransforms.PermuteResidual(t, ResidualTransforms.RandomPermutation(width, 131)));
        Write(temp, "dev-rotated", "dev-base", t => ResidualTransforms.FoldAndRotate(t, ResidualTransforms.RandomOrthogonal(width, 132), width));
        Write(temp, "dev-ft-rotated", "dev-ft", t => ResidualTransforms.FoldAndRotate(t, ResidualTransforms.RandomOrthogonal(width, 133), width));
        Write(temp, "dev-twin-rotated", "dev-twin", t => ResidualTransforms.FoldAndRotate(t, ResidualTransforms.RandomOrthogonal(width, 134), width));
        // One identical update (same seed, same size relative to each tensor) applied to two independent twins.
        Write(temp, "dev-base-same-update", "dev-base", t => SyntheticDerivatives.FineTune(t, seed: 135, relativeScale: 0.3));
        Write(temp, "dev-twin-same-update", "dev-twin", t => SyntheticDerivatives.FineTune(t, seed: 135, relativeScale: 0.3));
        return temp;
    });

    internal static void Dispose()
    {
        if (Root.IsValueCreated)
            Root.Value.Dispose();
    }

    /// <summary>Variant name → the committed model it was made from.</summary>
    public static IReadOnlyDictionary<string, string> Sources { get; } = new Dictionary<string, string>
    {
        ["dev-residual-permuted"] = "dev-base",
        ["dev-rotated"] = "dev-base",
        ["dev-ft-rotated"] = "dev-ft",
        ["dev-twin-rotated"] = "dev-twin",
        ["dev-base-same-update"] = "dev-base",
        ["dev-twin-same-update"] = "dev-twin",
    };

    /// <summary>The directory of a committed model or a generated variant.</summary>
    public static string Directory(string model) =>
        Sources.ContainsKey(model) ? Root.Value.Combine(model) : RepoPaths.TestData("trained", "models", model);

    private static void Write(TempDirectory temp, string name, string source, Func<List<NamedTensor>, List<NamedTensor>> transform)
    {
        var from = RepoPaths.TestData("trained", "models", source);
        var to = temp.Combine(name);
        System.IO.Directory.CreateDirectory(to);
        foreach (var file in System.IO.Directory.EnumerateFiles(from).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal) && !f.EndsWith("card.json", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        var tensors = transform(LlamaForward.LoadTensors(from));
        File.WriteAllBytes(Path.Combine(to, "model.safetensors"), SafetensorsWriter.Serialize(tensors, SafetensorsDType.F32));
    }
}

/// <summary>Removes the generated variants after the run.</summary>
[SetUpFixture]
public sealed class ResidualVariantsCleanup
{
    [OneTimeTearDown]
    public void Clean() => ResidualVariants.Dispose();
}
