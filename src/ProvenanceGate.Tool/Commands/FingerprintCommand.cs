using System.CommandLine;
using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance fingerprint &lt;model&gt; [--base base] [-o f.json]`: compute a weight fingerprint file.</summary>
internal static class FingerprintCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model directory (config.json, tokenizer, weights) or a single model file (.safetensors, .gguf, .onnx, .bin, .pt, .pth, ...)" };
        var baseModel = new Option<string>("--base") { Description = "For a PEFT adapter directory: the base model (directory or file) it is merged with before fingerprinting" };
        var output = new Option<string>("--output", "-o") { Description = "Fingerprint file to write (default: <dir-name>.fingerprint.json in the current directory)" };
        var noCache = new Option<bool>("--no-cache") { Description = "Do not read or write the fingerprint cache" };
        var command = new Command("fingerprint", "Compute a model's weight fingerprint (streamed, bounded memory) and write it as <name>.fingerprint.json.") { model, baseModel, output, noCache };
        var accelerator = AcceleratorOptions.AddTo(command);
        command.SetHandler(context =>
        {
            _ = System.Threading.Tasks.Task.Run(FingerprintFile.PrepareContract);
            using var selected = accelerator.Apply(context);
            var directory = context.Get(model)!;
            if (!Directory.Exists(directory) && !File.Exists(directory))
                throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"model directory '{directory}' does not exist", directory);
            // Merged adapters are not cached: the key would have to cover the base model's files too.
            var fingerprint = context.Get(baseModel) is { } basePath ? Fingerprinter.FromAdapter(directory, basePath)
                : context.Get(noCache) ? Fingerprinter.FromModelDirectory(directory) : FingerprintCache.Default.GetOrCompute(directory);
            var path = context.Get(output) ?? fingerprint.Name + FingerprintFile.Extension;
            FingerprintFile.Write(path, fingerprint);
            context.Out.WriteLine($"{path}: {fingerprint.Model.TensorCount} tensors, {fingerprint.Weights?.Layers.Count ?? 0} layers, residual width {fingerprint.Weights?.ResidualWidth ?? 0}");
            return 0;
        });
        return command;
    }
}
