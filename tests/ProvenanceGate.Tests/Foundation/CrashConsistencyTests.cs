using System.Diagnostics;
using System.Globalization;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Signing;

namespace ProvenanceGate.Tests.Foundation;

/// <summary>
/// Issue 14, crash-consistent outputs: the real tool, run as a child process, is killed with SIGKILL at random moments
/// while it writes a BOM, a signature, a bundle, a key pair, a report, a fingerprint or a cache entry. Every output name
/// must then hold the old file or the complete new one, never a part; the temp files a killed writer leaves behind are
/// removed by the next write; and two processes writing one output (or one cache entry) at once both end correctly.
/// <c>PROVENANCEGATE_CRASH_ROUNDS</c> sets the kills per output (default 6).
/// </summary>
[NonParallelizable] // timing-sensitive: the kill delays are fractions of a measured run
public sealed class CrashConsistencyTests
{
    private const string Password = "provenancegate-test"; // the password of the committed test key, reused for new keys

    private static readonly string Epoch = "1767225600";

    private static int Rounds => int.Parse(System.Environment.GetEnvironmentVariable("PROVENANCEGATE_CRASH_ROUNDS") ?? "6", CultureInfo.InvariantCulture);

    private static string Model => RepoPaths.TestData("trained", "models", "dev-base");

    private static string CosignKeys(string name) => RepoPaths.TestData("cosign", "generated", "keys", name);

    /// <summary>One way the tool writes files: its arguments, its outputs, and what a complete new output is.</summary>
    private sealed record Writer(string Name, Func<string, string[]> Arguments, string[] Outputs, Func<string, string, byte[], bool> IsCompleteNew);

    private static IEnumerable<TestCaseData> Writers()
    {
        Writer Deterministic(string name, Func<string, string[]> arguments, params string[] outputs) =>
            new(name, arguments, outputs, (work, output, content) => content.AsSpan().SequenceEqual(Reference(name, work, output)));

        yield return new TestCaseData(Deterministic("bom", w => ["bom", ManyFilesModel(w), "-o", Path.Combine(w, "out", "model.cdx.json")], "model.cdx.json")).SetName("Killed bom leaves the old BOM or the new one");
        yield return new TestCaseData(Deterministic("fingerprint", w => ["fingerprint", Model, "--no-cache", "-o", Path.Combine(w, "out", "model.fingerprint.json")], "model.fingerprint.json"))
            .SetName("Killed fingerprint leaves the old fingerprint or the new one");
        yield return new TestCaseData(Deterministic("report", w => ["verify", RepoPaths.TestData("cosign", "generated", "blob", "ml-bom.cdx.json"), "--format", "sarif", "--timestamp", "2026-01-01T00:00:00Z",
            "-o", Path.Combine(w, "out", "report.sarif"), "--report", "json=" + Path.Combine(w, "out", "report.json")], "report.sarif", "report.json"))
            .SetName("Killed verify leaves the old reports or the new ones");
        yield return new TestCaseData(new Writer("sign", w => ["sign", "--key", CosignKeys("cosign.key"), "--output-signature", Path.Combine(w, "out", "model.sig"),
            "--bundle", Path.Combine(w, "out", "model.sigstore.json"), Artifact(w)], ["model.sig", "model.sigstore.json"], (w, output, _) =>
        {
            var path = Path.Combine(w, "out", output);
            var key = PublicKeyLoader.Load(CosignKeys("cosign.pub"));
            return output.EndsWith(".sig", StringComparison.Ordinal)
                ? SignatureVerifier.VerifyBlob(Artifact(w), [key], path, null).Verified
                : SignatureVerifier.VerifyBlob(Artifact(w), [key], null, path).Verified;
        })).SetName("Killed sign leaves the old signature and bundle or verifying new ones");
        yield return new TestCaseData(new Writer("keygen", w => ["keygen", "--output-key-prefix", Path.Combine(w, "out", "cosign"), "--force"], ["cosign.key", "cosign.pub"], (w, output, _) =>
        {
            var path = Path.Combine(w, "out", output);
            if (output == "cosign.pub")
                return File.ReadAllText(path).TrimEnd().EndsWith("-----END PUBLIC KEY-----", StringComparison.Ordinal) && PublicKeyLoader.Load(path) is not null;
            try
            {
                using var key = PrivateKeyLoader.Load(path, () => Password);
                return true;
            }
            catch (ProvenanceGate.Diagnostics.ProvenanceException)
            {
                return false;
            }
        })).SetName("Killed keygen leaves the old key files or loadable new ones");
        yield return new TestCaseData(new Writer("cache", w => ["fingerprint", Model, "-o", Path.Combine(w, "fp.json")], ["cache"], (w, _, content) =>
            content.AsSpan().SequenceEqual(Reference("fingerprint", w, "model.fingerprint.json"))))
            .SetName("Killed fingerprint leaves no partial cache entry");
    }

