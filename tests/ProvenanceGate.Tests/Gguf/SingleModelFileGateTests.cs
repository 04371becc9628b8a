using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ProvenanceGate.Formats.Gguf;
using ProvenanceGate.Signing;
using ProvenanceGate.Verification;

namespace ProvenanceGate.Tests.Gguf;

/// <summary>
/// The gate on the model files .NET apps ship (a GGUF, a model.onnx, a pytorch_model.bin, a model.safetensors): a
/// signed BOM of the folder, verified with <c>--model-dir</c> naming the folder or the single file, the lineage checked
/// against the safetensors base. A single file is checked with its own files beside it, not its folder's other models.
/// In the GGUF namespace: its GGUF fixtures live until the namespace's last test.
/// </summary>
public sealed class SingleModelFileGateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] DerivedAndIndependent = ["derived", "independent"];

    private const string Declaration = """
        schemaVersion: 1
        model:
          id: acme/dev-chat
          version: 1.0.0
          license: Apache-2.0
          task: text-generation
        baseModels:
          - id: acme/dev-base
            relation: fine-tune
            license: Apache-2.0
        """;

    /// <summary>A signed release of one model file in its folder, the safetensors base model beside it as base fingerprint.</summary>
    private sealed class Release : IDisposable
    {
        private readonly TempDirectory _temp = new();

        public Release(string format, string source)
        {
            Folder = Directory.CreateDirectory(_temp.Combine("model")).FullName;
            File = Path.Combine(Folder, Place(format, source, Folder));
            Declaration = _temp.Combine("provenance.yaml");
            System.IO.File.WriteAllText(Declaration, SingleModelFileGateTests.Declaration);
            Bom = _temp.Combine("model.cdx.json");
            var generated = Cli.Run("bom", Folder, "--declaration", Declaration, "--timestamp", "2026-11-01T00:00:00Z", "-o", Bom);
            Assert.That(generated.ExitCode, Is.EqualTo(0), generated.Stderr);
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            Signature = Bom + ".sig";
            BlobSigner.Write(BlobSigner.SignFile(key, Bom), Signature, null);
            PublicKey = _temp.Combine("cosign.pub");
            System.IO.File.WriteAllText(PublicKey, key.ExportSubjectPublicKeyInfoPem());
            // The safetensors base as users keep it: its model directory, matched to the declared base by name.
            Bases = Directory.CreateDirectory(_temp.Combine("bases")).FullName;
            Copy(Trained("dev-base"), Path.Combine(Bases, "dev-base"));
        }

        public string Folder { get; }

        public string File { get; }

        public string Declaration { get; }

        public string Bom { get; }

        public string Signature { get; }

        public string PublicKey { get; }

        public string Bases { get; }

        public CliResult Verify(string modelDir) =>
            Cli.Run("verify", Bom, "--model-dir", modelDir, "--key", PublicKey, "--signature", Signature, "--base-fingerprints", Bases,
                "--timestamp", "2026-11-21T12:00:00Z", "--format", "json");

        public GateOptions Options(string modelDir) => new()
        {
            BomPath = Bom,
            TrustedKeyReferences = [PublicKey],
            SignaturePath = Signature,
            ModelDirectory = modelDir,
            BaseFingerprintsDirectory = Bases,
            Now = Now,
        };

        public void Dispose() => _temp.Dispose();
    }

    private static string Trained(string model) => RepoPaths.TestData("trained", "models", model);

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    /// <summary>Puts the <paramref name="format"/> file of model <paramref name="source"/> (dev-ft or dev-twin) in <paramref name="folder"/>, with the files it is shipped with; returns its name.</summary>
    private static string Place(string format, string source, string folder)
    {
        switch (format)
        {
            case "gguf":
                // The converter's metadata also claims dev-base: only the weights may decide.
                File.Copy(GgufFixtures.Trained(source, GgmlType.Q8_0, baseModel: "dev-base"), Path.Combine(folder, source + ".Q8_0.gguf"));
                return source + ".Q8_0.gguf";
            case "onnx":
                Copy(RepoPaths.TestData("onnx", source), folder);
                return "model.onnx";
            case "pytorch":
                Copy(RepoPaths.TestData("pytorch", source == "dev-ft" ? "dev-ft" : "dev-twin-legacy"), folder);
                return Directory.GetFiles(folder, "*.bin").Select(Path.GetFileName).Single()!;
            default:
                Copy(Trained(source), folder);
                File.Delete(Path.Combine(folder, "card.json"));
                return "model.safetensors";
        }
    }

    private static JsonObject Json(CliResult result) => JsonNode.Parse(result.Stdout)!.AsObject();

    private static string Status(JsonObject report, string check) =>
        (string)report["checks"]!.AsArray().Single(c => (string?)c!["id"] == check)!["status"]!;

    [TestCase("gguf", "dev-ft", "derived", TestName = "Gate on a single file: the Q8_0 GGUF of a fine-tune of the safetensors base passes")]
    [TestCase("gguf", "dev-twin", "independent", TestName = "Gate on a single file: the GGUF of an independent model claiming the base fails PG4070")]
    [TestCase("onnx", "dev-ft", "derived", TestName = "Gate on a single file: the ONNX export of a fine-tune passes")]
    [TestCase("onnx", "dev-twin", "independent", TestName = "Gate on a single file: the ONNX export of an independent model fails PG4070")]
    [TestCase("pytorch", "dev-ft", "derived", TestName = "Gate on a single file: the pytorch_model.bin of a fine-tune passes")]
    [TestCase("pytorch", "dev-twin", "independent", TestName = "Gate on a single file: the legacy torch.save of an independent model fails PG4070")]
    [TestCase("safetensors", "dev-ft", "derived", TestName = "Gate on a single file: the model.safetensors of a fine-tune passes")]
    [TestCase("safetensors", "dev-twin", "independent", TestName = "Gate on a single file: the model.safetensors of an independent model fails PG4070")]
    public void Signed_bom_is_verified_on_the_single_model_file(string format, string source, string verdict)
    {
        using var release = new Release(format, source);
        // Another model lands in the same folder after signing: not this model's content, so no concern of its gate.
        File.Copy(GgufFixtures.Trained("dev-base", GgmlType.F16), Path.Combine(release.Folder, "other.gguf"));

        var result = release.Verify(release.File);
        var report = Json(result);
        var lineage = report["lineage"]!.AsArray();
        Assert.That(lineage, Is.Not.Empty, result.Stdout + result.Stderr);
        Assert.That(lineage.Select(l => (string?)l!["verdict"]), Is.All.EqualTo(verdict), result.Stdout);
        Assert.That(Status(report, CheckIds.Signature), Is.EqualTo("pass"));
        Assert.That(Status(report, CheckIds.Digests), Is.EqualTo("pass"), result.Stderr);
        Assert.That(result.Stderr, Does.Not.Contain("other.gguf"));
        Assert.That((string?)report["checks"]!.AsArray().Single(c => (string?)c!["id"] == CheckIds.Digests)!["reason"], Does.Match(@"^[1-9][0-9]* file\(s\) hashed"), "the model file and its own files beside it are hashed");
        if (verdict == "derived")
        {
            Assert.That(lineage.Select(l => (double)l!["score"]!), Is.All.GreaterThanOrEqualTo(ProvenanceGate.Fingerprinting.LineageComparer.DerivedThreshold + 0.3));
            Assert.That(result.ExitCode, Is.EqualTo(0), result.Stdout + result.Stderr);
        }
        else
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("error PG4070"));
        }
    }

    [Test]
    public void Signed_gguf_folder_is_verified_and_a_model_added_to_it_is_unlisted()
    {
        using var release = new Release("gguf", "dev-ft");
        var clean = release.Verify(release.Folder);
        Assert.That(clean.ExitCode, Is.EqualTo(0), clean.Stdout + clean.Stderr);
        Assert.That(Json(clean)["lineage"]!.AsArray().Select(l => (string?)l!["verdict"]), Is.All.EqualTo("derived"));

        // The folder is the model: a second GGUF in it is unsigned weight content. The file alone is still its signed self.
        File.Copy(GgufFixtures.Trained("dev-twin", GgmlType.F16), Path.Combine(release.Folder, "other.gguf"));
        var folder = release.Verify(release.Folder);
        Assert.That(folder.ExitCode, Is.EqualTo(1));
        Assert.That(folder.Stderr, Does.Contain("error PG4032").And.Contain("other.gguf"));
        Assert.That(release.Verify(release.File).ExitCode, Is.EqualTo(0));
    }

    [Test]
    public void Changed_single_file_fails_its_digest()
    {
        using var release = new Release("gguf", "dev-ft");
        // Another model's bytes under the signed name: the digest says so, whatever the lineage would say.
        File.Copy(GgufFixtures.Trained("dev-ft", GgmlType.F16), release.File, overwrite: true);
        var report = Gate.Verify(release.Options(release.File));
        Assert.That(report.Diagnostics.Select(d => d.Code), Does.Contain("PG4031"));
        Assert.That(report.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void Single_file_not_in_the_bom_is_an_unlisted_weight_file()
    {
        using var release = new Release("gguf", "dev-ft");
        // A PR author points the gate at a model file of their own beside the signed one.
        var foreign = Path.Combine(release.Folder, "dev-twin.Q8_0.gguf");
        File.Copy(GgufFixtures.Trained("dev-twin", GgmlType.Q8_0, baseModel: "dev-base"), foreign);
        var report = Gate.Verify(release.Options(foreign));
        Assert.That(report.Diagnostics.Where(d => d.Severity == Diagnostics.DiagnosticSeverity.Error).Select(d => d.Code), Does.Contain("PG4032"));
        Assert.That(report.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void Single_onnx_file_is_checked_with_the_files_it_is_read_with()
    {
        using var release = new Release("onnx", "dev-ft");
        Assert.That(Gate.Verify(release.Options(release.File)).ExitCode, Is.EqualTo(0));

        // The tokenizer beside the file is read with it (anchor tokens): listed, so its loss or change is the gate's concern.
        File.Delete(Path.Combine(release.Folder, "tokenizer.json"));
        var missing = Gate.Verify(release.Options(release.File));
        Assert.That(missing.Diagnostics.Select(d => d.Code), Does.Contain("PG4030"));
        Assert.That(missing.ExitCode, Is.EqualTo(1));

        // An unlisted config.json beside it would feed the fingerprint: reported, as in a model directory.
        File.Copy(Path.Combine(Trained("dev-twin"), "tokenizer.json"), Path.Combine(release.Folder, "tokenizer.json"));
        File.Copy(Path.Combine(Trained("dev-twin"), "config.json"), Path.Combine(release.Folder, "config.json"));
        var unlisted = Gate.Verify(release.Options(release.File));
        Assert.That(unlisted.Diagnostics.Where(d => d.Code == "PG4032").Select(d => d.Message), Has.Some.Contain("config.json"));
    }

    [Test]
    public void Two_model_files_are_each_matched_to_their_model_by_content()
    {
        using var temp = new TempDirectory();
        var builder = new ProvenanceGate.Bom.AiBomBuilder();
        var files = new List<string>();
        foreach (var (id, source) in new[] { ("acme/chat-a", "dev-ft"), ("acme/chat-b", "dev-twin") })
        {
            var folder = Directory.CreateDirectory(temp.Combine(source)).FullName;
            files.Add(Path.Combine(folder, Place("gguf", source, folder)));
            var declaration = temp.Combine(source + ".yaml");
            File.WriteAllText(declaration, Declaration.Replace("acme/dev-chat", id, StringComparison.Ordinal));
            builder.AddModel(folder, new ProvenanceGate.Bom.ModelOptions { DeclarationPath = declaration });
        }

        var bom = temp.Combine("app.cdx.json");
        File.WriteAllText(bom, builder.Build("2026-11-01T00:00:00Z"));
        var bases = Directory.CreateDirectory(temp.Combine("bases")).FullName;
        Copy(Trained("dev-base"), Path.Combine(bases, "dev-base"));
        // Given in the other order, as plain files: each is matched to the model whose listed file it is.
        var report = Gate.Verify(new GateOptions
        {
            BomPath = bom,
            PolicyReference = "baseline",
            ModelDirectories = [new GateModelDirectory(files[1]), new GateModelDirectory(files[0])],
            BaseFingerprintsDirectory = bases,
            Now = Now,
        });
        Assert.That(report.Diagnostics.Select(d => d.Code), Has.None.StartsWith("PG403").And.None.EqualTo("PG4004"));
        var verdicts = report.Lineage.GroupBy(l => l.Model).ToDictionary(g => g.Key, g => g.Select(l => l.Verdict).Distinct().Single());
        Assert.That(verdicts.Values, Is.EquivalentTo(DerivedAndIndependent), string.Join("; ", report.Lineage));
        Assert.That(verdicts.Single(v => v.Key.Contains("chat-a", StringComparison.Ordinal)).Value, Is.EqualTo("derived"));
    }

    [Test]
    public void A_file_that_is_not_a_model_is_an_input_error()
    {
        using var release = new Release("gguf", "dev-ft");
        var result = release.Verify(release.Declaration);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stderr, Does.Contain("error PG").And.Contain("not a model file"));
    }
}
