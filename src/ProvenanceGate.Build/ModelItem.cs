using Microsoft.Build.Framework;
using ProvenanceGate.NuGet;

namespace ProvenanceGate.Build;

/// <summary>
/// One <c>&lt;ProvenanceModel Include="models/my-model" Name=".." Version=".." BaseModel=".." License=".." Declaration=".." BaseFingerprint=".." /&gt;</c>
/// item, with its paths made absolute against the project directory. Empty metadata means "take it from the model directory".
/// </summary>
internal sealed record ModelItem(
    string Directory,
    string? Name,
    string? Version,
    string? BaseModel,
    string? License,
    string? Declaration,
    string? BaseFingerprint)
{
    public const string DefaultDeclarationFileName = "provenance.yaml";

    /// <param name="packages">The project's packages, read only when an item has <c>Package="Id"</c> metadata (a folder inside that package).</param>
    public static IReadOnlyList<ModelItem> FromItems(IEnumerable<ITaskItem> items, string projectDirectory, Func<NuGetDependencyGraph>? packages = null)
    {
        var models = new List<ModelItem>();
        foreach (var item in items)
        {
            var directory = Path.GetFullPath(item.ItemSpec, PackageRoot(item, packages) ?? projectDirectory);
            if (!System.IO.Directory.Exists(directory))
                throw Diagnostics.Diagnostics.ModelItemInvalid.Exception(
                    $"ProvenanceModel '{item.ItemSpec}': the model directory '{directory}' does not exist", directory);

            directory = directory.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            var model = new ModelItem(
                directory,
                Metadata(item, "Name"),
                Metadata(item, "Version"),
                Metadata(item, "BaseModel"),
                Metadata(item, "License"),
                ExistingFile(item, "Declaration", projectDirectory) ?? DefaultDeclaration(directory),
                ExistingFile(item, "BaseFingerprint", projectDirectory));
            if (models.Any(m => string.Equals(m.Directory, model.Directory, StringComparison.Ordinal)))
                throw Diagnostics.Diagnostics.ModelItemInvalid.Exception($"ProvenanceModel '{item.ItemSpec}' is declared twice", directory);
            models.Add(model);
        }

        return models;
    }

    /// <summary>The extracted package an item's <c>Package</c> metadata names, or null for an item of the project's own.</summary>
    private static string? PackageRoot(ITaskItem item, Func<NuGetDependencyGraph>? packages)
    {
        if (Metadata(item, "Package") is not { } id)
            return null;
        var package = packages?.Invoke().Find(id)
            ?? throw Diagnostics.Diagnostics.ModelPackageNotFound.Exception($"ProvenanceModel '{item.ItemSpec}': package '{id}' is not among the project's restored packages");
        return package.Directory
            ?? throw Diagnostics.Diagnostics.ModelPackageNotFound.Exception($"ProvenanceModel '{item.ItemSpec}': package '{id}' {package.Version} is not in the packages folder (restore first)");
    }

    /// <summary>Without Declaration metadata, the model directory's own provenance.yaml (the usual place) is read.</summary>
    private static string? DefaultDeclaration(string directory)
    {
        var path = Path.Combine(directory, DefaultDeclarationFileName);
        return File.Exists(path) ? path : null;
    }

    private static string? Metadata(ITaskItem item, string name) =>
        item.GetMetadata(name) is { Length: > 0 } value ? value.Trim() : null;

    private static string? ExistingFile(ITaskItem item, string name, string projectDirectory)
    {
        if (Metadata(item, name) is not { } value)
            return null;
        var path = Path.GetFullPath(value, projectDirectory);
        if (!File.Exists(path))
            throw Diagnostics.Diagnostics.ModelItemInvalid.Exception($"ProvenanceModel '{item.ItemSpec}': {name} file '{path}' does not exist", path);
        return path;
    }
}
