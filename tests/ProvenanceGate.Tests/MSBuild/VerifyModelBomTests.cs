using System.Globalization;
using Microsoft.Build.Utilities;
using ProvenanceGate.Build;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Tests.Verify;

namespace ProvenanceGate.Tests.MSBuild;

/// <summary>
/// The build gate with two ProvenanceModel items: each item's directory is checked against its own model in the BOM
/// (files and lineage against its own BaseFingerprint), and a finding names the model it is about.
/// </summary>
[NonParallelizable] // SOURCE_DATE_EPOCH is process-wide
public sealed class VerifyModelBomTests
{
    private static TamperFixture _fixture = null!;
    private string? _previousEpoch;

    [OneTimeSetUp]
    public static void OneTimeSetUp() => _fixture = new TamperFixture();

    [OneTimeTearDown]
    public static void OneTimeTearDown() => _fixture.Dispose();

    // The declarations' approvals have a review-by date: pin "now" so the test does not expire.
    [SetUp]
    public void SetUp()
    {
        _previousEpoch = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", TamperFixture.Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
    }

    [TearDown]
    public void TearDown() => Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", _previousEpoch);

    private static (VerifyModelBom Task, FakeBuildEngine Engine) Create(TempDirectory temp, string bom, bool bWrongBase = false)
    {
        var policy = temp.Combine("policy.yaml");
        File.WriteAllText(policy, "schemaVersion: 1\nextends: baseline\nsignature:\n  required: false\n");
        var tinyBase = Path.Combine(_fixture.BaseFingerprints, "acme--tiny-base" + FingerprintFile.Extension);
        var otherBase = Path.Combine(_fixture.BaseFingerprints, "acme--other-base" + FingerprintFile.Extension);
        var engine = new FakeBuildEngine();
        var task = new VerifyModelBom
        {
            BuildEngine = engine,
            BomPath = bom,
            ProjectDirectory = temp.Path,
            Policy = "policy.yaml",
            Models =
            [
                new TaskItem("a", new Dictionary<string, string> { ["BaseFingerprint"] = tinyBase }),
                new TaskItem("b", new Dictionary<string, string> { ["BaseFingerprint"] = bWrongBase ? tinyBase : otherBase }),
            ],
        };
        return (task, engine);
    }

    [Test]
    public void Two_models_each_checked_against_their_own_files_and_base_fingerprint()
    {
        using var temp = new TempDirectory();
        var (bom, _, _) = TwoModelBom.Write(temp, _fixture, declarationsInModelDirectories: true);
        var (task, engine) = Create(temp, bom);

        Assert.That(task.Execute(), Is.True, string.Join("\n", engine.Errors.Concat(engine.Warnings)));

        Assert.That(engine.Warnings, Is.Empty, "no PG5007: every model's digests and lineage were checked");
        Assert.That(engine.Messages, Has.Some.Contains("gate passed").And.Contains("digests pass").And.Contains("lineage pass"), string.Join("\n", engine.Messages));
    }

    [Test]
    public void Tampered_shard_of_the_second_model_fails_the_build_naming_that_model()
    {
        using var temp = new TempDirectory();
        var (bom, _, b) = TwoModelBom.Write(temp, _fixture, declarationsInModelDirectories: true);
        TwoModelBom.FlipOneByte(Path.Combine(b, "model-00001-of-00002.safetensors"));
        var (task, engine) = Create(temp, bom);

        Assert.That(task.Execute(), Is.False);

        Assert.That(engine.Errors, Has.Count.EqualTo(1), string.Join("\n", engine.Errors));
        Assert.That(engine.Errors[0], Does.Contain("error PG4031: 'model-00001-of-00002.safetensors' of model 'acme/chat-b@1.0.0' has sha256"));
    }

    [Test]
    public void Second_model_not_derived_from_its_own_base_fingerprint_fails_lineage_naming_it()
    {
        using var temp = new TempDirectory();
        var (bom, _, _) = TwoModelBom.Write(temp, _fixture, declarationsInModelDirectories: true);
        var (task, engine) = Create(temp, bom, bWrongBase: true);

        Assert.That(task.Execute(), Is.False);

        // B's BaseFingerprint is A's base: B's weights do not derive from it; A, checked against its own, passes.
        Assert.That(engine.Errors, Has.Count.EqualTo(1), string.Join("\n", engine.Errors));
        Assert.That(engine.Errors[0], Does.Contain("error PG4070: the weights of 'acme/chat-b@1.0.0' do not derive from its declared base 'acme/other-base'"));
    }

    [Test]
    public void Accelerator_property_reaches_the_gate_and_a_bad_one_fails_the_build()
    {
        using var temp = new TempDirectory();
        var (bom, _, _) = TwoModelBom.Write(temp, _fixture, declarationsInModelDirectories: true);
        var (task, engine) = Create(temp, bom);
        task.Accelerator = "ilgpu-cpu";
        Assert.That(task.Execute(), Is.True, string.Join("\n", engine.Errors));
        Assert.That(engine.Messages, Has.Some.StartsWith("ProvenanceGate: accelerator ilgpu-cpu ("));

        (task, engine) = Create(temp, bom);
        task.Accelerator = "tpu";
        Assert.That(task.Execute(), Is.False);
        Assert.That(engine.Errors, Has.Count.EqualTo(1));
        Assert.That(engine.Errors[0], Does.Contain("PG3053").And.Contain("ProvenanceGateAccelerator: unknown accelerator 'tpu'"));
    }
}
