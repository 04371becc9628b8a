using ProvenanceGate.Bom;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Verify;

/// <summary>
/// A BOM with two fine-tunes, each in its own directory, made by the real BOM builder: acme/chat-a of the fixture's
/// acme/tiny-base and acme/chat-b of its acme/other-base. Both use the same synthetic layout (same file names, same config.json), so telling
/// their directories apart takes the weight hashes.
/// </summary>
internal static class TwoModelBom
{
    /// <param name="declarationsInModelDirectories">Each declaration is the model directory's provenance.yaml (the MSBuild default).</param>
    public static (string Bom, string A, string B) Write(TempDirectory temp, TamperFixture fixture, bool declarationsInModelDirectories)
    {
        var a = WriteModel(temp.Combine("a"), fixture.BaseTensors, seed: 5);
        var b = WriteModel(temp.Combine("b"), SyntheticModel.CreateTensors(TamperFixture.Spec(seed: 97)), seed: 6);
        var declarationA = declarationsInModelDirectories ? Path.Combine(a, "provenance.yaml") : temp.Combine("a.yaml");
        var declarationB = declarationsInModelDirectories ? Path.Combine(b, "provenance.yaml") : temp.Combine("b.yaml");
        File.WriteAllText(declarationA, Declaration("acme/chat-a", "acme/tiny-base"));
        File.WriteAllText(declarationB, Declaration("acme/chat-b", "acme/other-base"));
        var builder = new AiBomBuilder();
        builder.AddModel(a, new ModelOptions { DeclarationPath = declarationA });
        builder.AddModel(b, new ModelOptions { DeclarationPath = declarationB });
        var bom = temp.Combine("app.cdx.json");
        File.WriteAllText(bom, builder.Build("2026-11-01T00:00:00Z"));
        return (bom, a, b);
    }

    public static void FlipOneByte(string file)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[^5] ^= 0x40;
        File.WriteAllBytes(file, bytes);
    }

    private static string Declaration(string id, string baseId) =>
        TamperFixture.Declaration.Replace("acme/tiny-chat", id, StringComparison.Ordinal).Replace("acme/tiny-base", baseId, StringComparison.Ordinal);

    private static string WriteModel(string directory, IReadOnlyList<Formats.Safetensors.NamedTensor> tensors, int seed)
    {
        var random = new Random(seed);
        var tuned = tensors.Select(t => t with { Values = t.Values.Select(v => v + (float)((random.NextDouble() - 0.5) * 0.004)).ToArray() }).ToList();
        SyntheticModel.WriteDirectory(directory, TamperFixture.Spec(seed: 11), tuned, shards: 2);
        return directory;
    }
}
