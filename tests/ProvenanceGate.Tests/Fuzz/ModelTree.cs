using System.Text;

namespace ProvenanceGate.Tests.Fuzz;

/// <summary>
/// The model-directory family's input: a small script, one entry per line, that lays out a directory tree, so that
/// byte mutations of the script become odd trees (names with control characters, 255-byte names, deep nesting,
/// links in and out of the tree, link loops, Hugging Face cache layouts).
/// <code>
/// root snapshots/abc          the directory handed to the tool (default: the tree itself)
/// dir sub/deeper
/// file config.json config.json    content from seeds/_model/, "empty", "text:..." or "pickle:&lt;seed&gt;"
/// link weights.safetensors ../../blobs/1a2b   a symbolic link, created after every file and directory
/// </code>
/// Paths that would leave the tree are skipped when creating files; links may point anywhere (that is the attack),
/// but are made last so that nothing is ever written through one.
/// </summary>
public static class ModelTree
{
    public static string Build(byte[] script, string tree)
    {
        Directory.CreateDirectory(tree);
        var treeRoot = Path.GetFullPath(tree);
        var root = treeRoot;
        var links = new List<(string Path, string Target)>();
        var lines = Encoding.UTF8.GetString(script).Split('\n');
        foreach (var line in lines.Take(2_000))
        {
            var parts = line.Split(' ', 3);
            if (parts.Length < 2)
                continue;
            var path = Inside(treeRoot, parts[1]);
            if (path is null)
                continue;
            try
            {
                switch (parts[0])
                {
                    case "root":
                        root = path;
                        break;
                    case "dir":
                        Directory.CreateDirectory(path);
                        break;
                    case "file" when parts.Length == 3 && !Directory.Exists(path):
                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        File.WriteAllBytes(path, Content(parts[2]));
                        break;
                    case "link" when parts.Length == 3:
                        links.Add((path, parts[2]));
                        break;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // A name the file system refuses (too long, embedded NUL): that entry is simply not there.
            }
        }

        foreach (var (path, target) in links)
        {
            try
            {
                if (!Path.Exists(path) && Directory.Exists(Path.GetDirectoryName(path)) && !HasLinkAncestor(treeRoot, path))
                    File.CreateSymbolicLink(path, target);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
            }
        }

        return root;
    }

    private static byte[] Content(string source)
    {
        if (source == "empty")
            return [];
        if (source.StartsWith("text:", StringComparison.Ordinal))
            return Encoding.UTF8.GetBytes(source[5..].Replace("\\n", "\n", StringComparison.Ordinal));
        var seed = source.StartsWith("pickle:", StringComparison.Ordinal)
            ? FuzzFamilies.Seeds("pickle", Path.GetFileName(source[7..]))
            : FuzzFamilies.Seeds("_model", Path.GetFileName(source));
        return File.Exists(seed) ? File.ReadAllBytes(seed) : Encoding.UTF8.GetBytes(source);
    }

    private static string? Inside(string root, string relative)
    {
        if (relative.Length == 0 || relative.Contains('\0'))
            return null;
        var full = Path.GetFullPath(Path.Combine(root, relative));
        return full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || full == root ? full : null;
    }

    private static bool HasLinkAncestor(string root, string path)
    {
        for (var directory = Path.GetDirectoryName(path); directory is not null && directory.Length > root.Length; directory = Path.GetDirectoryName(directory))
        {
            if (new DirectoryInfo(directory).LinkTarget is not null)
                return true;
        }

        return false;
    }
}
