using ProvenanceGate.Diagnostics;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Which accelerator runs: --accelerator over PROVENANCEGATE_ACCELERATOR over auto; auto's fallback (one notice, never
/// an error); an explicit GPU request without a GPU (PG3050); and the CPU path never loading ILGPU.
/// </summary>
[NonParallelizable] // PROVENANCEGATE_ACCELERATOR is process-wide
public sealed class AcceleratorSelectionTests
{
    private string? _previous;

    private static bool AnyGpu => NativeGpuProbe.HasGpu(AcceleratorKind.Cuda) || NativeGpuProbe.HasGpu(AcceleratorKind.OpenCL);

    private static string Model(string name) => RepoPaths.TestData("trained", "models", name);

    [SetUp]
    public void SetUp()
    {
        _previous = Environment.GetEnvironmentVariable(AcceleratorSelector.EnvironmentVariable);
        Environment.SetEnvironmentVariable(AcceleratorSelector.EnvironmentVariable, null);
    }

    [TearDown]
    public void TearDown() => Environment.SetEnvironmentVariable(AcceleratorSelector.EnvironmentVariable, _previous);

    [Test]
    public void Option_wins_over_the_environment_which_wins_over_auto()
    {
        Assert.That(AcceleratorSelector.Resolve(null), Is.EqualTo(AcceleratorKind.Auto));
        Environment.SetEnvironmentVariable(AcceleratorSelector.EnvironmentVariable, " CUDA ");
        Assert.That(AcceleratorSelector.Resolve(null), Is.EqualTo(AcceleratorKind.Cuda));
        Assert.That(AcceleratorSelector.Resolve("cpu"), Is.EqualTo(AcceleratorKind.Cpu));
        Assert.That(AcceleratorSelector.Resolve(""), Is.EqualTo(AcceleratorKind.Cuda), "an empty MSBuild property is 'not set'");
        Environment.SetEnvironmentVariable(AcceleratorSelector.EnvironmentVariable, "gpu");
        var fromEnvironment = Assert.Throws<ProvenanceException>(() => AcceleratorSelector.Resolve(null))!;
        Assert.That(fromEnvironment.Diagnostic.Code, Is.EqualTo("PG3053"));
        Assert.That(fromEnvironment.Diagnostic.Message, Does.StartWith("PROVENANCEGATE_ACCELERATOR: unknown accelerator 'gpu'"));
        Assert.That(AcceleratorSelector.Resolve("opencl"), Is.EqualTo(AcceleratorKind.OpenCL), "a valid option wins over a bad variable");
    }

    [Test]
    public void Auto_without_a_gpu_is_the_simd_cpu_path_and_says_nothing()
    {
        var notices = new List<Diagnostic>();
        Assert.That(AcceleratorSelector.Select(AcceleratorKind.Auto, notices.Add, _ => false), Is.SameAs(ComputeAccelerator.Cpu));
        Assert.That(notices, Is.Empty);
    }

    [Test]
    public void Auto_with_a_driver_that_answers_but_no_usable_device_falls_back_with_one_notice()
    {
        // This machine played with a driver that reports a GPU: ILGPU then loads, finds no such device, and auto falls back.
        Assume.That(AnyGpu, Is.False, "a real GPU would be used");
        var notices = new List<Diagnostic>();
        var chosen = AcceleratorSelector.Select(AcceleratorKind.Auto, notices.Add, kind => kind == AcceleratorKind.Cuda);
        Assert.That(chosen, Is.SameAs(ComputeAccelerator.Cpu));
        Assert.That(notices, Has.Count.EqualTo(1));
        Assert.That(notices[0].Code, Is.EqualTo("PG3051"));
        Assert.That(notices[0].Severity, Is.EqualTo(DiagnosticSeverity.Info));
        Assert.That(notices[0].Message, Does.Contain("CUDA"));
    }

    [TestCase("cuda")]
    [TestCase("opencl")]
    public void Explicit_gpu_without_one_is_pg3050_exit_2_and_writes_nothing(string accelerator)
    {
        Assume.That(AnyGpu, Is.False, "this machine has a GPU");
        using var temp = new TempDirectory();
        var output = temp.Combine("out.fingerprint.json");
        var result = Cli.Run("fingerprint", Model("dev-ft"), "--no-cache", "--accelerator", accelerator, "-o", output);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stderr, Does.Contain($"error PG3050: accelerator '{accelerator}' was asked for, but no"));
        Assert.That(File.Exists(output), Is.False);

