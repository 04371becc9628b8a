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
                LicenseName = package.License?.Name,
                LicenseUrl = package.License?.Url,
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

        return (AiBomBuilder.Serialize(builder.BuildDocument()), warnings);
    }
}
