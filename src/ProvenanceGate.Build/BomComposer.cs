using System.Text.Json.Nodes;
using ProvenanceGate.Bom;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.NuGet;

namespace ProvenanceGate.Build;

/// <summary>Maps the project's packages and model items onto Core's <see cref="AiBomBuilder"/>.</summary>
internal static class BomComposer
{
    public static (string Json, IReadOnlyList<Diagnostic> Warnings) Compose(
        string projectName, string? projectVersion, NuGetDependencyGraph packages, IReadOnlyList<ModelItem> models, string? specVersion)
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
                IsDirect = package.IsDirect,
                DependsOn = package.Dependencies.Select(id => packages.Find(id)).OfType<NuGetPackage>().Select(p => p.Purl).ToArray(),
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

        var bom = builder.BuildDocument();
        if (AddLicenseUrls(bom, shipped))
            bom = AiBomBuilder.WithSerialNumber(bom);
        return (AiBomBuilder.Serialize(bom), warnings);
    }

    /// <summary>
    /// Packages without a licence expression often name their licence only by URL (or by a file in the package); the
    /// builder takes SPDX expressions, so those licences are added here as CycloneDX name + url.
    /// </summary>
    private static bool AddLicenseUrls(JsonObject bom, IReadOnlyList<NuGetPackage> packages)
    {
        var byPurl = packages.Where(p => p.License is { Expression: null }).ToDictionary(p => p.Purl, p => p.License!, StringComparer.Ordinal);
        if (byPurl.Count == 0 || bom["components"] is not JsonArray components)
            return false;
        var changed = false;
        foreach (var component in components.OfType<JsonObject>())
        {
            if (component["purl"]?.GetValue<string>() is { } purl && byPurl.TryGetValue(purl, out var license)
                && ModelBomGenerator.LicenseChoice(null, license.Name, license.Url) is { } choice)
            {
                component["licenses"] = choice;
                changed = true;
            }
        }

        return changed;
    }
}
