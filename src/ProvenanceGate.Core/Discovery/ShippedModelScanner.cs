using ProvenanceGate.Bom;
using ProvenanceGate.NuGet;

namespace ProvenanceGate.Discovery;

/// <summary>Where a shipped model file came from.</summary>
/// <param name="Package">The NuGet package whose file it is (same name and SHA-256), or null for the project's own files.</param>
/// <param name="PackagePath">Its path inside the package, '/'-separated.</param>
public sealed record ModelOrigin(NuGetPackage? Package, string? PackagePath);

/// <summary>A model file found in an app's output, with the files beside it that describe it (tokenizer, config).</summary>
/// <param name="RelativePath">Path under the scanned folder, '/'-separated.</param>
public sealed record ShippedModelFile(string RelativePath, string FullPath, string Format, long Size, string Sha256, IReadOnlyList<string> Sidecars)
{
    public ModelOrigin Origin { get; init; } = new(null, null);
}

/// <summary>
/// Finds every model file under an output or publish folder by content (<see cref="ModelFileDetector"/>) and, given
/// the project's NuGet packages, traces each to the package it came from by name, size and SHA-256. Only the files
/// detected as models are hashed.
/// </summary>
public static class ShippedModelScanner
{
    /// <summary>Files that describe the model beside them; listed with it, never counted as models of their own.</summary>
    private static readonly HashSet<string> SidecarNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "config.json", "genai_config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model",
        "special_tokens_map.json", "vocab.json", "vocab.txt", "merges.txt", "added_tokens.json", "preprocessor_config.json",
    };

    /// <summary>Deeper folders than this are not searched (a loop through links, or an attack on the scan).</summary>
    public const int MaxDepth = 32;

    /// <summary>No model format fits in fewer bytes than its own header.</summary>
    private const int MinimumModelBytes = 16;

    public static IReadOnlyList<ShippedModelFile> Scan(string root, NuGetDependencyGraph? packages = null)
    {
        if (!Directory.Exists(root))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"output folder '{root}' does not exist", root);
        root = Path.GetFullPath(root);

        var detected = new List<(string Path, string Format, long Size)>();
        foreach (var path in RegularFiles(root))
        {
            if (ModelFileDetector.Detect(path) is { } format)
                detected.Add((path, format, new FileInfo(path).Length));
        }

        var hashes = FileHasher.Sha256(detected.Select(d => d.Path).ToList());
        var index = packages is null ? null : PackageFileIndex.Build(packages);
        var models = new List<ShippedModelFile>();
        foreach (var (path, format, size) in detected)
        {
            var directory = Path.GetDirectoryName(path)!;
            var sidecars = Directory.EnumerateFiles(directory)
                .Where(f => SidecarNames.Contains(Path.GetFileName(f)) || IsExternalData(f, path))
                .Select(f => Relative(root, f)).Order(StringComparer.Ordinal).ToArray();
            var model = new ShippedModelFile(Relative(root, path), path, format, size, hashes[path], sidecars);
            models.Add(index?.Find(model) is { } origin ? model with { Origin = origin } : model);
        }

        models.Sort((a, b) => StringComparer.Ordinal.Compare(a.RelativePath, b.RelativePath));
        return models;
    }

    /// <summary>ONNX external data written beside the graph (<c>model.onnx.data</c>, <c>model.onnx_data</c>).</summary>
    private static bool IsExternalData(string candidate, string model) =>
        candidate.StartsWith(model, StringComparison.Ordinal) && candidate.Length > model.Length && candidate[model.Length] is '.' or '_';

    /// <summary>Regular files only: links and special files are never followed out of the folder.</summary>
    private static IEnumerable<string> RegularFiles(string root)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            MaxRecursionDepth = MaxDepth,
            AttributesToSkip = FileAttributes.ReparsePoint | FileAttributes.Device,
            IgnoreInaccessible = true,
        };
        // FIFOs, sockets and devices report a length of 0: skipping short files means never opening one (a FIFO would block).
        return Directory.EnumerateFiles(root, "*", options).Where(path => new FileInfo(path).Length >= MinimumModelBytes);
    }

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');

    /// <summary>Every file of every package, by file name: candidates are compared by size, then by SHA-256.</summary>
    private sealed class PackageFileIndex
    {
        private readonly Dictionary<string, List<(NuGetPackage Package, string PackagePath, string FullPath)>> _byName = new(StringComparer.OrdinalIgnoreCase);

        public static PackageFileIndex Build(NuGetDependencyGraph packages)
        {
            var index = new PackageFileIndex();
            foreach (var package in packages.Packages)
            {
                if (package.Directory is not { } directory)
                    continue;
                foreach (var file in package.Files)
                {
                    var name = Path.GetFileName(file);
                    if (!index._byName.TryGetValue(name, out var list))
                        index._byName[name] = list = [];
                    list.Add((package, file, Path.Combine(directory, file)));
                }
            }

            return index;
        }

        public ModelOrigin? Find(ShippedModelFile model)
        {
            if (!_byName.TryGetValue(Path.GetFileName(model.FullPath), out var candidates))
                return null;
            foreach (var (package, packagePath, fullPath) in candidates)
            {
                if (File.Exists(fullPath) && new FileInfo(fullPath).Length == model.Size && FileHasher.Sha256(fullPath) == model.Sha256)
                    return new ModelOrigin(package, packagePath);
            }

            return null;
        }
    }
}
