using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;
using ProvenanceGate.Tests.Verify;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Discovery;

/// <summary>
/// The inventory rule: every model the app ships has provenance. A real signed release (the tamper suite's) is shipped
/// into an output folder next to the app's other files; whatever model is added, renamed or swapped there fails the gate.
/// </summary>
[NonParallelizable]
public sealed class InventoryGateTests
{
    private static TamperFixture _fixture = null!;

    [OneTimeSetUp]
    public static void OneTimeSetUp() => _fixture = new TamperFixture();

    [OneTimeTearDown]
    public static void OneTimeTearDown() => _fixture.Dispose();

    /// <summary>An app output folder: the app's files and a copy of the declared model, as a build copies them.</summary>
    private static string Output(Release release)
    {
        var output = Directory.CreateDirectory(Path.Combine(release.Root, "bin")).FullName;
        File.WriteAllText(Path.Combine(output, "App.deps.json"), "{}");
        File.WriteAllBytes(Path.Combine(output, "App.dll"), [0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0, 0xb8]);
        var models = Directory.CreateDirectory(Path.Combine(output, "models", "tiny-chat")).FullName;
        foreach (var file in Directory.EnumerateFiles(release.ModelDirectory))
            File.Copy(file, Path.Combine(models, Path.GetFileName(file)));
        return output;
    }

    private static List<Diagnostic> Inventory(GateReport report) =>
        report.Findings.Where(f => f.Check == CheckIds.Inventory).Select(f => f.Diagnostic).ToList();

    [Test]
    public void An_output_holding_only_declared_models_passes()
    {
        var release = _fixture.Release();
        var report = Gate.Verify(release.Options() with { ScanOutputDirectories = [Output(release)] });

        Assert.That(report.Passed, Is.True, string.Join("\n", report.Diagnostics));
        Assert.That(report.Checks.Single(c => c.Id == CheckIds.Inventory).Status, Is.EqualTo(CheckStatus.Pass));
    }

