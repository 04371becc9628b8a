using System.Security.Cryptography;
using System.Text;
using ProvenanceGate.IO;

namespace ProvenanceGate.Fingerprinting;

/// <summary>
/// Fingerprint cache keyed git-index style: SHA-256 over the build that computes fingerprints, the model's name and,
/// for every file in the model directory, its name, device, inode, size, mtime and ctime in nanoseconds
/// (<see cref="FileStamp"/>). Different bytes cannot share a key: rewriting a file, even in place with its old size
/// and mtime restored (<c>touch -r</c>), moves its ctime; a copy or an extracted archive has new inodes. The weights
/// are not hashed for the key on purpose: SHA-256 of the files costs about ten times the fingerprint itself, so a
/// content-hash key would make a hit slower than a miss.
/// </summary>
/// <remarks>
/// An entry is written only when no file changed while it was computed and every file's ctime is older than
/// <see cref="RacyWindow"/> (git's "racily clean" rule: a file changed again within the same timestamp tick would
/// keep its stamp). Entries carry their key and the SHA-256 of their body; a truncated, damaged, edited or
/// misplaced entry is recomputed and replaced, never trusted. Writes are atomic (temp + rename), so processes
/// sharing the directory see whole entries or none. Where there is no trustworthy ctime (see
/// <see cref="FileStamp.OfDirectory"/>), nothing is cached.
/// </remarks>
public sealed class FingerprintCache(string directory)
{
    private const string EntryMagic = "provenancegate-fingerprint-cache 1";

    public string Directory { get; } = directory;

    /// <summary>Files changed this recently may change again without changing their stamp (FAT keeps mtimes to 2 s).</summary>
    internal TimeSpan RacyWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary><c>$PROVENANCEGATE_CACHE</c>, else <c>~/.cache/provenancegate</c>.</summary>
    public static FingerprintCache Default
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("PROVENANCEGATE_CACHE");
            var root = !string.IsNullOrEmpty(configured) ? configured
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "provenancegate");
            return new FingerprintCache(Path.Combine(root, "fingerprints"));
        }
    }

    public ModelFingerprint GetOrCompute(string modelDirectory)
    {
        var started = DateTime.UtcNow;
        var stamps = FileStamp.OfDirectory(modelDirectory);
        if (stamps is null)
            return Fingerprinter.FromModelDirectory(modelDirectory);

        var key = Key(Fingerprinter.ModelName(modelDirectory), stamps);
        var entry = EntryPath(key);
        if (TryRead(entry, key) is { } cached)
            return cached;

        var fingerprint = Fingerprinter.FromModelDirectory(modelDirectory);
        if (!IsRacy(stamps, started) && FileStamp.OfDirectory(modelDirectory) is { } after && after.SequenceEqual(stamps))
            TryWrite(entry, key, fingerprint);
        return fingerprint;
    }

    /// <summary>The entry file for <paramref name="modelDirectory"/> as it is now, or null where nothing is cached.</summary>
    internal string? EntryPathFor(string modelDirectory) =>
        FileStamp.OfDirectory(modelDirectory) is { } stamps ? EntryPath(Key(Fingerprinter.ModelName(modelDirectory), stamps)) : null;

    // Not .fingerprint.json: an entry starts with its integrity line, so it is not a fingerprint file itself.
    private string EntryPath(string key) => Path.Combine(Directory, key + ".fingerprint-entry");

    private static string Key(string modelName, IReadOnlyList<FileStamp> stamps)
    {
        var text = new StringBuilder();
        // The module version id changes with every build of the fingerprinting code: an entry is only ever read by
        // the code that computed it, whatever the schema version says.
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"schema={ModelFingerprint.CurrentSchemaVersion}\nbuild={typeof(Fingerprinter).Module.ModuleVersionId}\nmodel={modelName}\n");
        foreach (var stamp in stamps)
            text.Append(stamp).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private bool IsRacy(IReadOnlyList<FileStamp> stamps, DateTime started)
    {
        var limit = (started - RacyWindow - DateTime.UnixEpoch).Ticks * 100;
        return stamps.Any(s => s.ChangedNs >= limit);
    }

    /// <summary>An entry is "magic key sha256(body)\n" then the fingerprint file.</summary>
    private static ModelFingerprint? TryRead(string entry, string key)
    {
        try
        {
            var info = new FileInfo(entry);
            if (!info.Exists || info.Length > IO.InputLimit.Fingerprint.MaxBytes)
                return null;
            var bytes = File.ReadAllBytes(entry);
            var newline = Array.IndexOf(bytes, (byte)'\n');
            if (newline < 0)
                return null;
            var body = bytes[(newline + 1)..];
            var expected = $"{EntryMagic} {key} {Convert.ToHexStringLower(SHA256.HashData(body))}";
            if (!Encoding.UTF8.GetString(bytes, 0, newline).Equals(expected, StringComparison.Ordinal))
                return null;
            return FingerprintFile.Parse(body, entry);
        }
        catch (Exception ex) when (ex is Diagnostics.ProvenanceException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWrite(string entry, string key, ModelFingerprint fingerprint)
    {
        var body = Encoding.UTF8.GetBytes(FingerprintFile.Serialize(fingerprint) + "\n");
        var header = Encoding.UTF8.GetBytes($"{EntryMagic} {key} {Convert.ToHexStringLower(SHA256.HashData(body))}\n");
        try
        {
            AtomicFile.WriteAllBytes(entry, [.. header, .. body]);
        }
        catch (Diagnostics.ProvenanceException)
        {
            // The cache is an optimisation: a read-only home must not fail the command.
        }
    }
}