        // The same request through the environment, on another verb.
        Environment.SetEnvironmentVariable(AcceleratorSelector.EnvironmentVariable, accelerator);
        var compare = Cli.Run("compare", Model("dev-ft"), Model("dev-base"), "--no-cache");
        Assert.That(compare.ExitCode, Is.EqualTo(2));
        Assert.That(compare.Stderr, Does.Contain("PG3050"));
    }

    [Test]
    public void Unknown_name_is_pg3053_on_every_verb()
    {
        foreach (var args in new[] { new[] { "fingerprint", Model("dev-ft") }, ["compare", Model("dev-ft"), Model("dev-base")], ["scan", Model("dev-ft")], ["verify", "bom.cdx.json"] })
        {
            var result = Cli.Run([.. args, "--accelerator", "tpu"]);
            Assert.That(result.ExitCode, Is.EqualTo(2), args[0]);
            Assert.That(result.Stderr, Does.Contain("error PG3053: --accelerator: unknown accelerator 'tpu'; use one of auto, cpu, cuda, opencl"), args[0]);
        }
    }

    [Test]
    public void Default_run_is_auto_records_its_accelerator_and_verbose_names_it()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out.fingerprint.json");
        var result = Cli.Run("fingerprint", Model("dev-ft"), "--no-cache", "-o", output, "--verbose");
        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        var expected = AcceleratorSelector.Select(AcceleratorKind.Auto, _ => { }).Name;
        Assert.That(FingerprintFile.Read(output).Producer?.Accelerator, Is.EqualTo(expected));
        Assert.That(result.Stderr, Does.Contain($"PG3052: accelerator {expected}: "));
        Assert.That(File.ReadAllText(output), Does.Contain($"\"producer\":{{\"accelerator\":\"{expected}\"}}"));

        var quiet = Cli.Run("fingerprint", Model("dev-ft"), "--no-cache", "-o", output);
        Assert.That(quiet.Stderr, Is.Empty, "without --verbose and without a fallback, auto says nothing");
    }

    [Test]
    public void Environment_selects_the_ilgpu_kernels_and_the_option_overrides_it()
    {
        using var temp = new TempDirectory();
        var output = temp.Combine("out.fingerprint.json");
        Environment.SetEnvironmentVariable(AcceleratorSelector.EnvironmentVariable, "ilgpu-cpu");
        Assert.That(Cli.Run("fingerprint", Model("dev-ft"), "--no-cache", "-o", output).ExitCode, Is.EqualTo(0));
        var onIlgpu = FingerprintFile.Read(output);
        Assert.That(onIlgpu.Producer?.Accelerator, Is.EqualTo("ilgpu-cpu"));

        Assert.That(Cli.Run("fingerprint", Model("dev-ft"), "--no-cache", "-o", output, "--accelerator", "cpu").ExitCode, Is.EqualTo(0));
        var onCpu = FingerprintFile.Read(output);
        Assert.That(onCpu.Producer?.Accelerator, Is.EqualTo("cpu"));
        Assert.That(LineageComparer.Compare(onIlgpu, onCpu).Verdict, Is.EqualTo(LineageVerdict.IdenticalWeights));
    }

    [Test]
    public void Cpu_path_never_loads_ilgpu_and_a_gpu_request_does()
    {
        using var temp = new TempDirectory();
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location,
            [StartupHook.Variable] = "1",
            [AcceleratorSelector.EnvironmentVariable] = null,
        };
        string Loaded(params string[] args)
        {
            var result = ExternalProcess.RunTool(["fingerprint", Model("dev-ft"), "--no-cache", "-o", temp.Combine("f.json"), .. args], environment);
            Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
            return result.Stderr.Split('\n').Single(l => l.StartsWith(StartupHook.Prefix, StringComparison.Ordinal));
        }

        Assert.That(Loaded("--accelerator", "cpu"), Does.Not.Contain("ILGPU").And.Not.Contain("Accelerators.Ilgpu"));
        if (!AnyGpu)
            Assert.That(Loaded(), Does.Not.Contain("ILGPU"), "auto on a machine without a GPU");
        Assert.That(Loaded("--accelerator", "ilgpu-cpu"), Does.Contain("ILGPU").And.Contain("ProvenanceGate.Accelerators.Ilgpu"), "the hook sees loads at all");
    }
}
