using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.IO;

/// <summary>
/// Walks a model directory for the BOM and the gate with one rule for symbolic links: a link is followed only when its
/// final target is a regular file inside the model directory, or in the <c>blobs/</c> of the Hugging Face cache the
/// directory is a snapshot of (<c>models--org--name/snapshots/REV/file -> ../../blobs/SHA</c>). Links to directories are
/// listed, never descended into, so a link loop cannot make the walk endless; a tree deeper than <see cref="MaxDepth"/>
/// is PG0013.
/// </summary>
public static class ModelTree
{
    /// <summary>Model repositories nest a few levels (onnx/, checkpoints/step-N/); far deeper is a trap.</summary>
    public const int MaxDepth = 32;

    public sealed record Entry(string Relative, string FullPath, bool IsLink);

    /// <summary>Every entry under <paramref name="root"/> (files, and links of any kind), relative with '/', in ordinal order.</summary>
    /// <param name="skipHidden">Leave out names starting with '.' (.git, .cache) and what is below them.</param>
    public static List<Entry> Walk(string root, bool skipHidden)
    {
        root = Path.GetFullPath(root);
        var entries = new List<Entry>();
        Walk(root, root, "", 0, skipHidden, entries);
        entries.Sort((a, b) => string.CompareOrdinal(a.Relative, b.Relative));
        return entries;
    }

    private static void Walk(string root, string directory, string prefix, int depth, bool skipHidden, List<Entry> entries)
    {
        if (depth > MaxDepth)
            throw Diagnostics.Diagnostics.DirectoryTreeUnwalkable.Exception(
                $"'{directory}' is more than {MaxDepth} directories below the model directory '{root}'; such a tree is not walked", directory);
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            // Built from names, not Path.GetRelativePath, which refuses some names a file system accepts.
            var relative = prefix + entry.Name;
            if (skipHidden && entry.Name.StartsWith('.'))
                continue;
            if (entry.LinkTarget is not null)
                entries.Add(new Entry(relative, entry.FullName, IsLink: true));
            else if (entry is DirectoryInfo)
                Walk(root, entry.FullName, relative + "/", depth + 1, skipHidden, entries);
            else
                entries.Add(new Entry(relative, entry.FullName, IsLink: false));
        }
    }

    /// <summary>
    /// Why the link at <paramref name="fullPath"/> must not be followed (PG0012 leads outside, PG0013 loops, PG0011 not a
    /// regular file, PG0002 dangling), or null when it may be.
    /// </summary>
    public static ProvenanceException? LinkProblem(string root, string fullPath)
    {
        root = Path.GetFullPath(root);
        FileSystemInfo? target;
        try
        {
            target = new FileInfo(fullPath).ResolveLinkTarget(returnFinalTarget: true);
        }
        catch (IOException ex)
        {
            // ELOOP: a chain of links that never reaches a file.
            return Diagnostics.Diagnostics.DirectoryTreeUnwalkable.Exception($"'{fullPath}' is a symbolic link loop: {ex.Message}", fullPath, inner: ex);
        }

        if (target is null)
            return null;
        var targetPath = Path.GetFullPath(target.FullName);
        if (!File.Exists(targetPath) && !Directory.Exists(targetPath))
            return Diagnostics.Diagnostics.FileNotFound.Exception($"'{fullPath}' is a link to '{targetPath}', which does not exist", fullPath);
        if (!IsInside(root, targetPath) && !(HuggingFaceBlobs(root) is { } blobs && IsInside(blobs, targetPath)))
        {
            return Diagnostics.Diagnostics.SymlinkEscapes.Exception(
                $"'{fullPath}' is a symbolic link to '{targetPath}', outside the model directory '{root}' (only links within it or into a Hugging Face cache's blobs/ are followed)", fullPath);
        }

        return FileType.Of(targetPath) switch
        {
            FileKind.Regular => null,
            FileKind.Special => Diagnostics.Diagnostics.InputNotRegularFile.Exception(
                $"'{fullPath}' is a symbolic link to '{targetPath}', a FIFO, socket or device; it is not read", fullPath),
            FileKind.Directory => null,
            _ => Diagnostics.Diagnostics.FileNotFound.Exception($"'{fullPath}' is a link to '{targetPath}', which does not exist", fullPath),
        };
    }

    /// <summary>The cache's blobs/ when <paramref name="root"/> is (inside) <c>.../snapshots/REV</c>, else null.</summary>
    public static string? HuggingFaceBlobs(string root)
    {
        for (var snapshot = new DirectoryInfo(root); snapshot.Parent is { } parent; snapshot = parent)
        {
            if (parent.Name == "snapshots" && parent.Parent is { } repository)
                return Path.Combine(repository.FullName, "blobs");
        }

        return null;
    }

    public static bool IsInside(string root, string path)
    {
        var rootWithSeparator = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(rootWithSeparator, StringComparison.Ordinal) || path == root;
    }
}
