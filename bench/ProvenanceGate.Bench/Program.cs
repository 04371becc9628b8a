using ProvenanceGate.Bench;

// Every target is reported as a ratio against a baseline measured in the same run: these machines are noisy,
// so absolute times mean little and a ratio means a lot. Usage: dotnet run -c Release --project bench/ProvenanceGate.Bench -- [scenario...] [--quick]
var quick = args.Contains("--quick");
var selected = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
IBenchScenario[] scenarios =
[
    // BOM
    new BomHashingScenario(),

    // fingerprinting
    new FingerprintThroughputScenario(),
    new FingerprintCompareScenario(),
    new FingerprintScanScenario(),
    new FingerprintMemoryScenario(),
    new FingerprintProcessScenario(),
    new PyTorchCheckpointScenario(),
    new OnnxThroughputScenario(),
    new FingerprintMemoryScenario("onnx-memory", OnnxBenchModel.Get),
    new GgufScenario(),
    new AcceleratorScenario(),

    // verify gate
    new VerifyGateScenario(),

    // MSBuild
    new MSBuildIncrementalScenario(),
];

var report = new BenchReport();
foreach (var scenario in scenarios.Where(s => selected.Count == 0 || selected.Contains(s.Name)))
{
    Console.Error.WriteLine($"== {scenario.Name}");
    scenario.Run(report, quick);
}

report.Print(Console.Out);
return report.AllGoalsMet ? 0 : 1;
