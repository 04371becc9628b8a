using ProvenanceGate.NuGet;

namespace ProvenanceGate.Build;

/// <summary>Maps the project's packages and model items onto the BOM builder of Core.</summary>
internal static class BomComposer
{
    // TEMPORARY until ProvenanceGate.Bom.AiBomBuilder lands on main (integration in progress).
    public static string Compose(string projectName, string? projectVersion, NuGetDependencyGraph packages, IReadOnlyList<ModelItem> models, string? specVersion) =>
        throw Diagnostics.Diagnostics.InternalError.Exception(
            $"BOM composition for '{projectName}' {projectVersion} ({packages.Packages.Count} packages, {models.Count} models, CycloneDX {specVersion}) is not wired yet");
}
