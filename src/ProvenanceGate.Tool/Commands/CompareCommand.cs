using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>
/// `dotnet provenance compare &lt;a&gt; &lt;b&gt;`: lineage verdict between two models or fingerprint files.
/// Exit 0 identical-weights/derived, 1 independent or insufficient-evidence (the gate fails closed), 2 input error.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var first = new Argument<string>("a") { Description = "Model directory, model file (.safetensors, .gguf, .onnx, .bin, ...) or .fingerprint.json" };
        var second = new Argument<string>("b") { Description = "Model directory, model file (.safetensors, .gguf, .onnx, .bin, ...) or .fingerprint.json" };
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var noCache = new Option<bool>("--no-cache") { Description = "Do not read or write the fingerprint cache" };
        var command = new Command("compare", "Decide whether two models' weights share lineage: identical-weights, derived, independent or insufficient-evidence.") { first, second, format, noCache };
        var accelerator = AcceleratorOptions.AddTo(command);
        command.SetHandler(context =>
        {
            using var selected = accelerator.Apply(context);
            var cache = context.Get(noCache) ? null : FingerprintCache.Default;
            var a = FingerprintLoader.Load(context.Get(first)!, cache);
            var b = FingerprintLoader.Load(context.Get(second)!, cache);
            var result = LineageComparer.Compare(a, b);
            if (context.Get(format) == "json")
                context.Out.WriteLine(ToJson(a, b, result));
            else
                WriteText(context.Out, a, b, result);

            if (result.Verdict == LineageVerdict.Independent)
                context.Report(Diagnostics.Diagnostics.ModelsDiffer.Error($"'{a.Name}' and '{b.Name}': {result.Reason}"));
            else if (result.Verdict == LineageVerdict.InsufficientEvidence)
                context.Report(Diagnostics.Diagnostics.LineageNotEstablished.Error($"'{a.Name}' and '{b.Name}': {result.Reason}"));
            return result.ExitCode;
        });
        return command;
    }

    internal static void WriteText(TextWriter output, ModelFingerprint a, ModelFingerprint b, LineageComparison result)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{a.Name} vs {b.Name}: {result.VerdictName} (score {Format(result.Score)})"));
        output.WriteLine($"  {result.Reason}");
        foreach (var signal in result.Signals)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {signal.Name,-20} {Format(signal.Score),6}  weight {signal.Weight:0.00}  {signal.Detail}"));
    }

    internal static string Format(double value) => double.IsNaN(value) ? "n/a" : value.ToString("0.000", CultureInfo.InvariantCulture);

    internal static string ToJson(ModelFingerprint a, ModelFingerprint b, LineageComparison result)
    {
        var document = new
        {
            a = a.Name,
            b = b.Name,
            verdict = result.VerdictName,
            score = double.IsNaN(result.Score) ? (double?)null : result.Score,
            reason = result.Reason,
            signals = result.Signals.Select(s => new { name = s.Name, score = double.IsNaN(s.Score) ? (double?)null : Math.Round(s.Score, 4), weight = s.Weight, detail = s.Detail }),
        };
        return JsonSerializer.Serialize(document, JsonOptions);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
