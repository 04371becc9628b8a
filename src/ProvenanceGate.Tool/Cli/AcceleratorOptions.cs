using System.CommandLine;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Tool.Cli;

/// <summary>
/// <c>--accelerator</c> and <c>--verbose</c>, one definition shared by every verb that fingerprints (fingerprint,
/// compare, scan, verify). The choice applies to the command's whole run, workers included.
/// </summary>
internal sealed class AcceleratorOptions
{
    private readonly Option<string> _accelerator = new("--accelerator")
    {
        Description = $"Where the fingerprint kernels run: auto (a CUDA, then an OpenCL GPU when one answers, else the CPU), cpu, cuda or opencl. Default: ${AcceleratorSelector.EnvironmentVariable}, else auto",
    };

    private readonly Option<bool> _verbose = new("--verbose") { Description = "Say which accelerator runs the fingerprint kernels (PG3052 on stderr)" };

    public static AcceleratorOptions AddTo(Command command)
    {
        var options = new AcceleratorOptions();
        command.Options.Add(options._accelerator);
        command.Options.Add(options._verbose);
        return options;
    }

    /// <summary>Selects the accelerator (PG3050/PG3053 on a bad request; a PG3051 notice on fallback) and makes it current until disposed.</summary>
    public IDisposable Apply(CliContext context)
    {
        var accelerator = AcceleratorSelector.Select(AcceleratorSelector.Resolve(context.Get(_accelerator)), context.Report);
        if (context.Get(_verbose))
            context.Report(Diagnostics.Diagnostics.AcceleratorChosen.Info($"accelerator {accelerator.Name}: {accelerator.Device}"));
        return accelerator.Use();
    }
}