    [TestCaseSource(nameof(Writers))]
    public void Killed_writer_leaves_old_or_new_output(object writerObject)
    {
        var writer = (Writer)writerObject;
        using var temp = new TempDirectory();
        var work = temp.Path;
        var output = Path.Combine(work, "out");
        var cache = Path.Combine(work, "cache-root");
        Directory.CreateDirectory(output);
        var environment = Environment(cache);

        // A complete run first: its duration spreads the kills over the whole run, its outputs are "new".
        var arguments = writer.Arguments(work);
        var timer = Stopwatch.StartNew();
        var reference = Run(arguments, environment);
        Assert.That(reference.ExitCode, Is.EqualTo(SuccessExitCode(writer.Name)), reference.ToString());
        var duration = timer.Elapsed;
        foreach (var name in writer.Outputs)
            Assert.That(Outputs(work, writer, name).All(o => writer.IsCompleteNew(work, name, File.ReadAllBytes(o))), $"{name}: the reference run's own output is not recognised as complete");

        var random = new Random(writer.Name.Length * 7919);
        var killedMidway = 0;
        // Kills that land after the exit prove nothing: runs that end early shorten the estimate, and rounds go on
        // (up to three times as many) until at least half of them hit a running process.
        var roundsWithLeftovers = 0;
        for (var round = 0; round < Rounds || ((killedMidway < Rounds / 2 || roundsWithLeftovers == 0) && round < Rounds * 3); round++)
        {
            // Old files in place (every other round none at all), then a kill somewhere in the run, weighted to its end.
            var old = round % 2 == 0 ? System.Text.Encoding.UTF8.GetBytes($"previous version, round {round}\n") : null;
            ResetOutputs(work, writer, old);
            var fraction = random.Next(2) == 0 ? random.NextDouble() * 1.1 : 0.75 + random.NextDouble() * 0.35;
            using (var process = Start(arguments, environment))
            {
                var running = Stopwatch.StartNew();
                if (process.WaitForExit(duration * fraction))
                {
                    duration = running.Elapsed < duration ? running.Elapsed : duration;
                }
                else
                {
                    process.Kill(entireProcessTree: true);
                    killedMidway++;
                    process.WaitForExit();
                }
            }

            roundsWithLeftovers += TempFiles(work).Length > 0 ? 1 : 0;
            foreach (var name in writer.Outputs)
            {
                foreach (var path in Outputs(work, writer, name))
                {
                    var content = File.ReadAllBytes(path);
                    var isOld = old is not null && content.AsSpan().SequenceEqual(old);
                    Assert.That(isOld || writer.IsCompleteNew(work, name, content),
                        $"round {round}, killed at {fraction:P0} of {duration.TotalMilliseconds:F0} ms: '{path}' is neither the old file nor a complete new one ({content.Length} bytes)");
                }
            }
        }

        Assert.That(killedMidway, Is.GreaterThanOrEqualTo(Rounds / 2), "too few kills landed while the tool was running: the test proved little");
        // On a loaded machine the kills may all miss the mid-write pause; that weakens the run, it does not fail it.
        if (roundsWithLeftovers == 0)
            Assert.Warn("no kill landed mid-write in this run");

        // What the killed writers left: temp files under their own names (never the output's). The next write removes them.
        foreach (var leftover in TempFiles(work))
            File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddMinutes(-10));
        var final = Run(arguments, environment);
        Assert.That(final.ExitCode, Is.EqualTo(SuccessExitCode(writer.Name)), final.ToString());
        Assert.That(TempFiles(work), Is.Empty, "temp files of killed writers are still there after a later successful write");
    }

    [Test]
    public void Two_processes_writing_one_BOM_both_end_with_one_complete_version()
    {
        using var temp = new TempDirectory();
        var arguments = (string[])["bom", ManyFilesModel(temp.Path), "-o", temp.Combine("out", "model.cdx.json")];
        var environment = Environment(temp.Combine("cache-root"));
        var reference = Run(arguments, environment);
        Assert.That(reference.ExitCode, Is.Zero, reference.ToString());
        var expected = File.ReadAllBytes(temp.Combine("out", "model.cdx.json"));

        for (var round = 0; round < 3; round++)
        {
            var results = RunTogether(arguments, arguments, environment);
            Assert.That(results.Select(r => r.ExitCode), Is.All.Zero, string.Join("\n", results.Select(r => r.ToString())));
            Assert.That(File.ReadAllBytes(temp.Combine("out", "model.cdx.json")), Is.EqualTo(expected));
        }

        Assert.That(TempFiles(temp.Path), Is.Empty);
    }

    [Test]
    public void Two_processes_filling_one_cache_entry_both_end_with_one_complete_entry()
    {
        using var temp = new TempDirectory();
        var environment = Environment(temp.Combine("cache-root"));
        var results = RunTogether(["fingerprint", Model, "-o", temp.Combine("a.fingerprint.json")], ["fingerprint", Model, "-o", temp.Combine("b.fingerprint.json")], environment);
        Assert.That(results.Select(r => r.ExitCode), Is.All.Zero, string.Join("\n", results.Select(r => r.ToString())));

        var entries = Directory.GetFiles(temp.Combine("cache-root"), "*", SearchOption.AllDirectories);
        Assert.That(entries, Has.Length.EqualTo(1), "one model, one cache entry, no temp files");
        // An entry is its integrity line (key and SHA-256 of the body), then the fingerprint file itself.
        var entry = File.ReadAllBytes(entries[0]);
        var body = entry.AsSpan(Array.IndexOf(entry, (byte)'\n') + 1).ToArray();
        Assert.That(body, Is.EqualTo(File.ReadAllBytes(temp.Combine("a.fingerprint.json"))));
        Assert.That(File.ReadAllBytes(temp.Combine("b.fingerprint.json")), Is.EqualTo(File.ReadAllBytes(temp.Combine("a.fingerprint.json"))));
    }

    [Test]
    public void Two_processes_creating_one_key_without_force_leave_one_complete_pair()
    {
        using var temp = new TempDirectory();
        var arguments = (string[])["keygen", "--output-key-prefix", temp.Combine("cosign")];
        var results = RunTogether(arguments, arguments, Environment(temp.Combine("cache-root")));

        // Both may win the race for neither file, but never both for one: the loser gets PG0005, never a clobbered key.
        Assert.That(results.Count(r => r.ExitCode == 0), Is.LessThanOrEqualTo(1), string.Join("\n", results.Select(r => r.ToString())));
        Assert.That(results.Where(r => r.ExitCode != 0).Select(r => r.Stderr), Has.All.Contains("PG0005"));
        using var key = PrivateKeyLoader.Load(temp.Combine("cosign.key"), () => Password);
        Assert.That(TempFiles(temp.Path), Is.Empty);
    }

    /// <summary>The verify run checks an unsigned BOM: the gate fails (exit 1) and still writes both reports.</summary>
    private static int SuccessExitCode(string writer) => writer == "report" ? 1 : 0;

    private static Dictionary<string, string?> Environment(string cacheRoot) => new()
    {
        ["SOURCE_DATE_EPOCH"] = Epoch,
        ["COSIGN_PASSWORD"] = Password,
        ["PROVENANCEGATE_CACHE"] = cacheRoot,
        ["CI"] = null,
        ["GITHUB_ACTIONS"] = null,
        ["TF_BUILD"] = null,
        // Each write pauses halfway (AtomicFile's fault injection), so kills land mid-write, not only before or after.
        ["PROVENANCEGATE_TEST_WRITE_PAUSE_MS"] = "300",
    };

    /// <summary>The outputs a writer produced: its named files, or every entry of the cache.</summary>
    private static string[] Outputs(string work, Writer writer, string name) =>
        name == "cache"
            ? Directory.Exists(Path.Combine(work, "cache-root")) ? Directory.GetFiles(Path.Combine(work, "cache-root"), "*" + FingerprintFile.Extension, SearchOption.AllDirectories) : []
            : File.Exists(Path.Combine(work, "out", name)) ? [Path.Combine(work, "out", name)] : [];

    private static void ResetOutputs(string work, Writer writer, byte[]? old)
    {
        foreach (var name in writer.Outputs)
        {
            if (name == "cache")
            {
                var root = Path.Combine(work, "cache-root");
                var entries = Directory.Exists(root) ? Directory.GetFiles(root, "*" + FingerprintFile.Extension, SearchOption.AllDirectories) : [];
                foreach (var entry in entries)
                {
                    if (old is null)
                        File.Delete(entry);
                    else
                        File.WriteAllBytes(entry, old);
                }

                continue;
            }

            var path = Path.Combine(work, "out", name);
            if (old is null)
                File.Delete(path);
            else
                File.WriteAllBytes(path, old);
        }
    }

    private static string[] TempFiles(string work) =>
        Directory.GetFiles(work, "*.tmp", SearchOption.AllDirectories);

    /// <summary>Reference outputs of the deterministic writers, made once per work directory by a run of their own.</summary>
    private static byte[] Reference(string writer, string work, string output)
    {
        var path = Path.Combine(work, "reference", writer, output);
        if (!File.Exists(path))
        {
            var directory = Path.Combine(work, "reference", writer);
            var arguments = writer switch
            {
                "bom" => (string[])["bom", ManyFilesModel(work), "-o", Path.Combine(directory, output)],
                "fingerprint" => ["fingerprint", Model, "--no-cache", "-o", Path.Combine(directory, output)],
                _ => ["verify", RepoPaths.TestData("cosign", "generated", "blob", "ml-bom.cdx.json"), "--format", "sarif", "--timestamp", "2026-01-01T00:00:00Z",
                    "-o", Path.Combine(directory, "report.sarif"), "--report", "json=" + Path.Combine(directory, "report.json")],
            };
            Directory.CreateDirectory(directory);
            var result = Run(arguments, Environment(Path.Combine(work, "reference-cache")));
            Assert.That(result.ExitCode, Is.EqualTo(SuccessExitCode(writer)), result.ToString());
        }

        return File.ReadAllBytes(path);
    }

    /// <summary>A model directory with a thousand extra files: a BOM of half a megabyte, so writing it takes a moment.</summary>
    private static string ManyFilesModel(string work)
    {
        var directory = Path.Combine(work, "many-files-model");
        if (Directory.Exists(directory))
            return directory;
        Directory.CreateDirectory(Path.Combine(directory, "extra"));
        foreach (var file in Directory.GetFiles(RepoPaths.InRepo("tests", "ProvenanceGate.Tests", "Fuzz", "seeds", "_model")))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        for (var i = 0; i < 1_000; i++)
            File.WriteAllText(Path.Combine(directory, "extra", $"file-{i:D4}.txt"), $"extra file {i}\n");
        return directory;
    }

    private static string Artifact(string work)
    {
        var path = Path.Combine(work, "artifact.bin");
        if (!File.Exists(path))
            File.WriteAllBytes(path, Enumerable.Range(0, 1 << 20).Select(i => (byte)(i * 31)).ToArray());
        return path;
    }

    private static Process Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "dotnet-provenance.dll"), .. arguments])
            start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.StandardInput.Close();
        // Drained in the background so a full pipe never stalls the child before the kill.
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static ProcessResult Run(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment) =>
        ExternalProcess.RunTool(arguments, environment, stdin: "");

    private static ProcessResult[] RunTogether(string[] first, string[] second, IReadOnlyDictionary<string, string?> environment)
    {
        var tasks = new[] { first, second }.Select(a => Task.Run(() => Run(a, environment))).ToArray();
        Task.WaitAll(tasks);
        return tasks.Select(t => t.Result).ToArray();
    }
}
