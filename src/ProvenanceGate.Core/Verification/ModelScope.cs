using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Verification.Checks;

namespace ProvenanceGate.Verification;

/// <summary>
/// One model directory, or one model file, and what it is checked against: its machine-learning-model component (null
/// for a BOM without one), the listed files that belong in it, and its base fingerprints.
/// </summary>
internal sealed class ModelScope(BomComponent? model, ModelLocation location, string? baseFingerprints, IReadOnlyList<ListedFile> files, bool nameModel)
{
    public BomComponent? Model { get; } = model;

    /// <summary>The folder listed paths are relative to: the model directory, or a model file's folder. Messages name it as given.</summary>
    public string Directory { get; } = location.Directory;

    /// <summary>What --model-dir named (a directory or a model file): what is fingerprinted.</summary>
    public string ModelPath { get; } = location.Given;

    /// <summary>
    /// For a single model file, the paths (relative to <see cref="Directory"/>) that belong to it (<see cref="Fingerprinter.FilesOfModelFile"/>);
    /// the rest of its folder is not checked. Null for a model directory: every file in it belongs.
    /// </summary>
    public IReadOnlySet<string>? OwnPaths { get; } = location.OwnPaths;

    public string? BaseFingerprints { get; } = baseFingerprints;

    public IReadOnlyList<ListedFile> Files { get; } = files;

    /// <summary>Files the digest check found in the directory, relative with '/' separators; null until it ran.</summary>
    public IReadOnlyList<string>? PresentFiles { get; set; }

    /// <summary>" of model 'x'" where the BOM has several models, so every message says which one it is about.</summary>
    public string OfModel => nameModel && Model is not null ? $" of model '{Model.DisplayName}'" : "";

    /// <summary>
    /// Pairs every given directory with its model. One unnamed directory for a BOM with at most one model takes every
    /// listed file (the single-model case). Otherwise a named entry takes the model it names and an unnamed one the model
    /// whose listed files it holds: most relative paths present, then, on a tie, most SHA-256 matches. A directory that
    /// matches no model, or several equally, or a model given twice, is an input error (PG4004): guessing would check a
    /// model's files against another model's directory.
    /// </summary>
    public static List<ModelScope> Resolve(GateOptions options, BomDocument bom, Dictionary<string, string> sha256Cache)
    {
        var entries = new List<GateModelDirectory>();
        if (options.ModelDirectory is { } single)
            entries.Add(new GateModelDirectory(single));
        entries.AddRange(options.ModelDirectories);
        var locations = new Dictionary<GateModelDirectory, ModelLocation>(ReferenceEqualityComparer.Instance);
        foreach (var entry in entries)
        {
            locations[entry] = ModelLocation.Of(entry.Directory);
            if (entry.BaseFingerprints is { } path && !System.IO.Directory.Exists(path) && !File.Exists(path))
                throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"base fingerprints '{path}' do not exist", path);
        }

        var listed = DigestCheck.ListedFiles(bom).ToList();
        var models = bom.Models.ToList();
        if (entries.Count == 0)
            return [];
        if (entries is [{ Model: null } only] && models.Count <= 1)
        {
            var location = locations[only];
            return [new ModelScope(models.SingleOrDefault(), location, only.BaseFingerprints ?? options.BaseFingerprintsDirectory, listed.Where(location.Holds).ToList(), nameModel: false)];
        }

        var assigned = new Dictionary<GateModelDirectory, BomComponent>(ReferenceEqualityComparer.Instance);
        foreach (var entry in entries.Where(e => e.Model is not null))
        {
            var matches = models.Where(m => Names(m).Contains(entry.Model!, StringComparer.Ordinal)).ToList();
            if (matches.Count != 1)
                throw Diagnostics.Diagnostics.GateModelDirectoryUnmatched.Exception(
                    $"model directory '{entry.Directory}' is given for '{entry.Model}', but {(matches.Count == 0 ? "no" : matches.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} machine-learning-model component(s) of the BOM go by that bom-ref or name",
                    bom.Path);
            Assign(entry, matches[0]);
        }

        foreach (var entry in entries.Where(e => e.Model is null))
            Assign(entry, MatchByContent(locations[entry], models.Where(m => !assigned.ContainsValue(m)).ToList(), listed, bom, sha256Cache));

