namespace ProvenanceGate.NuGet;

/// <summary>
/// A package's licence as its .nuspec declares it. <see cref="Expression"/> is an SPDX expression kept whole
/// (AND/OR/WITH intact); otherwise <see cref="Name"/> and/or <see cref="Url"/> describe it.
/// </summary>
public sealed record NuGetLicense(string? Expression, string? Name, string? Url);

/// <summary>One resolved NuGet package of a project, as restore recorded it.</summary>
/// <param name="Sha512Hex">SHA-512 of the .nupkg file, lower-case hex (from its .nupkg.sha512 file, else the assets file's hash).</param>
/// <param name="Dependencies">Ids of the resolved packages this one depends on, in ordinal order.</param>
/// <param name="IsDirect">Referenced by the project itself rather than through another package.</param>
/// <param name="IsDevelopmentDependency">Reachable only through PrivateAssets="all" references, so it never ships with the app.</param>
public sealed record NuGetPackage(
    string Id,
    string Version,
    string Sha512Hex,
    NuGetLicense? License,
    IReadOnlyList<string> Dependencies,
    bool IsDirect,
    bool IsDevelopmentDependency)
{
    /// <summary>The package URL (purl-spec "nuget" type): the id keeps its case, the version is the normalized one restore resolved.</summary>
    public string Purl => $"pkg:nuget/{Uri.EscapeDataString(Id)}@{Uri.EscapeDataString(Version)}";

    /// <summary>The extracted package in the packages folder, when restore left it there.</summary>
    public string? Directory { get; init; }

    /// <summary>The package's files as restore listed them ('/'-separated, relative to <see cref="Directory"/>).</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>What the package's <c>.signature.p7s</c> says; null when the package folder was not found.</summary>
    public NuGetSignatureInfo? Signature { get; init; }

    /// <summary>The purl of one file inside the package (purl subpath).</summary>
    public string FilePurl(string packagePath) =>
        Purl + "#" + string.Join('/', packagePath.Split('/').Select(Uri.EscapeDataString));
}

/// <summary>The packages one target framework of a project resolved to, in ordinal id order.</summary>
public sealed record NuGetDependencyGraph(string ProjectName, string? ProjectVersion, string TargetFramework, IReadOnlyList<NuGetPackage> Packages)
{
    public NuGetPackage? Find(string id) => Packages.FirstOrDefault(p => string.Equals(p.Id, id, StringComparison.OrdinalIgnoreCase));
}