    [TestCase("extra/tiny-add.onnx")]
    [TestCase("runtimes/linux-x64/native/data.bin")]
    public void A_model_nobody_declared_fails_the_gate_even_renamed(string path)
    {
        var release = _fixture.Release();
        var output = Output(release);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(output, path))!);
        File.WriteAllBytes(Path.Combine(output, path), TinyModels.OnnxAdd());

        var report = Gate.Verify(release.Options() with { ScanOutputDirectories = [output] });

        var finding = Inventory(report).Single();
        Assert.That(finding.Code, Is.EqualTo("PG4090"));
        Assert.That(finding.Severity, Is.EqualTo(DiagnosticSeverity.Error));
        Assert.That(finding.File, Is.EqualTo(Path.Combine(output, path)));
        Assert.That(finding.Message, Does.Contain($"'{path}'").And.Contain("119 bytes").And.Contain("onnx"));
        Assert.That(report.Passed, Is.False);
    }

    [Test]
    public void A_declared_model_swapped_in_the_output_is_no_longer_declared()
    {
        var release = _fixture.Release();
        var output = Output(release);
        var shard = Path.Combine(output, "models", "tiny-chat", "model-00002-of-00002.safetensors");
        var bytes = File.ReadAllBytes(shard);
        bytes[^5] ^= 0x40;
        File.WriteAllBytes(shard, bytes);

        var report = Gate.Verify(release.Options() with { ScanOutputDirectories = [output] });

        Assert.That(Inventory(report).Select(d => d.Code), Is.EqualTo((string[])["PG4090"]));
        Assert.That(Inventory(report)[0].Message, Does.Contain("models/tiny-chat/model-00002-of-00002.safetensors"));
    }

    [Test]
    public void A_policy_exception_with_an_expiry_waives_an_undeclared_model_until_it_expires()
    {
        var release = _fixture.Release();
        var output = Output(release);
        File.WriteAllBytes(Path.Combine(output, "tiny-add.onnx"), TinyModels.OnnxAdd());
        var policy = Path.Combine(release.Root, "policy.yaml");
        File.WriteAllText(policy, """
            schemaVersion: 1
            extends: baseline
            exceptions:
              - code: PG4090
                component: tiny-add.onnx
                expires: 2027-01-31
                reason: vendor model, provenance requested (TICKET-12)
            """);

        var waived = Gate.Verify(release.Options(policy) with { ScanOutputDirectories = [output] });
        var expired = Gate.Verify(release.Options(policy) with { ScanOutputDirectories = [output], Now = new DateTimeOffset(2027, 2, 1, 0, 0, 0, TimeSpan.Zero) });

        Assert.That(waived.Passed, Is.True, string.Join("\n", waived.Diagnostics));
        Assert.That(Inventory(waived).Single().Message, Does.Contain("waived by policy exception until 2027-01-31"));
        Assert.That(Inventory(expired).Single().Severity, Is.EqualTo(DiagnosticSeverity.Error));
    }

    [Test]
    public void An_undeclared_model_component_in_the_bom_fails_on_its_own_and_only_in_the_inventory_check()
    {
        var release = _fixture.Release();
        release.EditBom(bom => bom["components"]!.AsArray().Add(new JsonObject
        {
            ["type"] = "machine-learning-model",
            ["bom-ref"] = "shipped-model:DnnImageModels/ResNet18Onnx/ResNet18.onnx",
            ["name"] = "DnnImageModels/ResNet18Onnx/ResNet18.onnx",
            ["purl"] = "pkg:nuget/Microsoft.ML.DnnImageFeaturizer.ResNet18@0.24.0#tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx",
            ["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-256", ["content"] = new string('c', 64) }),
            ["properties"] = new JsonArray(
                new JsonObject { ["name"] = "provenancegate:declared", ["value"] = "false" },
                new JsonObject { ["name"] = "provenancegate:weights:format", ["value"] = "onnx" },
                new JsonObject { ["name"] = "provenancegate:file:size", ["value"] = "63653533" },
                new JsonObject { ["name"] = "provenancegate:nuget:package", ["value"] = "pkg:nuget/Microsoft.ML.DnnImageFeaturizer.ResNet18@0.24.0" }),
        }));
        release.Sign(_fixture.SigningKey);

        var report = Gate.Verify(release.Options());

        Assert.That(report.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Code), Is.EqualTo((string[])["PG4090"]),
            string.Join("\n", report.Diagnostics));
        Assert.That(report.Diagnostics.Single(d => d.Code == "PG4090").Message,
            Does.Contain("63,653,533 bytes, onnx, from NuGet package pkg:nuget/Microsoft.ML.DnnImageFeaturizer.ResNet18@0.24.0"));
    }

    [Test]
    public void The_cli_reports_the_undeclared_model_with_its_path_and_exit_code_1()
    {
        var release = _fixture.Release();
        var output = Output(release);
        File.WriteAllBytes(Path.Combine(output, "vendor.onnx"), TinyModels.OnnxAdd());

        var result = Cli.Run("verify", release.BomPath, "--key", _fixture.TrustedKeyPath, "--signature", release.SignaturePath,
            "--model-dir", release.ModelDirectory, "--base-fingerprints", _fixture.BaseFingerprints, "--scan-output", output, "--timestamp", "2026-11-21T12:00:00Z");

        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain($"{Path.Combine(output, "vendor.onnx")}: error PG4090: model file 'vendor.onnx'"));
    }

    [Test]
    public void A_missing_output_folder_is_an_input_error()
    {
        var release = _fixture.Release();
        var error = Assert.Throws<ProvenanceException>(() => Gate.Verify(release.Options() with { ScanOutputDirectories = [Path.Combine(release.Root, "no-such-bin")] }));
        Assert.That(error!.Diagnostic.Code, Is.EqualTo("PG0003"));
    }
}
