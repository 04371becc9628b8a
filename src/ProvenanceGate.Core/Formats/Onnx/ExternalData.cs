using System.Globalization;

namespace ProvenanceGate.Formats.Onnx;

/// <summary>
/// Resolves an initializer's external data (<c>location</c>, <c>offset</c>, <c>length</c>): the file must lie inside the
/// model's directory after every symbolic link is followed, links must not loop, and the region must lie inside the file.
/// </summary>
internal static class ExternalData
{
    /// <summary>More links than this on one path is a loop (Linux's own limit is 40).</summary>
    private const int MaxLinkHops = 40;

    public static (string Path, long Offset, long Length) Locate(string modelPath, string directory, string tensor,
        IReadOnlyList<KeyValuePair<string, string>> entries, long elements, int dataType)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var (key, value) in entries)
        {
            switch (key)
            {
                case "location": location = value; break;
                case "offset": offset = Number(modelPath, tensor, key, value); break;
                case "length": length = Number(modelPath, tensor, key, value); break;
            }
        }

        if (string.IsNullOrEmpty(location))
            throw Error(modelPath, $"tensor '{tensor}' has external data without a location");
        if (Path.IsPathRooted(location) || location.Contains('\0', StringComparison.Ordinal))
            throw Error(modelPath, $"tensor '{tensor}': external data location '{location}' is not a path relative to the model directory");
        var root = RealPath(modelPath, directory);
        var file = RealPath(modelPath, Path.Combine(directory, location));
        if (!file.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw Error(modelPath, $"tensor '{tensor}': external data location '{location}' leaves the model directory");
        if (!File.Exists(file))
            throw Error(modelPath, $"tensor '{tensor}': external data file '{location}' does not exist");
        var size = length ?? OnnxTypes.StoredBytes(dataType, elements);
        var fileLength = new FileInfo(file).Length;
        if (offset < 0 || size < 0 || offset > fileLength || size > fileLength - offset)
            throw Error(modelPath, $"tensor '{tensor}': external data region [{offset}, +{size}) lies outside '{location}' ({fileLength} bytes)");
        return (file, offset, size);
    }

    /// <summary>The path with every symbolic link along it followed; a loop is an error, not a hang.</summary>
    private static string RealPath(string modelPath, string path)
    {
        var full = Path.GetFullPath(path);
        var hops = 0;
        var resolved = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(full[resolved.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        while (pending.Count > 0)
        {
            var candidate = Path.Combine(resolved, pending.Pop());
            FileSystemInfo info = Directory.Exists(candidate) ? new DirectoryInfo(candidate) : new FileInfo(candidate);
            if (info.LinkTarget is not { } target)
            {
                resolved = candidate;
                continue;
            }

            if (++hops > MaxLinkHops)
                throw Error(modelPath, $"'{path}': symbolic links loop");
            var targetPath = Path.GetFullPath(target, resolved);
            var root = Path.GetPathRoot(targetPath)!;
            foreach (var part in targetPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                pending.Push(part);
            resolved = root;
        }

        return resolved;
    }

    private static long Number(string modelPath, string tensor, string key, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw Error(modelPath, $"tensor '{tensor}': external data {key} '{value}' is not a non-negative integer");

    private static Diagnostics.ProvenanceException Error(string modelPath, string reason) =>
        Diagnostics.Diagnostics.OnnxExternalDataInvalid.Exception($"{modelPath}: {reason}", modelPath);
}
