using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// The cache on, as users run it. The fixtures are what defeated the old key: two model directories with the same
/// name, file names, sizes, safetensors headers and modification times (as a checkout, a deterministic archive or an
/// extracted package leaves them) but independently trained weights (dev-base and dev-twin). They are made once and
/// aged past the cache's racy window, so entries really are written and read.
/// </summary>
[NonParallelizable]
public sealed class FingerprintCacheTests : IDisposable
{
    private static readonly DateTime CheckoutTime = new(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private static readonly string[] ModelFiles = ["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json"];

    private TempDirectory _temp = null!;
    private string _base = null!;
    private string _twin = null!;
    private string _victim = null!;

    private static string Trained(string name) => RepoPaths.TestData("trained", "models", name);

    [OneTimeSetUp]
    public void MakeTwins()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("the fingerprint cache needs Linux statx change times; elsewhere it computes every time");
        _temp = new TempDirectory();
        _base = CopyModel(Trained("dev-base"), _temp.Combine("a", "model"));
        _twin = CopyModel(Trained("dev-twin"), _temp.Combine("b", "model"));
        _victim = CopyModel(Trained("dev-base"), _temp.Combine("c", "model"));
        Thread.Sleep(new FingerprintCache(_temp.Combine("unused")).RacyWindow + TimeSpan.FromMilliseconds(200));
    }

    public void Dispose() => _temp?.Dispose();

    private static string CopyModel(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var name in ModelFiles)
        {
            File.Copy(Path.Combine(source, name), Path.Combine(target, name));
            File.SetLastWriteTimeUtc(Path.Combine(target, name), CheckoutTime);
        }

