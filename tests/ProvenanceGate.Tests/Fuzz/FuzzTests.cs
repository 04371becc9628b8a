using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ProvenanceGate.Bom;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fuzz;

/// <summary>
/// The fuzz suite (issue 14): a seeded mutation run per input family, the seeds themselves, and every saved failure
/// replayed. CI runs <see cref="DefaultCases"/> cases in total; <c>PROVENANCEGATE_FUZZ_CASES=20000</c> runs more and
/// <c>PROVENANCEGATE_FUZZ_SEED</c> picks other mutations (the default seed keeps CI reproducible).
/// </summary>
[NonParallelizable] // the allocation bound counts what the whole process allocates during a case
public sealed class FuzzTests
{
    public const int DefaultCases = 5_200;

    private static int TotalCases => int.Parse(Environment.GetEnvironmentVariable("PROVENANCEGATE_FUZZ_CASES") ?? DefaultCases.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static int BaseSeed => int.Parse(Environment.GetEnvironmentVariable("PROVENANCEGATE_FUZZ_SEED") ?? "14", CultureInfo.InvariantCulture);

    public static IEnumerable<TestCaseData> Families() => FuzzFamilies.All.Select(f => new TestCaseData(f).SetName("Fuzz " + f.Name));

    public static int CasesFor(FuzzFamily family) =>
        Math.Max(50, (int)Math.Round(TotalCases * family.Weight / FuzzFamilies.All.Sum(f => f.Weight)));

    [TestCaseSource(nameof(Families))]
    public void Every_mutated_input_is_accepted_or_refused_with_a_PG_error(FuzzFamily family)
    {
        if (FuzzRunner.AbandonedBy is { } hung)
            Assert.Inconclusive($"a hung case of {hung} still runs on an abandoned thread; fix that first");
        var seeds = FuzzFamilies.SeedInputs(family.Name);
        var random = new Random(BaseSeed ^ StableHash(family.Name));
        var mutator = new Mutator(random, seeds, family.Kind);
        var cases = CasesFor(family);
        var work = WorkDirectory(family.Name);
        var inFlight = Path.Combine(Path.GetDirectoryName(work)!, family.Name + ".in-flight.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(inFlight)!); // a family run alone (--filter) finds no folder made before it
        TestContext.Progress.WriteLine($"fuzz {family.Name}: {cases} cases; the input running is kept at {inFlight} (a case that kills the host leaves it there)");

        var verdicts = new Dictionary<string, int>(StringComparer.Ordinal);
        var failures = new Dictionary<string, (string Saved, string Detail)>(StringComparer.Ordinal);
        var started = DateTime.UtcNow;
        for (var i = 0; i < cases; i++)
        {
            var input = i < seeds.Count ? seeds[i] : mutator.Mutate(seeds[random.Next(seeds.Count)]);
            File.WriteAllBytes(inFlight, input);
            DeleteTree(work);
            var result = FuzzRunner.Run(family, input, work);
            var key = result.Verdict switch
            {
                Verdict.Accepted => "accepted",
                Verdict.Refused => result.Signature,
                _ => result.Verdict.ToString().ToLowerInvariant() + " " + result.Signature,
            };
            verdicts[key] = verdicts.GetValueOrDefault(key) + 1;
            // Every new failure is saved; a known finding only once per family, so runs do not pile up copies.
            if (result.Verdict is Verdict.Failed or Verdict.Known && !failures.ContainsKey(result.Signature))
                failures[result.Signature] = (result.Verdict == Verdict.Known && FuzzRunner.HasSaved(family.Name, result.Signature) ? "(saved before)" : FuzzRunner.Save(family.Name, result.Signature, input), result.Detail);
            if (result.Signature == "hang")
                break; // its thread still runs: later cases would measure it, not themselves
        }

        DeleteTree(work);
        File.Delete(inFlight);
        var summary = $"fuzz {family.Name}: {verdicts.Values.Sum()} cases in {(DateTime.UtcNow - started).TotalSeconds:F1} s: "
            + string.Join(", ", verdicts.OrderByDescending(v => v.Value).Select(v => $"{v.Key} {v.Value}"));
        TestContext.Progress.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("PROVENANCEGATE_FUZZ_REPORT") is { Length: > 0 } report)
            File.AppendAllText(report, summary + "\n");

        var failed = failures.Where(f => !f.Key.StartsWith("issue14-", StringComparison.Ordinal)).ToList();
        Assert.That(failed, Is.Empty, () => summary + "\n" + string.Join("\n\n", failed.Select(f => $"{f.Key}: saved as {f.Value.Saved}\n{f.Value.Detail}")));
        Assert.That(verdicts.GetValueOrDefault("accepted"), Is.GreaterThan(0), "no input was accepted: the harness never reaches past the first check");
    }

    public static IEnumerable<TestCaseData> Seeds() =>
        FuzzFamilies.All.SelectMany(f => Directory.GetFiles(FuzzFamilies.Seeds(f.Name)).Order(StringComparer.Ordinal)
            .Select(s => new TestCaseData(f, s).SetName($"Seed {f.Name}/{Path.GetFileName(s)}")));

    [TestCaseSource(nameof(Seeds))]
    public void Seed_is_accepted_or_refused(FuzzFamily family, string seed)
    {
        var result = FuzzRunner.Run(family, File.ReadAllBytes(seed), WorkDirectory(family.Name));
        Assert.That(result.Verdict, Is.AnyOf(Verdict.Accepted, Verdict.Refused), result.Detail);
    }

    [Test]
    public void Every_family_has_a_seed_that_is_accepted()
    {
        foreach (var family in FuzzFamilies.All)
        {
            var results = FuzzFamilies.SeedInputs(family.Name).Select(s => FuzzRunner.Run(family, s, WorkDirectory(family.Name))).ToList();
            Assert.That(results.Any(r => r.Verdict == Verdict.Accepted), family.Name + ": " + string.Join("; ", results.Select(r => r.Signature + " " + r.Detail)));
        }
    }

    public static IEnumerable<TestCaseData> Regressions() =>
        FuzzFamilies.All
            .Where(f => Directory.Exists(FuzzRunner.RegressionsDirectory(f.Name)))
            .SelectMany(f => Directory.GetFiles(FuzzRunner.RegressionsDirectory(f.Name)).Order(StringComparer.Ordinal)
                .Select(r => new TestCaseData(f, r).SetName($"Regression {f.Name}/{Path.GetFileName(r)}")));

    /// <summary>Every input the fuzzer ever failed on, replayed. A filed finding is reported as ignored until its
    /// entry leaves <see cref="KnownFindings.All"/>; from then on it must pass like the rest.</summary>
    [TestCaseSource(nameof(Regressions))]
    public void Saved_failure_is_accepted_or_refused(FuzzFamily family, string input)
    {
        var result = FuzzRunner.Run(family, File.ReadAllBytes(input), WorkDirectory(family.Name));
        if (result.Verdict == Verdict.Known)
            Assert.Ignore($"known finding {result.Signature} (issue 14): {result.Detail}");
        Assert.That(result.Verdict, Is.AnyOf(Verdict.Accepted, Verdict.Refused), result.Signature + "\n" + result.Detail);
    }

    [Test]
    public void Oracle_tells_a_PG_error_from_a_crash()
    {
        var family = new FuzzFamily("oracle", InputKind.Binary, 1, (input, _) =>
        {
            switch (input[0])
            {
                case 0: return;
                case 1: throw Diagnostics.Diagnostics.SafetensorsMalformed.Exception("bad");
                case 2: throw Diagnostics.Diagnostics.InternalError.Exception("wrapped crash");
                case 3: throw new FormatException("a crash");
                case 4: GC.KeepAlive(new byte[FuzzRunner.AllocationBound + 1]); return;
                default: throw new AggregateException(Diagnostics.Diagnostics.SafetensorsMalformed.Exception("inside a task"));
            }
        });
        using var temp = new TempDirectory();
        Assert.That(Enumerable.Range(0, 6).Select(b => FuzzRunner.Run(family, [(byte)b], temp.Path).Verdict),
            Is.EqualTo(new[] { Verdict.Accepted, Verdict.Refused, Verdict.Failed, Verdict.Failed, Verdict.Failed, Verdict.Failed }));
    }

    [Test]
    public void Mutations_are_reproducible_from_the_seed()
    {
        var seeds = FuzzFamilies.SeedInputs("sigstore-bundle");
        byte[][] Run() => Enumerable.Range(0, 50).Select(_ => 0).Aggregate((Mutator: new Mutator(new Random(7), seeds, InputKind.Json), List: new List<byte[]>()),
            (state, _) => { state.List.Add(state.Mutator.Mutate(seeds[0])); return state; }).List.ToArray();
        var first = Run();
        Assert.That(Run(), Is.EqualTo(first));
        Assert.That(first.Distinct(new ByteArrayComparer()).Count(), Is.GreaterThan(40), "mutations should differ from one another");
    }

    /// <summary>
    /// Rewrites the seeds the tool itself makes from seeds/_model (BOM, fingerprint, cache entry, scan index); the
    /// others come from make-seeds.py. Run by hand after a format change: <c>dotnet test --filter Regenerate_tool_made_seeds</c>.
    /// </summary>
    [Test]
    [Explicit("writes into the source tree")]
    public void Regenerate_tool_made_seeds()
    {
        var model = FuzzFamilies.SharedModel.Value;
        var builder = new AiBomBuilder(CycloneDxSchemas.DefaultSpecVersion);
        builder.AddModel(model);
        var bom = builder.Build("2026-01-01T00:00:00Z");
        foreach (var family in (string[])["bom-verify", "bom-validate"])
        {
            Directory.CreateDirectory(FuzzFamilies.Seeds(family));
            File.WriteAllText(FuzzFamilies.Seeds(family, "model.cdx.json"), bom);
        }

        var fingerprint = Fingerprinter.FromModelDirectory(model);
        foreach (var family in (string[])["fingerprint-file", "fingerprint-cache"])
        {
            Directory.CreateDirectory(FuzzFamilies.Seeds(family));
            FingerprintFile.Write(FuzzFamilies.Seeds(family, "model" + FingerprintFile.Extension), fingerprint);
        }

        using var temp = new TempDirectory();
        var file = temp.Combine("model" + FingerprintFile.Extension);
        File.Copy(FuzzFamilies.Seeds("fingerprint-file", "model" + FingerprintFile.Extension), file);
        File.SetLastWriteTimeUtc(file, FuzzFamilies.ScanIndexSeedTime);
        ScanIndex.LoadDirectory(temp.Path);
        Directory.CreateDirectory(FuzzFamilies.Seeds("scan-index"));
        File.Copy(temp.Combine(ScanIndex.IndexFileName), FuzzFamilies.Seeds("scan-index", "index.bin"), overwrite: true);
    }

    private static string WorkDirectory(string family) => Path.Combine(Path.GetTempPath(), "pg-fuzz-" + Environment.ProcessId, family, "case");

    /// <summary>Deletes a case's tree without ever following a link out of it.</summary>
    private static void DeleteTree(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null || entry is FileInfo)
                File.Delete(entry.FullName);
            else
                DeleteTree(entry.FullName);
        }

        Directory.Delete(directory);
    }

    private static int StableHash(string text) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => StableHash(Convert.ToBase64String(obj));
    }
}
