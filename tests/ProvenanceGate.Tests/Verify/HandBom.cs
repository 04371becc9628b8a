using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Verify;

/// <summary>
/// A hand-written CycloneDX 1.6 ML-BOM over a synthetic model directory, for testing checks one by one without the
/// generator. Shaped like the generator's output: model component with file sub-components, pedigree, approvals.
/// </summary>
internal sealed class HandBom
{
    public HandBom(string modelDirectory)
    {
        ModelDirectory = modelDirectory;
        Model = new JsonObject
        {
            ["type"] = "machine-learning-model",
            ["bom-ref"] = "pkg:huggingface/acme/tiny-ft@1.0.0",
            ["group"] = "acme",
            ["name"] = "tiny-ft",
            ["version"] = "1.0.0",
            ["supplier"] = new JsonObject { ["name"] = "Acme" },
            ["licenses"] = new JsonArray(new JsonObject { ["license"] = new JsonObject { ["id"] = "Apache-2.0" } }),
            ["purl"] = "pkg:huggingface/acme/tiny-ft@1.0.0",
            ["modelCard"] = new JsonObject { ["modelParameters"] = new JsonObject { ["task"] = "text-generation" } },
            ["components"] = new JsonArray(),
            ["properties"] = new JsonArray(),
        };
        Root = new JsonObject
        {
            ["bomFormat"] = "CycloneDX",
            ["specVersion"] = "1.6",
            ["serialNumber"] = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            ["version"] = 1,
            ["metadata"] = new JsonObject { ["timestamp"] = "2026-11-01T00:00:00Z" },
            ["components"] = new JsonArray(Model),
        };
        foreach (var file in Directory.EnumerateFiles(modelDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            AddFile(Path.GetRelativePath(modelDirectory, file).Replace('\\', '/'));
    }

    public string ModelDirectory { get; }

    public JsonObject Root { get; }

    public JsonObject Model { get; }

    public static string CreateModel(string directory, int seed = 1)
    {
        var spec = new SyntheticModelSpec { Seed = seed, VocabSize = 64, HiddenSize = 16, IntermediateSize = 32, Layers = 1, AttentionHeads = 2, KeyValueHeads = 1 };
        SyntheticModel.WriteDirectory(directory, spec, SyntheticModel.CreateTensors(spec));
        return directory;
    }

    public HandBom AddFile(string relativePath, string? sha256 = null)
    {
        sha256 ??= Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(ModelDirectory, relativePath))));
        ((JsonArray)Model["components"]!).Add(new JsonObject
        {
            ["type"] = "file",
            ["bom-ref"] = "pkg:huggingface/acme/tiny-ft@1.0.0#file:" + relativePath,
            ["name"] = relativePath,
            ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = sha256 }),
        });
        return this;
    }

    public HandBom Ancestor(string id, string? licenseId = null, string? licenseName = null)
    {
        var slash = id.LastIndexOf('/');
        var ancestor = new JsonObject { ["type"] = "machine-learning-model", ["bom-ref"] = "model:" + id, ["group"] = id[..Math.Max(0, slash)], ["name"] = id[(slash + 1)..] };
        if (licenseId is not null)
            ancestor["licenses"] = new JsonArray(new JsonObject { ["license"] = new JsonObject { ["id"] = licenseId } });
        if (licenseName is not null)
            ancestor["licenses"] = new JsonArray(new JsonObject { ["license"] = new JsonObject { ["name"] = licenseName } });
        ancestor["properties"] = new JsonArray(new JsonObject { ["name"] = "provenancegate:lineage:id", ["value"] = id });
        Model["pedigree"] = new JsonObject { ["ancestors"] = new JsonArray(ancestor) };
        return this;
    }

    public HandBom Approval(string role, string date, string? reviewBy)
    {
        var properties = (JsonArray)Model["properties"]!;
        var n = properties.Count(p => p?["name"]?.GetValue<string>().EndsWith(":approver", StringComparison.Ordinal) == true) + 1;
        properties.Add(new JsonObject { ["name"] = $"provenancegate:approval:{n}:approver", ["value"] = "jane@example.com" });
        properties.Add(new JsonObject { ["name"] = $"provenancegate:approval:{n}:role", ["value"] = role });
        properties.Add(new JsonObject { ["name"] = $"provenancegate:approval:{n}:date", ["value"] = date });
        if (reviewBy is not null)
            properties.Add(new JsonObject { ["name"] = $"provenancegate:approval:{n}:review-by", ["value"] = reviewBy });
        return this;
    }

    public string Write(string path)
    {
        File.WriteAllText(path, Root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}
