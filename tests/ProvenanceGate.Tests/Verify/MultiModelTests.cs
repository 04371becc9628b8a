using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Verify;

/// <summary>
/// A BOM with two models, each in its own directory: the gate checks each directory against its own model's files,
/// fingerprints and base, and every finding names the model it is about. Both models are the same synthetic layout
/// (same file names), so matching a directory to its model has to fall back on the file hashes.
/// </summary>
[NonParallelizable]
public sealed class MultiModelTests
{
    private static readonly string[] Digest = ["PG4031"];
    private static readonly string[] BothDerived = ["derived", "derived"];
    private static readonly string[] NotDerived = ["PG4070"];
    private static TamperFixture _fixture = null!;

    [OneTimeSetUp]
    public static void OneTimeSetUp() => _fixture = new TamperFixture();

    [OneTimeTearDown]
    public static void OneTimeTearDown() => _fixture.Dispose();

    private static string Describe(GateReport report) => string.Join("\n", report.Diagnostics.Select(d => d.ToString()));

    private static (string Bom, string A, string B) TwoModels(TempDirectory temp) =>
        TwoModelBom.Write(temp, _fixture, declarationsInModelDirectories: false);

    private static GateOptions Options(string bom, params GateModelDirectory[] directories) => new()
    {
        BomPath = bom,
        ModelDirectories = directories,
        BaseFingerprintsDirectory = _fixture.BaseFingerprints,
        Now = TamperFixture.Now,
    };

    [Test]
    public void Tampered_shard_of_one_model_fails_digests_naming_that_model_and_the_other_model_passes()
    {
        using var temp = new TempDirectory();
        var (bom, a, b) = TwoModels(temp);
        TwoModelBom.FlipOneByte(Path.Combine(a, "model-00002-of-00002.safetensors"));

        // Given in the other order, unnamed: each directory still finds its own model.
        var report = Gate.Verify(Options(bom, new GateModelDirectory(b), new GateModelDirectory(a)));

        var digestFindings = report.Findings.Where(f => f.Check == CheckIds.Digests).Select(f => f.Diagnostic).ToList();
        Assert.That(digestFindings.Select(d => d.Code), Is.EqualTo(Digest), Describe(report));
        Assert.That(digestFindings[0].Message, Does.Contain("'model-00002-of-00002.safetensors' of model 'acme/chat-a@1.0.0'"));
        Assert.That(report.Diagnostics.Where(d => d.Message.Contains("chat-b", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error), Is.Empty, Describe(report));
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.Digests).Status, Is.EqualTo(CheckStatus.Fail));
        Assert.That(report.Passed, Is.False);
        Assert.That(report.Lineage.Select(l => l.Verdict), Is.EqualTo(BothDerived), "lineage still ran for both models");
    }

    [Test]
    public void Untampered_two_model_bom_hashes_both_directories()
    {
        using var temp = new TempDirectory();
        var (bom, a, b) = TwoModels(temp);

        var report = Gate.Verify(Options(bom, new GateModelDirectory(a), new GateModelDirectory(b)));

        var digests = report.Checks.Single(c => c.Id == CheckIds.Digests);
        Assert.That(digests.Status, Is.EqualTo(CheckStatus.Pass), Describe(report));
        Assert.That(digests.Reason, Does.Contain("in 2 model directories"));
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.Lineage).Status, Is.EqualTo(CheckStatus.Pass), Describe(report));
    }

    [Test]
    public void Lineage_runs_per_model_with_each_models_own_base_fingerprints()
    {
        using var temp = new TempDirectory();
        var (bom, a, b) = TwoModels(temp);
        // B's own base fingerprint is A's base, not its declared acme/other-base: only B fails.
        var baseFile = Path.Combine(_fixture.BaseFingerprints, "acme--tiny-base" + ProvenanceGate.Fingerprinting.FingerprintFile.Extension);

        var report = Gate.Verify(Options(bom,
            new GateModelDirectory(a, "acme/chat-a", baseFile),
            new GateModelDirectory(b, "acme/chat-b@1.0.0", baseFile)));

        var lineage = report.Lineage.ToDictionary(l => l.Model.Contains("chat-a", StringComparison.Ordinal) ? "a" : "b", l => l.Verdict);
        Assert.That(lineage, Is.EqualTo(new Dictionary<string, string> { ["a"] = "derived", ["b"] = "independent" }), string.Join("\n", report.Lineage));
        var lineageErrors = report.Findings.Where(f => f.Check == CheckIds.Lineage && f.Diagnostic.Severity == DiagnosticSeverity.Error).Select(f => f.Diagnostic).ToList();
        Assert.That(lineageErrors.Select(d => d.Code), Is.EqualTo(NotDerived), Describe(report));
        Assert.That(lineageErrors[0].Message, Does.Contain("'acme/chat-b@1.0.0'"));
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.Digests).Status, Is.EqualTo(CheckStatus.Pass), Describe(report));
    }

    [Test]
    public void Model_without_a_directory_is_reported_as_unchecked_lineage_naming_it()
    {
        using var temp = new TempDirectory();
        var (bom, a, _) = TwoModels(temp);

        var report = Gate.Verify(Options(bom, new GateModelDirectory(a)));

        Assert.That(report.Lineage.Single(l => l.Model.Contains("chat-a", StringComparison.Ordinal)).Verdict, Is.EqualTo("derived"));
        var notChecked = report.Diagnostics.Single(d => d.Code == "PG4073");
        Assert.That(notChecked.Message, Does.Contain("'acme/chat-b@1.0.0'").And.Contain("no model directory given"));
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.Digests).Reason, Does.Contain("not hashed"));
    }

    [Test]
    public void Directory_matching_no_model_or_naming_an_unknown_model_is_PG4004()
    {
        using var temp = new TempDirectory();
        var (bom, a, b) = TwoModels(temp);
        Directory.CreateDirectory(temp.Combine("empty"));

        var noMatch = Assert.Throws<ProvenanceException>(() => Gate.Verify(Options(bom, new GateModelDirectory(temp.Combine("empty")))))!;
        Assert.That(noMatch.Diagnostic.Code, Is.EqualTo("PG4004"));
        Assert.That(noMatch.Message, Does.Contain("empty").And.Contain("REF=DIR"));

        var unknown = Assert.Throws<ProvenanceException>(() => Gate.Verify(Options(bom, new GateModelDirectory(a, "acme/nope"))))!;
        Assert.That(unknown.Diagnostic.Code, Is.EqualTo("PG4004"));

        var twice = Assert.Throws<ProvenanceException>(() => Gate.Verify(Options(bom, new GateModelDirectory(a, "acme/chat-a"), new GateModelDirectory(b, "acme/chat-a@1.0.0"))))!;
        Assert.That(twice.Diagnostic.Code, Is.EqualTo("PG4004"));
        Assert.That(twice.Message, Does.Contain("two directories"));
    }

    [Test]
    public void Cli_takes_repeated_model_dirs_with_optional_refs()
    {
        using var temp = new TempDirectory();
        var (bom, a, b) = TwoModels(temp);
        File.AppendAllText(Path.Combine(b, "config.json"), " ");

        var result = Cli.Run("verify", bom, "--model-dir", "acme/chat-a=" + a, "--model-dir", b, "--base-fingerprints", _fixture.BaseFingerprints,
            "--timestamp", "2026-11-21T12:00:00Z");

        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error PG4031: 'config.json' of model 'acme/chat-b@1.0.0' has sha256"));
        Assert.That(result.Stderr, Does.Not.Contain("of model 'acme/chat-a@1.0.0'"));
    }
}
