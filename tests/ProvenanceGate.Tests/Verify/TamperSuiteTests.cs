using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Verify;

/// <summary>
/// The tamper suite: each way of cheating a release fails the gate with exactly the expected error codes, and the
/// untampered release passes. Real BOM generator, real signatures, real fingerprints; the baseline policy.
/// </summary>
[NonParallelizable]
public sealed class TamperSuiteTests
{
    private static TamperFixture _fixture = null!;

    [OneTimeSetUp]
    public static void OneTimeSetUp() => _fixture = new TamperFixture();

    [OneTimeTearDown]
    public static void OneTimeTearDown() => _fixture.Dispose();

    private static string ErrorCodes(GateReport report) =>
        string.Join(",", report.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Code).Distinct().Order(StringComparer.Ordinal));

    private static string Describe(GateReport report) => string.Join("\n", report.Diagnostics.Select(d => d.ToString()));

    private static void AssertFailsWith(GateReport report, string expectedCodes)
    {
        Assert.That(ErrorCodes(report), Is.EqualTo(expectedCodes), Describe(report));
        Assert.That(report.Passed, Is.False);
    }

    [Test]
    public void The_untampered_release_passes_every_check()
    {
        var report = Gate.Verify(_fixture.Release().Options());
        Assert.That(ErrorCodes(report), Is.Empty, Describe(report));
        Assert.That(report.Warnings, Is.Zero, Describe(report));
        Assert.That(report.Passed, Is.True);
        Assert.That(report.Checks.Where(c => c.Status != CheckStatus.Pass).Select(c => $"{c.Id}: {c.StatusText} {c.Reason}"), Is.Empty);
        Assert.That(report.Lineage.Single().Verdict, Is.EqualTo("derived"));
    }

    [Test]
    public void Flipping_one_byte_of_a_weight_shard()
    {
        var release = _fixture.Release();
        var shard = Path.Combine(release.ModelDirectory, "model-00002-of-00002.safetensors");
        var bytes = File.ReadAllBytes(shard);
        bytes[^5] ^= 0x40;
        File.WriteAllBytes(shard, bytes);
        AssertFailsWith(Gate.Verify(release.Options()), "PG4031");
    }

    [Test]
    public void Adding_an_unlisted_weight_file()
    {
        var release = _fixture.Release();
        File.Copy(Path.Combine(release.ModelDirectory, "model-00001-of-00002.safetensors"), Path.Combine(release.ModelDirectory, "extra-weights.safetensors"));
        AssertFailsWith(Gate.Verify(release.Options()), "PG4032");
    }

    [Test]
    public void Editing_a_bom_field_after_signing()
    {
        var release = _fixture.Release();
        release.EditBom(bom => Release.Model(bom)["version"] = "1.0.1");
        AssertFailsWith(Gate.Verify(release.Options()), "PG4021");
    }

    [Test]
    public void Signing_with_an_untrusted_key()
    {
        var release = _fixture.Release();
        using var untrusted = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        release.Sign(untrusted);
        AssertFailsWith(Gate.Verify(release.Options()), "PG4021");
    }

    [Test]
    public void Swapping_the_declared_base_for_an_unrelated_model()
    {
        var release = _fixture.Release(TamperFixture.Declaration.Replace("id: acme/tiny-base", "id: acme/other-base", StringComparison.Ordinal));
        var report = Gate.Verify(release.Options());
        AssertFailsWith(report, "PG4070");
        Assert.That(report.Lineage.Single().Verdict, Is.EqualTo("independent"));
        Assert.That(report.Lineage.Single().DeclaredBase, Is.EqualTo("acme/other-base"));
    }

    [Test]
    public void Removing_a_required_field()
    {
        var release = _fixture.Release();
        release.EditBom(bom => Release.Model(bom).Remove("version"));
        release.Sign(_fixture.SigningKey);
        var report = Gate.Verify(release.Options());
        AssertFailsWith(report, "PG4040");
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4040").Message, Does.Contain("EU AI Act Art. 11"));
    }

    [Test]
    public void Declaring_a_permissive_licence_on_a_restricted_base()
    {
        var release = _fixture.Release(TamperFixture.Declaration.Replace("    license: Apache-2.0", "    license: CC-BY-NC-4.0", StringComparison.Ordinal));
        AssertFailsWith(Gate.Verify(release.Options()), "PG4053");
    }

    [Test]
    public void Expiring_an_approval()
    {
        var release = _fixture.Release(TamperFixture.Declaration.Replace("reviewBy: 2027-04-10", "reviewBy: 2026-11-01", StringComparison.Ordinal));
        AssertFailsWith(Gate.Verify(release.Options()), "PG4061");
    }

    [Test]
    public void Planting_a_pickle_that_imports_os_system_beside_the_signed_files()
    {
        var release = _fixture.Release();
        File.WriteAllBytes(Path.Combine(release.ModelDirectory, "pytorch_model.bin"), PickleBuilder.TorchZip(PickleBuilder.OsSystem()));
        AssertFailsWith(Gate.Verify(release.Options()), "PG4032,PG4080");
    }

    [Test]
    public void Shipping_a_listed_and_signed_pickle_that_imports_os_system()
    {
        var release = _fixture.Release(beforeBom: model => File.WriteAllBytes(Path.Combine(model, "training_args.bin"), PickleBuilder.OsSystem()));
        var report = Gate.Verify(release.Options());
        AssertFailsWith(report, "PG4080");
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4080").Message, Does.Contain("os.system"));
    }

    [Test]
    public void Every_failure_is_reported_at_once()
    {
        var release = _fixture.Release(TamperFixture.Declaration.Replace("reviewBy: 2027-04-10", "reviewBy: 2026-11-01", StringComparison.Ordinal));
        File.Copy(Path.Combine(release.ModelDirectory, "model-00001-of-00002.safetensors"), Path.Combine(release.ModelDirectory, "extra.safetensors"));
        File.WriteAllBytes(Path.Combine(release.ModelDirectory, "pytorch_model.bin"), PickleBuilder.OsSystem());
        AssertFailsWith(Gate.Verify(release.Options()), "PG4032,PG4061,PG4080");
    }

    [Test]
    public void A_re_upload_of_the_base_claimed_as_a_fine_tune_warns()
    {
        var report = Gate.Verify(_fixture.Release(perturbation: 0).Options());
        Assert.That(ErrorCodes(report), Is.Empty, Describe(report));
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4071").Severity, Is.EqualTo(DiagnosticSeverity.Warning));
        Assert.That(report.Lineage.Single().Verdict, Is.EqualTo("identical-weights"));
    }

    [Test]
    public void A_closer_undeclared_base_is_reported_beside_the_wrong_declaration()
    {
        var release = _fixture.Release(TamperFixture.Declaration.Replace("id: acme/tiny-base", "id: acme/other-base", StringComparison.Ordinal));
        var report = Gate.Verify(release.Options());
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4072").Severity, Is.EqualTo(DiagnosticSeverity.Warning), Describe(report));
        Assert.That(ErrorCodes(Gate.Verify(release.Options("eu-ai-act"))), Does.Contain("PG4072"), "eu-ai-act fails on a closer undeclared base");
    }

    [Test]
    public void An_attestation_over_the_weights_with_the_bom_as_predicate_passes_and_catches_tampering()
    {
        var release = _fixture.Release();
        string[] shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
        release.Attest(_fixture.SigningKey, shards);
        var options = release.Options() with { SignaturePath = null, BundlePath = release.BundlePath };
        var clean = Gate.Verify(options);
        Assert.That(ErrorCodes(clean), Is.Empty, Describe(clean));
        Assert.That(clean.Checks.Single(c => c.Id == CheckIds.Signature).Status, Is.EqualTo(CheckStatus.Pass));

        release.Attest(_fixture.SigningKey, shards.Take(1));
        AssertFailsWith(Gate.Verify(options), "PG4022");

        release.Attest(_fixture.SigningKey, shards);
        release.EditBom(bom => Release.Model(bom)["version"] = "9.9.9");
        AssertFailsWith(Gate.Verify(options), "PG4021");
    }

    [Test]
    public void The_cli_exits_1_with_canonical_lines_and_0_when_clean()
    {
        var release = _fixture.Release();
        var options = release.Options();
        string[] args = ["verify", release.BomPath, "--key", _fixture.TrustedKeyPath, "--signature", release.SignaturePath, "--model-dir", release.ModelDirectory,
            "--base-fingerprints", _fixture.BaseFingerprints, "--timestamp", "2026-11-21T12:00:00Z", "--format", "json"];
        var clean = Cli.Run(args);
        Assert.That(clean.ExitCode, Is.EqualTo(0), clean.Stderr);
        Assert.That(JsonNode.Parse(clean.Stdout)!["result"]!.GetValue<string>(), Is.EqualTo("pass"));

        File.Copy(Path.Combine(options.ModelDirectory!, "model-00001-of-00002.safetensors"), Path.Combine(options.ModelDirectory!, "slipped-in.safetensors"));
        var failed = Cli.Run(args);
        Assert.That(failed.ExitCode, Is.EqualTo(1));
        Assert.That(failed.Stderr, Does.Match(@"model\.cdx\.json\(\d+,\d+\): error PG4032: weight file 'slipped-in\.safetensors'"));
    }
}
