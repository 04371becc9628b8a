using ProvenanceGate.Verification.Checks;

namespace ProvenanceGate.Verification;

/// <summary>
/// One model directory and what it is checked against: its machine-learning-model component (null for a BOM without
/// one), the listed files that belong in it, and its base fingerprints.
/// </summary>
internal sealed class ModelScope(BomComponent? model, string directory, string? baseFingerprints, IReadOnlyList<ListedFile> files, bool nameModel)
{
    public BomComponent? Model { get; } = model;

    /// <summary>As given (relative or absolute); messages name the directory by it.</summary>
    public string Directory { get; } = directory;

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
        foreach (var entry in entries)
        {
            if (!System.IO.Directory.Exists(entry.Directory))
                throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"model directory '{entry.Directory}' does not exist", entry.Directory);
            if (entry.BaseFingerprints is { } path && !System.IO.Directory.Exists(path) && !File.Exists(path))
                throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"base fingerprints '{path}' do not exist", path);
        }

        var listed = DigestCheck.ListedFiles(bom).ToList();
        var models = bom.Models.ToList();
        if (entries.Count == 0)
            return [];
        if (entries is [{ Model: null } only] && models.Count <= 1)
            return [new ModelScope(models.SingleOrDefault(), only.Directory, only.BaseFingerprints ?? options.BaseFingerprintsDirectory, listed, nameModel: false)];

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
            Assign(entry, MatchByContent(entry.Directory, models.Where(m => !assigned.ContainsValue(m)).ToList(), listed, bom, sha256Cache));

        return entries.Select(e =>
        {
            var model = assigned[e];
            var files = listed.Where(f => ReferenceEquals(f.Component.OwningModel?.Node, model.Node)).ToList();
            return new ModelScope(model, e.Directory, e.BaseFingerprints ?? options.BaseFingerprintsDirectory, files, nameModel: models.Count > 1);
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

    private static BomComponent MatchByContent(string directory, List<BomComponent> candidates, List<ListedFile> listed, BomDocument bom, Dictionary<string, string> sha256Cache)
    {
        var root = Path.GetFullPath(directory);
        var present = candidates.Select(model => (Model: model, Files: listed
                .Where(f => ReferenceEquals(f.Component.OwningModel?.Node, model.Node) && DigestCheck.UnsafePathReason(f.Path) is null)
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
