using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Bom;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.NuGet;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Discovery;

/// <summary>A model declared by the signed ML-BOM its package carries, ready to nest in the app's AI-BOM.</summary>
/// <param name="FileHashes">SHA-256 of every file the package's BOM lists for the model: what the app may ship as it.</param>
public sealed record PackagedModel(NuGetPackage Package, string BomPath, ModelBomPart Part, IReadOnlySet<string> FileHashes);

/// <summary>
/// Provenance that travels in packages. A <em>model package</em> is a NuGet package that ships a model together with
/// the signed ML-BOM its own build wrote (ProvenanceGate.Build packs it as <c>provenance/&lt;tfm&gt;/&lt;name&gt;.cdx.json</c>
/// with <c>.sig</c> beside it). A consuming build accepts the models of that BOM as declared only when the signature
/// verifies with one of the consumer's own trusted keys; the files it then ships are matched to the BOM by SHA-256, so a
/// model file swapped in the package is no longer declared.
/// </summary>
public static class PackagedModelBoms
{
    public const string BomFolder = "provenance/";

    /// <summary>A package's BOM is read whole; this bounds what a package can make the build read.</summary>
    public const long MaxBomBytes = 64L << 20;

    public static (IReadOnlyList<PackagedModel> Models, IReadOnlyList<Diagnostic> Warnings) Find(NuGetDependencyGraph packages, IReadOnlyList<TrustedKey> trustedKeys)
    {
        var models = new List<PackagedModel>();
        var warnings = new List<Diagnostic>();
        foreach (var package in packages.Packages.Where(p => p.Directory is not null && !p.IsDevelopmentDependency))
        {
            foreach (var relative in package.Files.Where(f => f.StartsWith(BomFolder, StringComparison.OrdinalIgnoreCase) && f.EndsWith(".cdx.json", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
            {
                var bomPath = Path.Combine(package.Directory!, relative);
                var signaturePath = bomPath + ".sig";
                if (!File.Exists(bomPath) || new FileInfo(bomPath).Length > MaxBomBytes)
                    continue;
                if (!File.Exists(signaturePath) || trustedKeys.Count == 0)
                {
                    warnings.Add(Untrusted(package, relative, File.Exists(signaturePath) ? "no trusted keys are configured (ProvenanceGateTrustedKeys)" : "it has no .sig beside it"));
                    continue;
                }

                var verification = SignatureVerifier.VerifyBlob(bomPath, trustedKeys, signaturePath, null);
                if (!verification.Verified)
                {
                    warnings.Add(Untrusted(package, relative, "its signature does not verify with a trusted key"));
                    continue;
                }

                models.AddRange(ModelsOf(package, bomPath));
            }
        }

        return (models, warnings);
    }

    private static Diagnostic Untrusted(NuGetPackage package, string relative, string reason) =>
        Diagnostics.Diagnostics.PackageBomUntrusted.Warning(
            $"package {package.Id} {package.Version} carries an ML-BOM ({relative}) that is not used because {reason}: its models count as undeclared");

    /// <summary>The declared models of a package's BOM, each with the data components and edges it refers to.</summary>
    private static IEnumerable<PackagedModel> ModelsOf(NuGetPackage package, string bomPath)
    {
        JsonObject bom;
        try
        {
            bom = JsonNode.Parse(IO.InputFile.ReadAllBytes(bomPath, IO.InputLimit.Bom), documentOptions: new JsonDocumentOptions { MaxDepth = 256, AllowDuplicateProperties = false }) as JsonObject
                ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException ex)
        {
            throw Diagnostics.Diagnostics.GateBomUnreadable.Exception($"package {package.Id} {package.Version}: '{bomPath}' is not valid JSON: {ex.Message}", bomPath);
        }

        var components = (bom["components"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var data = components.Where(c => Text(c["type"]) == "data").ToList();
        var edges = (bom["dependencies"] as JsonArray)?.OfType<JsonObject>()
            .Where(d => Text(d["ref"]) is not null)
            .ToDictionary(d => Text(d["ref"])!, d => (IReadOnlyList<string>)((d["dependsOn"] as JsonArray)?.Select(Text).OfType<string>().ToArray() ?? []), StringComparer.Ordinal)
            ?? [];
        foreach (var model in components.Where(c => Text(c["type"]) == "machine-learning-model" && Verification.BomDocument.PropertyValue(c, "provenancegate:declared") != "false"))
        {
            if (Text(model["bom-ref"]) is not { } modelRef)
                continue;
            var component = (JsonObject)model.DeepClone();
            var properties = component["properties"] as JsonArray ?? [];
            component["properties"] = properties;
            properties.Add(ModelBomGenerator.Property("provenancegate:nuget:package", package.Purl));
            properties.Add(ModelBomGenerator.Property("provenancegate:declared-by", "package-bom:" + Path.GetFileName(bomPath)));

            var dependencies = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [package.Purl] = [modelRef] };
            if (edges.TryGetValue(modelRef, out var dependsOn))
            {
                dependencies[modelRef] = dependsOn;
                foreach (var target in dependsOn.Where(edges.ContainsKey))
                    dependencies[target] = edges[target];
            }

            var referenced = dependencies.Values.SelectMany(v => v).ToHashSet(StringComparer.Ordinal);
            var part = new ModelBomPart(modelRef, component, data.Where(d => referenced.Contains(Text(d["bom-ref"]) ?? "")).ToList(), dependencies, null, []);
            var hashes = (component["components"] as JsonArray)?.OfType<JsonObject>()
                .Select(file => (file["hashes"] as JsonArray)?.OfType<JsonObject>().Where(h => Text(h["alg"]) == "SHA-256").Select(h => Text(h["content"])).FirstOrDefault())
                .OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase) ?? [];
            yield return new PackagedModel(package, bomPath, part, hashes);
        }
    }

    private static string? Text(JsonNode? node) => Verification.BomDocument.Text(node);
}
