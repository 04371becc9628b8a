using Microsoft.Build.Framework;
using ProvenanceGate.NuGet;

namespace ProvenanceGate.Build;

/// <summary>
/// Writes the project's composite ML-BOM: the app, the NuGet packages it ships (from obj/project.assets.json), its
/// <c>ProvenanceModel</c> items and the dependency graph app -> model -> base model. The file is rewritten only when its
/// content changes, so incremental consumers (copy, pack) see a stable timestamp.
/// </summary>
public sealed class GenerateModelBom : Microsoft.Build.Utilities.Task
{
    /// <summary>The app component's name ($(AssemblyName)).</summary>
    [Required]
    public string ProjectName { get; set; } = "";

    /// <summary>The app component's version ($(Version)).</summary>
    public string? ProjectVersion { get; set; }

    /// <summary>Relative model paths and metadata files are resolved against it.</summary>
    [Required]
    public string ProjectDirectory { get; set; } = "";

    /// <summary>$(ProjectAssetsFile): the restore output listing the NuGet packages.</summary>
    [Required]
    public string ProjectAssetsFile { get; set; } = "";

    /// <summary>The framework whose packages are listed; empty for single-framework projects.</summary>
    public string? TargetFramework { get; set; }

    /// <summary>
    /// <c>@(ProvenanceModel)</c>: item spec = model directory; metadata Name, Version, BaseModel, License, Declaration
    /// (a provenance.yaml), BaseFingerprint (the base model's fingerprint from <c>dotnet provenance fingerprint</c>).
    /// </summary>
    public ITaskItem[] Models { get; set; } = [];

    /// <summary>$(OutDir): model files found there by content that no item declares are listed as undeclared models.</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>$(ProvenanceGateTrustedKeys): a model package's own ML-BOM counts only when signed with one of these.</summary>
    public string[] TrustedKeys { get; set; } = [];

    /// <summary>CycloneDX spec version of the output (default 1.6).</summary>
    public string? SpecVersion { get; set; }

    [Required]
    public string BomPath { get; set; } = "";

    /// <summary>False when the BOM already on disk had the same content; the signature can then be kept.</summary>
    [Output]
    public bool BomChanged { get; set; }

    public override bool Execute() => TaskDiagnostics.Run(Log, () =>
    {
        // The items are checked first: a wrong model path is the error to report even before a restore.
        NuGetDependencyGraph? restored = null;
        NuGetDependencyGraph Packages() => restored ??= NuGetAssetsReader.Read(ProjectAssetsFile, TargetFramework);
        var models = ModelItem.FromItems(Models, ProjectDirectory, Packages);
        var packages = Packages();
        Log.LogMessage(MessageImportance.Low, $"ProvenanceGate: {packages.Packages.Count} NuGet packages for '{packages.TargetFramework}', {models.Count} models");
        var (json, warnings) = BomComposer.Compose(ProjectName, ProjectVersion, packages, models, SpecVersion,
            string.IsNullOrEmpty(OutputDirectory) ? null : Path.GetFullPath(OutputDirectory, ProjectDirectory),
            Signing.PublicKeyLoader.LoadAll(TrustedKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => KeyPaths.Resolve(k.Trim(), ProjectDirectory))));
        foreach (var warning in warnings)
            TaskDiagnostics.Log(Log, warning);
        BomChanged = IO.AtomicFile.WriteAllTextIfChanged(BomPath, json);
        Log.LogMessage(BomChanged ? MessageImportance.High : MessageImportance.Normal, BomChanged ? $"ProvenanceGate: wrote {BomPath}" : $"ProvenanceGate: {BomPath} is unchanged");
    });
}