        return entries.Select(e =>
        {
            var model = assigned[e];
            var files = listed.Where(f => ReferenceEquals(f.Component.OwningModel?.Node, model.Node) && locations[e].Holds(f)).ToList();
            return new ModelScope(model, locations[e], e.BaseFingerprints ?? options.BaseFingerprintsDirectory, files, nameModel: models.Count > 1);
        }).ToList();

        void Assign(GateModelDirectory entry, BomComponent model)
        {
            if (assigned.FirstOrDefault(a => ReferenceEquals(a.Value.Node, model.Node)).Key is { } other)
                throw Diagnostics.Diagnostics.GateModelDirectoryUnmatched.Exception(
                    $"model '{model.DisplayName}' is given two directories, '{other.Directory}' and '{entry.Directory}'", bom.Path);
            assigned[entry] = model;
        }
    }

    /// <summary>How a model directory entry may name its component (the same names policy exceptions take).</summary>
    private static IEnumerable<string> Names(BomComponent model) =>
        new[] { model.BomRef, model.Name, model.DisplayName, BomDocument.ModelName(model.Node), model.Version is null ? null : BomDocument.ModelName(model.Node) + "@" + model.Version }
            .OfType<string>();

    private static BomComponent MatchByContent(ModelLocation location, List<BomComponent> candidates, List<ListedFile> listed, BomDocument bom, Dictionary<string, string> sha256Cache)
    {
        var directory = location.Given;
        var root = Path.GetFullPath(location.Directory);
        var present = candidates.Select(model => (Model: model, Files: listed
                .Where(f => ReferenceEquals(f.Component.OwningModel?.Node, model.Node) && location.Holds(f) && DigestCheck.UnsafePathReason(f.Path) is null)
                .Select(f => (File: f, FullPath: Path.Combine(root, f.Path)))
                .Where(f => File.Exists(f.FullPath))
                .ToList()))
            .ToList();
        var best = present.Where(p => p.Files.Count > 0).GroupBy(p => p.Files.Count).OrderByDescending(g => g.Key).FirstOrDefault()?.ToList() ?? [];
        if (best.Count > 1)
        {
            // Models made the same way (same file names) differ in their bytes: hash the tied candidates' files, once.
            var toHash = best.SelectMany(p => p.Files).Select(f => f.FullPath).Distinct(StringComparer.Ordinal).Where(p => !sha256Cache.ContainsKey(p)).ToList();
            foreach (var (path, sha) in ExternalApis.Sha256Files(toHash))
                sha256Cache[path] = sha;
            best = best.GroupBy(p => p.Files.Count(f => string.Equals(sha256Cache[f.FullPath], f.File.Sha256, StringComparison.OrdinalIgnoreCase)))
                .OrderByDescending(g => g.Key).First().ToList();
        }

        return best.Count switch
        {
            1 => best[0].Model,
            0 => throw Diagnostics.Diagnostics.GateModelDirectoryUnmatched.Exception(
                $"model directory '{directory}' holds none of the files listed for {(candidates.Count == 0 ? "any model not already given a directory" : string.Join(", ", candidates.Select(c => $"'{c.DisplayName}'")))}; name its model as REF=DIR",
                bom.Path),
            _ => throw Diagnostics.Diagnostics.GateModelDirectoryUnmatched.Exception(
                $"model directory '{directory}' matches {string.Join(" and ", best.Select(b => $"'{b.Model.DisplayName}'"))} equally; name its model as REF=DIR",
                bom.Path),
        };
    }
}

/// <summary>
/// Where a --model-dir entry points: a model directory, or a single model file of any known format, which is checked
/// with the files it is read with (<see cref="Fingerprinter.FilesOfModelFile"/>) and listed paths relative to its folder.
/// </summary>
internal sealed record ModelLocation(string Given, string Directory, IReadOnlySet<string>? OwnPaths)
{
    public static ModelLocation Of(string path)
    {
        if (System.IO.Directory.Exists(path))
            return new ModelLocation(path, path, null);
        if (!File.Exists(path))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"model directory '{path}' does not exist", path);
        if (!Formats.Weights.WeightFormats.IsModelFile(path))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"'{path}' is a file but not a model file of a known format (safetensors, GGUF, ONNX, PyTorch): give its model directory", path);
        var folder = Path.GetDirectoryName(path) is { Length: > 0 } parent ? parent : ".";
        return new ModelLocation(path, folder, Fingerprinter.FilesOfModelFile(path).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Whether a listed file belongs to this model: always for a directory, only its own files for a model file.</summary>
    public bool Holds(ListedFile file) => OwnPaths is null || OwnPaths.Contains(file.Path);
}
