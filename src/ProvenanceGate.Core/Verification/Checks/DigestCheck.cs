using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification.Pickle;

namespace ProvenanceGate.Verification.Checks;

/// <summary>A file the BOM lists: a <c>file</c> component, its path relative to the model directory and its SHA-256.</summary>
internal sealed record ListedFile(BomComponent Component, string Path, string? Sha256, string JsonPath);

/// <summary>
/// Every listed file exists under --model-dir and hashes to its recorded SHA-256; every file in the directory is listed;
/// no path escapes the directory (no '..', no absolute path, no symlink pointing out).
/// </summary>
internal static class DigestCheck
{
    /// <summary>Weight formats: an unlisted one beside the signed files is what this check exists to catch.</summary>
    public static IReadOnlySet<string> WeightExtensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".safetensors", ".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".gguf", ".ggml", ".onnx", ".h5", ".keras", ".msgpack",
        ".npz", ".npy", ".pb", ".tflite", ".joblib", ".mlmodel", ".engine", ".plan",
    };

    public const string PathProperty = "provenancegate:path";

    public static IEnumerable<ListedFile> ListedFiles(BomDocument bom)
    {
        foreach (var component in bom.Components.Where(c => c.IsFile))
        {
            var path = component.Property(PathProperty) ?? component.Name;
            string? sha256 = null;
            if (component.Node["hashes"] is JsonArray hashes)
            {
                sha256 = hashes.OfType<JsonObject>()
                    .Where(h => BomDocument.Text(h["alg"]) == "SHA-256")
                    .Select(h => BomDocument.Text(h["content"]))
                    .FirstOrDefault();
            }

            yield return new ListedFile(component, path.Replace('\\', '/'), sha256, component.JsonPath);
        }
    }

    public static void Run(GateContext context)
    {
        var check = CheckIds.Digests;
        var policy = context.Policy.Digests;
        var listed = ListedFiles(context.Bom).ToList();
        if (!policy.Enabled)
        {
            context.Skip(check, $"disabled by policy '{context.Policy.Name}'");
            return;
        }

        // Path safety does not need the directory: a BOM that names '../x' is wrong wherever it is checked.
        var safe = new List<ListedFile>();
        foreach (var file in listed)
        {
            if (UnsafePathReason(file.Path) is { } reason)
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GatePathEscapes, file.JsonPath, $"file path '{file.Path}' {reason}", file.Component.Id);
            else
                safe.Add(file);
        }

        if (context.Scopes.Count == 0)
        {
            context.Skip(check, listed.Count == 0 ? "the BOM lists no files and no --model-dir was given" : $"no --model-dir given: {listed.Count} listed file(s) not hashed");
            return;
        }

        var hashed = 0;
        foreach (var scope in context.Scopes)
            hashed += RunScope(context, scope, safe);

        var notChecked = listed.Count(f => !context.Scopes.Any(s => s.Files.Contains(f)));
        context.Note(check, $"{hashed} file(s) hashed{(context.Scopes.Count == 1 ? "" : $" in {context.Scopes.Count} model directories")}, all match; no unlisted files" +
            (notChecked > 0 ? $"; {notChecked} listed file(s) outside the given model directories and files not hashed" : ""));
    }

    /// <summary>Checks one model directory against the files listed for its model; returns how many files it hashed.</summary>
    private static int RunScope(GateContext context, ModelScope scope, List<ListedFile> safe)
    {
        var check = CheckIds.Digests;
        var policy = context.Policy.Digests;
        var modelDirectory = scope.Directory;
        var ofModel = scope.OfModel;
        var root = Path.GetFullPath(modelDirectory);
        var toHash = new List<(ListedFile File, string FullPath)>();
        foreach (var file in safe.Where(f => scope.Files.Contains(f)))
        {
            var fullPath = Path.GetFullPath(Path.Combine(root, file.Path));
            if (!File.Exists(fullPath))
            {
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateFileMissing, file.JsonPath,
                    $"'{file.Path}'{ofModel} is listed in the BOM but missing from '{modelDirectory}'", file.Component.Id);
                continue;
            }

            if (ResolvesOutside(root, file.Path) is { } target)
            {
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GatePathEscapes, file.JsonPath,
                    $"'{file.Path}'{ofModel} is a symbolic link to '{target}', outside '{modelDirectory}'", file.Component.Id);
                continue;
            }

            if (file.Sha256 is null)
            {
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateFileHashMissing, file.JsonPath,
                    $"'{file.Path}'{ofModel} has no SHA-256 hash in the BOM, so its content is not pinned", file.Component.Id);
                continue;
            }

            toHash.Add((file, fullPath));
        }

        var cache = context.Sha256Cache;
        var missing = toHash.Select(f => f.FullPath).Distinct(StringComparer.Ordinal).Where(p => !cache.ContainsKey(p)).ToList();
        foreach (var (path, sha) in ExternalApis.Sha256Files(missing))
            cache[path] = sha;
        foreach (var (file, fullPath) in toHash)
        {
            var actual = cache[fullPath];
            if (!string.Equals(actual, file.Sha256, StringComparison.OrdinalIgnoreCase))
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateDigestMismatch, file.JsonPath + "/hashes",
                    $"'{file.Path}'{ofModel} has sha256 {actual}, the BOM records {file.Sha256}: the file was changed after the BOM was made", file.Component.Id);
        }

        // Files present but not listed for this model (a file of another model is just as foreign here).
        var listedPaths = scope.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var ignored = IgnoredOutputs(context, root);
        // A single model file brings only its own files: the rest of its folder (other models) is not its content.
        var present = scope.OwnPaths is { } own
            ? own.Order(StringComparer.Ordinal).Select(p => (Relative: p, Info: new FileInfo(Path.Combine(root, p))))
                .Where(p => p.Info.Exists || p.Info.LinkTarget is not null).Select(p => (p.Relative, IsLink: p.Info.LinkTarget is not null)).ToList()
            : IO.ModelTree.Walk(root, skipHidden: false).Select(e => (e.Relative, e.IsLink)).ToList();
        scope.PresentFiles = present.Select(p => p.Relative).ToList();
        // Where the BOM has several models, unlisted files point at (and policy exceptions match) their directory's model.
        var model = scope.OfModel.Length > 0 ? scope.Model : null;
        var component = model?.Id;
        foreach (var (relative, isLink) in present)
        {
            if (listedPaths.Contains(relative) || ignored.Contains(relative) || IsIgnoredByPolicy(relative, policy.Ignore) || IsBomFile(relative))
                continue;
            if (isLink && ResolvesOutside(root, relative) is { } target)
            {
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GatePathEscapes, model?.JsonPath ?? "",
                    $"'{relative}' in '{modelDirectory}'{ofModel} is a symbolic link to '{target}', outside the model directory", component);
                continue;
            }

            var isWeight = WeightExtensions.Contains(Path.GetExtension(relative));
            var severity = GatePolicy(isWeight ? policy.UnlistedWeights : policy.UnlistedOtherFiles);
            context.Add(check, severity, Diagnostics.Diagnostics.GateFileUnlisted, model is null ? "/components" : model.JsonPath + "/components",
                isWeight
                    ? $"weight file '{relative}' is in '{modelDirectory}'{ofModel} but not in the BOM: it is not covered by the signature"
                    : $"'{relative}' is in '{modelDirectory}'{ofModel} but not in the BOM", component);
        }

        return toHash.Count;
    }

    private static DiagnosticSeverity? GatePolicy(ProvenanceGate.Verification.Policy.PolicyAction action) =>
        ProvenanceGate.Verification.Policy.GatePolicy.SeverityOf(action);

    /// <summary>Why a BOM path is unsafe, or null: relative, forward slashes, no '.' or '..' segments.</summary>
    public static string? UnsafePathReason(string path)
    {
        if (path.Length == 0)
            return "is empty";
        if (path.StartsWith('/') || path.Contains(':', StringComparison.Ordinal) || Path.IsPathRooted(path))
            return "is absolute; BOM paths are relative to the model directory";
        if (path.Split('/').Any(segment => segment is ".." or "." or ""))
            return "has '.', '..' or empty segments and could escape the model directory";
        if (path.Contains('\0', StringComparison.Ordinal))
            return "contains a NUL character";
        return null;
    }

    /// <summary>
    /// The final target when <paramref name="relative"/> (or a directory on its way) resolves outside <paramref name="root"/>
    /// and outside the blobs/ of the Hugging Face cache it is a snapshot of; a link loop counts as outside.
    /// </summary>
    private static string? ResolvesOutside(string root, string relative)
    {
        var blobs = IO.ModelTree.HuggingFaceBlobs(root);
        var current = root;
        foreach (var segment in relative.Split('/'))
        {
            current = Path.Combine(current, segment);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is null)
                continue;
            string target;
            try
            {
                target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(info.LinkTarget, Path.GetDirectoryName(current)!);
            }
            catch (IOException)
            {
                return $"{info.LinkTarget} (a symbolic link loop)";
            }

            if (!IO.ModelTree.IsInside(root, target) && !(blobs is not null && IO.ModelTree.IsInside(blobs, target)))
                return target;
        }

        return null;
    }

    private static HashSet<string> IgnoredOutputs(GateContext context, string root)
    {
        // The BOM, its signature and bundle may sit in the model directory: they describe the files, they are not among them.
        var ignored = new HashSet<string>(StringComparer.Ordinal);
        // The provenance declaration the BOM was generated from describes the model; the generator leaves it out too.
        foreach (var model in context.Bom.Models)
        {
            if (model.Property("provenancegate:declaration") is { Length: > 0 } declaration && UnsafePathReason(declaration) is null)
                ignored.Add(declaration);
        }


        foreach (var path in new[] { context.Options.BomPath, context.Options.SignaturePath, context.Options.BundlePath }.OfType<string>())
        {
            var full = Path.GetFullPath(path);
            if (IO.ModelTree.IsInside(root, full))
                ignored.Add(Path.GetRelativePath(root, full).Replace('\\', '/'));
        }

        return ignored;
    }

    /// <summary>BOMs beside the model are documents about it, not part of it (the generator skips them the same way).</summary>
    private static bool IsBomFile(string relative) =>
        relative.EndsWith(".cdx.json", StringComparison.OrdinalIgnoreCase) || relative.EndsWith(".bom.json", StringComparison.OrdinalIgnoreCase);

    private static bool IsIgnoredByPolicy(string relative, IReadOnlyList<string> patterns) => patterns.Any(pattern =>
        pattern.EndsWith('/')
            ? relative.StartsWith(pattern, StringComparison.Ordinal) || relative.Contains("/" + pattern, StringComparison.Ordinal)
            : relative == pattern || relative.EndsWith("/" + pattern, StringComparison.Ordinal));

    /// <summary>Pickle-format files among the listed ones (for the serialization check).</summary>
    public static IEnumerable<ListedFile> ListedPickles(BomDocument bom) => ListedFiles(bom).Where(f => PickleScanner.IsPickleFormat(f.Path));
}
