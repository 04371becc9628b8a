using ProvenanceGate.Bom;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Discovery;
using ProvenanceGate.NuGet;

namespace ProvenanceGate.Build;

/// <summary>Maps the project's packages and model items onto Core's <see cref="AiBomBuilder"/>.</summary>
internal static class BomComposer
{
    /// <param name="outputDirectory">The build's output folder: model files found there that no item declares are listed as undeclared.</param>
    /// <param name="trustedKeys">Keys a model package's own ML-BOM must be signed with for its models to count as declared.</param>
    public static (string Json, IReadOnlyList<Diagnostic> Warnings) Compose(
        string projectName, string? projectVersion, NuGetDependencyGraph packages, IReadOnlyList<ModelItem> models, string? specVersion,
        string? outputDirectory = null, IReadOnlyList<Signing.TrustedKey>? trustedKeys = null)
    {
        var builder = string.IsNullOrEmpty(specVersion) ? new AiBomBuilder() : new AiBomBuilder(specVersion);
        builder.WithApplication(new ApplicationComponent(projectName, string.IsNullOrEmpty(projectVersion) ? null : projectVersion));

        // Packages reachable only through PrivateAssets="all" (analyzers, build tools such as this one) do not ship with the app.
        var shipped = packages.Packages.Where(p => !p.IsDevelopmentDependency).ToList();
        foreach (var package in shipped)
        {
            builder.AddLibrary(new LibraryComponent(package.Id, package.Version)
            {
                Purl = package.Purl,
                Sha512Base64 = Convert.ToBase64String(Convert.FromHexString(package.Sha512Hex)),
                License = package.License?.Expression,
                LicenseName = package.License?.Name,
                LicenseUrl = package.License?.Url,
                IsDirect = package.IsDirect,
                DependsOn = package.Dependencies.Select(id => packages.Find(id)).OfType<NuGetPackage>().Select(p => p.Purl).ToArray(),
                Properties = SignatureProperties(package),
            });
        }

        var warnings = new List<Diagnostic>();
        foreach (var model in models)
        {
            var part = builder.AddModel(model.Directory, new ModelOptions
            {
                Name = model.Name,
                Version = model.Version,
                BaseModel = model.BaseModel,
                License = model.License,
                DeclarationPath = model.Declaration,
            });
            warnings.AddRange(part.Warnings);
        }

        var (packaged, untrusted) = PackagedModelBoms.Find(packages, trustedKeys ?? []);
        warnings.AddRange(untrusted);
        foreach (var model in packaged)
            builder.AddModel(model.Part);

        if (outputDirectory is not null && Directory.Exists(outputDirectory))
        {
            var declared = builder.Models.SelectMany(m => FileHashes(m.Component)).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var file in ShippedModelScanner.Scan(outputDirectory, packages))
            {
                if (!declared.Contains(file.Sha256))
                    builder.AddUndeclaredModel(new ShippedModelComponent(file) { PackageRef = file.Origin.Package?.Purl });
            }
        }

        return (AiBomBuilder.Serialize(builder.BuildDocument()), warnings);
    }

    private static IEnumerable<string> FileHashes(JsonObject model) =>
        model["components"] is JsonArray files
            ? files.OfType<JsonObject>().Select(f => f["hashes"] is JsonArray hashes
                ? hashes.OfType<JsonObject>().Where(h => h["alg"]?.GetValue<string>() == "SHA-256").Select(h => h["content"]?.GetValue<string>()).FirstOrDefault()
                : null).OfType<string>()
            : [];

    /// <summary>NuGet's own evidence for the package: whether it is signed, by whom (certificate SHA-256) and when.</summary>
    private static (string Name, string Value)[] SignatureProperties(NuGetPackage package)
    {
        if (package.Signature is not { } signature)
            return [];
        var properties = new List<(string, string)> { ("provenancegate:nuget:signed", signature.IsSigned ? "true" : "false") };
        foreach (var signer in signature.Signers)
        {
            properties.Add(($"provenancegate:nuget:signature:{signer.Kind}:certificate-sha256", signer.CertificateSha256));
            properties.Add(($"provenancegate:nuget:signature:{signer.Kind}:subject", signer.Subject));
            if (signer.Timestamp is { } timestamp)
                properties.Add(($"provenancegate:nuget:signature:{signer.Kind}:timestamp", timestamp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)));
        }

        return properties.ToArray();
    }
}
