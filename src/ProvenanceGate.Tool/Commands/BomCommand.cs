using System.CommandLine;
using ProvenanceGate.Bom;
using ProvenanceGate.IO;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance bom`: a CycloneDX ML-BOM for one Hugging Face-style model directory.</summary>
internal static class BomCommand
{
    public static Command Create()
    {
        var modelDir = new Argument<string>("model-dir") { Description = "Hugging Face-style model directory (config.json, weights, tokenizer, README.md)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the BOM here (default: stdout)" };
        var specVersion = new Option<string>("--spec-version") { Description = "CycloneDX spec version", DefaultValueFactory = _ => CycloneDxSchemas.DefaultSpecVersion };
        specVersion.AcceptOnlyFromAmong([.. CycloneDxSchemas.SupportedSpecVersions]);
        var declaration = new Option<string?>("--declaration") { Description = "Provenance declaration (YAML or JSON, schemaVersion: 1) for what no model file says" };
        var timestamp = new Option<string?>("--timestamp") { Description = "metadata.timestamp (RFC 3339 or Unix seconds); default SOURCE_DATE_EPOCH, else now" };
        var command = new Command("bom", "Generate a CycloneDX ML-BOM (JSON) for a model directory.") { modelDir, output, specVersion, declaration, timestamp };
        command.SetHandler(context =>
        {
            var outputPath = context.Get(output);
            var builder = new AiBomBuilder(context.Get(specVersion)!);
            var options = new ModelOptions
            {
                DeclarationPath = context.Get(declaration),
                Exclude = outputPath is null ? [] : [outputPath],
            };
            var directory = context.Get(modelDir)!;
            using (var progress = HashProgress.Create(directory))
            {
                var part = builder.AddModel(directory, options, progress);
                foreach (var warning in part.Warnings)
                    context.Report(warning);
            }

            // Resolve the timestamp before anything is written: a bad --timestamp leaves no output behind.
            var json = builder.Build(context.Get(timestamp));
            if (outputPath is null)
                context.Out.Write(json);
            else
                AtomicFile.WriteAllText(outputPath, json);
            return 0;
        });
        return command;
    }
}

/// <summary>A one-line progress bar on stderr while hashing, only when stderr is a terminal and there is much to hash.</summary>
internal sealed class HashProgress : IProgress<long>, IDisposable
{
    private const long MinimumBytes = 512L * 1024 * 1024;
    private readonly long _total;
    private long _done;
    private int _lastPercent = -1;

    private HashProgress(long total) => _total = total;

    public static HashProgress? Create(string directory)
    {
        if (Console.IsErrorRedirected || !Directory.Exists(directory))
            return null;
        long total;
        try
        {
            total = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return total >= MinimumBytes ? new HashProgress(total) : null;
    }

    public void Report(long value)
    {
        var done = Interlocked.Add(ref _done, value);
        var percent = (int)(done * 100 / _total);
        if (percent == Volatile.Read(ref _lastPercent))
            return;
        Volatile.Write(ref _lastPercent, percent);
        var filled = Math.Min(30, percent * 30 / 100);
        lock (this)
            Console.Error.Write($"\rhashing [{new string('#', filled)}{new string('.', 30 - filled)}] {percent,3}% of {_total / (1024 * 1024)} MiB");
    }

    public void Dispose()
    {
        if (_lastPercent >= 0)
            Console.Error.WriteLine();
    }
}