        return target;
    }

    private static string Serialized(string model) => FingerprintFile.Serialize(Fingerprinter.FromModelDirectory(model)) + "\n";

    private static ProcessResult Tool(string cache, params string[] arguments) =>
        ExternalProcess.RunTool(arguments, new Dictionary<string, string?> { ["PROVENANCEGATE_CACHE"] = cache });

    [Test]
    public void Twins_that_only_differ_in_their_weights_stay_independent_with_the_cache_on()
    {
        foreach (var name in ModelFiles)
        {
            var (a, b) = (new FileInfo(Path.Combine(_base, name)), new FileInfo(Path.Combine(_twin, name)));
            Assert.That((a.Length, a.LastWriteTimeUtc), Is.EqualTo((b.Length, b.LastWriteTimeUtc)), name);
        }

        Assert.That(SafetensorsHeader(_base), Is.EqualTo(SafetensorsHeader(_twin)), "the twins' headers are byte-identical");
        Assert.That(File.ReadAllBytes(Path.Combine(_base, "model.safetensors")), Is.Not.EqualTo(File.ReadAllBytes(Path.Combine(_twin, "model.safetensors"))));

        using var temp = new TempDirectory();
        var cache = temp.Combine("cache");
        for (var run = 0; run < 2; run++)
        {
            var result = Tool(cache, "compare", _base, _twin);
            Assert.That(result.ExitCode, Is.EqualTo(1), $"run {run}: {result}");
            Assert.That(result.Stdout, Does.Contain("model vs model: independent"), $"run {run}");
            Assert.That(result.Stderr, Does.Contain("PG3008"));
            Assert.That(Directory.GetFiles(Path.Combine(cache, "fingerprints")), Has.Length.EqualTo(2), "one entry per model, both written and then read");
        }

        // With the twin's entry in the cache, fingerprinting the base writes the base's fingerprint, byte for byte.
        var output = temp.Combine("base.fingerprint.json");
        var written = Tool(cache, "fingerprint", _base, "-o", output);
        Assert.That(written.ExitCode, Is.EqualTo(0), written.ToString());
        Assert.That(File.ReadAllText(output), Is.EqualTo(Serialized(_base)));
        Assert.That(File.ReadAllText(output), Is.Not.EqualTo(Serialized(_twin)));
    }

    [Test]
    public void A_file_rewritten_in_place_with_its_size_and_mtime_restored_is_not_served_from_the_cache()
    {
        using var temp = new TempDirectory();
        var cache = new FingerprintCache(temp.Combine("cache"));
        Assert.That(FingerprintFile.Serialize(cache.GetOrCompute(_victim)), Is.EqualTo(Serialized(_base).TrimEnd('\n')));
        Assert.That(File.Exists(cache.EntryPathFor(_victim)), "the entry was written, so a stale hit was possible");

        // touch -r style: same inode, same size, same mtime; only the ctime moves.
        var weights = Path.Combine(_victim, "model.safetensors");
        using (var stream = new FileStream(weights, FileMode.Open, FileAccess.Write))
            stream.Write(File.ReadAllBytes(Path.Combine(_twin, "model.safetensors")));
        File.SetLastWriteTimeUtc(weights, CheckoutTime);
        Assert.That((new FileInfo(weights).Length, File.GetLastWriteTimeUtc(weights)), Is.EqualTo((new FileInfo(Path.Combine(_base, "model.safetensors")).Length, CheckoutTime)));

        var after = cache.GetOrCompute(_victim);
        Assert.That(after.Weights!.TensorHashes, Is.EqualTo(Fingerprinter.FromModelDirectory(_twin).Weights!.TensorHashes));
    }

    [Test]
    public void Truncated_edited_or_misplaced_entries_are_recomputed_never_trusted()
    {
        using var temp = new TempDirectory();
        var cache = new FingerprintCache(temp.Combine("cache"));
        cache.GetOrCompute(_base);
        cache.GetOrCompute(_twin);
        var baseEntry = cache.EntryPathFor(_base)!;
        var twinEntry = cache.EntryPathFor(_twin)!;
        Assert.That(File.Exists(baseEntry) && File.Exists(twinEntry) && baseEntry != twinEntry);
        var expected = Serialized(_base).TrimEnd('\n');
        var good = File.ReadAllBytes(baseEntry);
        var twinBytes = File.ReadAllBytes(twinEntry);
        var header = good.AsSpan(0, Array.IndexOf(good, (byte)'\n') + 1).ToArray();
        var damaged = (byte[])good.Clone();
        damaged[^100] ^= 0x01;

        var tampered = new Dictionary<string, byte[]>
        {
            ["truncated"] = good[..(good.Length / 2)],
            ["header only"] = header,
            ["one bit flipped"] = damaged,
            ["twin's body under the base's header"] = [.. header, .. twinBytes[(Array.IndexOf(twinBytes, (byte)'\n') + 1)..]],
            ["twin's whole entry under the base's key"] = twinBytes,
            ["bare fingerprint of the twin"] = System.Text.Encoding.UTF8.GetBytes(Serialized(_twin)),
        };
        foreach (var (what, bytes) in tampered)
        {
            File.WriteAllBytes(baseEntry, bytes);
            Assert.That(FingerprintFile.Serialize(cache.GetOrCompute(_base)), Is.EqualTo(expected), what);
            Assert.That(File.ReadAllBytes(baseEntry), Is.EqualTo(good), $"{what}: the entry was replaced by a good one");
        }
    }

    [Test]
    public void Files_changed_within_the_racy_window_are_computed_but_not_cached()
    {
        using var temp = new TempDirectory();
        var fresh = CopyModel(Trained("dev-base"), temp.Combine("model"));
        var cache = new FingerprintCache(temp.Combine("cache"));
        Assert.That(FingerprintFile.Serialize(cache.GetOrCompute(fresh)), Is.EqualTo(Serialized(_base).TrimEnd('\n')));
        Assert.That(File.Exists(cache.EntryPathFor(fresh)), Is.False, "its ctime is seconds old: it may change again without changing its stamp");
        Assert.That(Directory.Exists(cache.Directory) && Directory.EnumerateFileSystemEntries(cache.Directory).Any(), Is.False);
    }

    [Test]
    public void Processes_sharing_one_cache_directory_at_once_each_get_their_own_models_fingerprint()
    {
        using var temp = new TempDirectory();
        var cache = temp.Combine("cache");
        var expected = new Dictionary<string, string> { [_base] = Serialized(_base), [_twin] = Serialized(_twin) };
        string[] models = [_base, _twin, _base, _twin];
        for (var round = 0; round < 2; round++)
        {
            // Round 0 races to compute and write both entries; round 1 reads them while the others read too.
            var runs = models.Select((model, i) =>
            {
                var output = temp.Combine($"r{round}-{i}.fingerprint.json");
                return (Model: model, Output: output, Task: Task.Run(() => Tool(cache, "fingerprint", model, "-o", output)));
            }).ToList();
            foreach (var run in runs)
            {
                Assert.That(run.Task.Result.ExitCode, Is.EqualTo(0), run.Task.Result.ToString());
                Assert.That(File.ReadAllText(run.Output), Is.EqualTo(expected[run.Model]), $"round {round}: {run.Output}");
            }
        }

        Assert.That(Directory.GetFiles(Path.Combine(cache, "fingerprints")).Select(Path.GetFileName).ToArray(), Has.Length.EqualTo(2).And.All.EndsWith(".fingerprint-entry"),
            "two whole entries, no temp files left behind");
    }

    private static byte[] SafetensorsHeader(string model)
    {
        var bytes = File.ReadAllBytes(Path.Combine(model, "model.safetensors"));
        return bytes[..(8 + (int)BitConverter.ToUInt64(bytes, 0))];
    }
}
