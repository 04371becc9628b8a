using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Peft;
using ProvenanceGate.Formats.Tokenizers;
using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Fingerprinting;

/// <summary>PEFT adapters: fingerprinted as the weights they run as, merged with their base on the fly.</summary>
public static partial class Fingerprinter
{
    /// <summary>
    /// The fingerprint of <paramref name="adapterDirectory"/> merged with <paramref name="baseModel"/> (a model directory
    /// or a single model file, of any format). Architecture facts come from the base; the tokenizer from the adapter
    /// directory when it ships one, else from the base.
    /// </summary>
    public static ModelFingerprint FromAdapter(string adapterDirectory, string baseModel, INumericKernels? kernels = null)
    {
        if (!PeftAdapter.IsAdapter(adapterDirectory))
            throw Diagnostics.Diagnostics.AdapterMalformed.Exception(
                $"'{adapterDirectory}' is not a PEFT adapter (adapter_config.json with adapter_model.safetensors or adapter_model.bin)", adapterDirectory);
        if (!Directory.Exists(baseModel) && !File.Exists(baseModel))
            throw Diagnostics.Diagnostics.DirectoryNotFound.Exception($"base model '{baseModel}' does not exist", baseModel);
        if (PeftAdapter.IsAdapter(baseModel))
            throw Diagnostics.Diagnostics.AdapterNeedsBase.Exception($"base model '{baseModel}' is itself an adapter; merge adapters onto a full model", baseModel);
        if (baseModel.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            throw Diagnostics.Diagnostics.AdapterNeedsBase.Exception(
                $"'{baseModel}' is not base weights: an adapter is merged with its base model's weights (a directory or model file), not with a fingerprint", baseModel);
        var baseWeights = WeightFormats.Open(baseModel)
            ?? throw Diagnostics.Diagnostics.ModelNotFound.Exception($"base model '{baseModel}' holds no weights of a known format", baseModel);
        var merged = PeftAdapter.Merge(adapterDirectory, baseWeights);
        var isDirectory = Directory.Exists(baseModel);
        var configPath = Path.Combine(baseModel, "config.json");
        var config = isDirectory && File.Exists(configPath) ? ModelConfig.Read(configPath) : null;
        var tokenizer = TokenizerReader.ReadDirectory(adapterDirectory) ?? (isDirectory ? TokenizerReader.ReadDirectory(baseModel) : null);
        return FromModel(adapterDirectory, config, System.Threading.Tasks.Task.FromResult(tokenizer), kernels ?? NumericKernels.Default, merged);
    }

    private static Diagnostics.ProvenanceException AdapterNeedsBase(string directory) =>
        Diagnostics.Diagnostics.AdapterNeedsBase.Exception(
            $"'{directory}' is a PEFT adapter: its weights are a change to a base model, so it is fingerprinted merged with one (fingerprint --base <base model>, or the declared base in verify --base-fingerprints)",
            directory);
}
