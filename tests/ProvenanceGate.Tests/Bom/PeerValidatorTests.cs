using ProvenanceGate.Bom;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Tests.Bom;

/// <summary>
/// Cross-checks our BOMs with CycloneDX's own validator (@cyclonedx/cyclonedx-library, tests/peer/cyclonedx).
/// .ci/install-deps.sh runs `npm ci` there; without node or node_modules the test fails in CI and is ignored locally.
/// </summary>
public sealed class PeerValidatorTests
{
    private static string PeerDirectory => RepoPaths.InRepo("tests", "peer", "cyclonedx");

    private static void RequirePeer()
    {
        Prerequisite.Require(
            Directory.Exists(Path.Combine(PeerDirectory, "node_modules", "@cyclonedx", "cyclonedx-library")),
            "tests/peer/cyclonedx/node_modules (run npm ci there, or .ci/install-deps.sh)");
        Prerequisite.Require(ExternalProcess.Run("node", ["--version"]).ExitCode == 0, "node on PATH");
    }

    private static (int ExitCode, string Output) RunPeer(string bom)
    {
        var result = ExternalProcess.Run("node", [Path.Combine(PeerDirectory, "validate-cdx.cjs"), bom], PeerDirectory);
        return (result.ExitCode, result.Output);
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var specVersion in new[] { "1.5", "1.6", "1.7" })
        {
            yield return new TestCaseData(specVersion, 1, false).SetName($"Peer accepts {specVersion} single file, no declaration");
            yield return new TestCaseData(specVersion, 4, false).SetName($"Peer accepts {specVersion} sharded, no declaration");
            yield return new TestCaseData(specVersion, 1, true).SetName($"Peer accepts {specVersion} single file with declaration");
            yield return new TestCaseData(specVersion, 3, true).SetName($"Peer accepts {specVersion} sharded with declaration");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void CycloneDX_library_accepts_our_boms(string specVersion, int shards, bool withDeclaration)
    {
        RequirePeer();
        using var temp = new TempDirectory();
        var model = BomTestModels.Create(temp.Combine("m"), shards, SafetensorsDType.F16);
        var output = temp.Combine("bom.cdx.json");
        var args = new List<string> { "bom", model, "--spec-version", specVersion, "--timestamp", "0", "-o", output };
        if (withDeclaration)
            args.AddRange(["--declaration", BomTestModels.WriteDeclaration(temp.Combine("provenance.yaml"))]);
        var result = Cli.Run([.. args]);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(BomValidator.Validate(File.ReadAllText(output), output), Is.Empty);

        var (exitCode, peerOutput) = RunPeer(output);
        Assert.That(exitCode, Is.EqualTo(0), peerOutput);
        Assert.That(peerOutput, Does.Contain("\"valid\": true"));
    }

    [Test]
    public void CycloneDX_library_accepts_the_composite_ai_bom_and_the_sample()
    {
        RequirePeer();
        using var temp = new TempDirectory();
        var sample = RepoPaths.InRepo("samples", "models", "sample-finetune");
        var builder = new AiBomBuilder("1.6").WithApplication(new ApplicationComponent("SampleApp", "1.0.0"));
        builder.AddLibrary(new LibraryComponent("YamlDotNet", "16.3.0") { License = "MIT" });
        builder.AddModel(sample, new ModelOptions { DeclarationPath = Path.Combine(sample, "provenance.yaml") });
        var output = temp.Combine("ai-bom.cdx.json");
        File.WriteAllText(output, builder.Build("0"));
        var (exitCode, peerOutput) = RunPeer(output);
        Assert.That(exitCode, Is.EqualTo(0), peerOutput);
    }

    [TestCase("1.5")]
    [TestCase("1.6")]
    public void CycloneDX_library_accepts_an_ai_bom_with_undeclared_models_from_a_package(string specVersion)
    {
        // The shape the build writes for a model found in the output: a machine-learning-model with a purl subpath into
        // its package, provenancegate:declared=false, its sidecar files, and the edge package -> model.
        RequirePeer();
        using var temp = new TempDirectory();
        var package = Directory.CreateDirectory(temp.Combine("pkg", "tools")).FullName;
        File.WriteAllBytes(Path.Combine(package, "tiny-add.onnx"), Discovery.TinyModels.OnnxAdd());
        var output = Directory.CreateDirectory(temp.Combine("bin", "Models")).FullName;
        File.Copy(Path.Combine(package, "tiny-add.onnx"), Path.Combine(output, "tiny-add.onnx"));
        File.WriteAllText(Path.Combine(output, "genai_config.json"), "{}");
        var library = new ProvenanceGate.NuGet.NuGetPackage("Acme.Vision", "1.2.0", new string('a', 128), null, [], true, false)
        {
            Directory = temp.Combine("pkg"),
            Files = ["tools/tiny-add.onnx"],
        };
        var builder = new AiBomBuilder(specVersion).WithApplication(new ApplicationComponent("App", "1.0.0"));
        builder.AddLibrary(new LibraryComponent(library.Id, library.Version) { Purl = library.Purl, Properties = [("provenancegate:nuget:signed", "false")] });
        foreach (var file in ProvenanceGate.Discovery.ShippedModelScanner.Scan(temp.Combine("bin"), new ProvenanceGate.NuGet.NuGetDependencyGraph("App", "1.0.0", "net10.0", [library])))
            builder.AddUndeclaredModel(new ShippedModelComponent(file) { PackageRef = file.Origin.Package?.Purl });
        var bom = temp.Combine("ai-bom.cdx.json");
        File.WriteAllText(bom, builder.Build("0"));

        Assert.That(File.ReadAllText(bom), Does.Contain("pkg:nuget/Acme.Vision@1.2.0#tools/tiny-add.onnx"));
        Assert.That(BomValidator.Validate(File.ReadAllText(bom), bom), Is.Empty);
        var (exitCode, peerOutput) = RunPeer(bom);
        Assert.That(exitCode, Is.EqualTo(0), peerOutput);
    }

    [Test]
    public void CycloneDX_library_rejects_a_broken_bom()
    {
        // Guards against a peer that accepts everything.
        RequirePeer();
        using var temp = new TempDirectory();
        var output = temp.Combine("broken.json");
        File.WriteAllText(output, """{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"neural-network","name":"x"}]}""");
        Assert.That(RunPeer(output).ExitCode, Is.EqualTo(1));
    }
}
