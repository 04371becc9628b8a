using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.Bom;

/// <summary>Small synthetic model directories with a Hugging Face card and a declaration, for the BOM tests.</summary>
internal static class BomTestModels
{
    public const string FrontMatter = """
        ---
        license: apache-2.0
        base_model: acme/base-7b
        base_model_relation: finetune
        datasets:
        - acme/instructions
        language: [en, de]
        pipeline_tag: text-generation
        tags: [llama, test]
        model-index:
        - name: tiny
          results:
          - task: {type: text-generation}
            dataset: {name: held-out, type: acme/instructions}
            metrics:
            - {type: accuracy, value: 0.5}
        ---
        # tiny
        """;

    public const string Declaration = """
        schemaVersion: 1
        model:
          id: acme/tiny
          revision: 0123456789abcdef0123456789abcdef01234567
          version: 2.0.0
          supplier: {name: ACME, url: https://acme.example}
          approach: supervised
        baseModels:
          - id: acme/base-7b
            relation: fine-tune
            revision: 89abcdef0123456789abcdef0123456789abcdef
            sha256: 1111111111111111111111111111111111111111111111111111111111111111
        datasets:
          - name: acme/instructions
            version: "1"
            license: CC-BY-4.0
            consentBasis: contract
            containsPii: false
            knownBiases: [English-heavy]
            filtering: [dedup]
        training:
          method: lora
          hyperparameters: {learning_rate: "2e-4", epochs: "3"}
          seeds: {init: "42"}
          hardware: 1x H100
          frameworks: [{name: peft, version: 0.13.0}]
          startedAt: 2026-10-01T00:00:00Z
          energy: {consumptionKwh: "12.5", co2eqTonnes: "0.004", provider: ACME cloud, energySource: solar}
        intendedUse: [demos]
        prohibitedUse: [medical advice]
        approvals:
          - approver: alice@acme.example
            role: model owner
            date: 2026-10-10
            reviewBy: 2027-04-10
        """;

    public static string Create(string directory, int shards = 1, SafetensorsDType dtype = SafetensorsDType.F32, bool card = true, int seed = 1)
    {
        var spec = new SyntheticModelSpec { Seed = seed, VocabSize = 64, HiddenSize = 16, IntermediateSize = 32, Layers = 2 };
        SyntheticModel.WriteDirectory(directory, spec, SyntheticModel.CreateTensors(spec), dtype, shards);
        if (card)
            File.WriteAllText(Path.Combine(directory, "README.md"), FrontMatter.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        return directory;
    }

    public static string WriteDeclaration(string path, string? text = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text ?? Declaration);
        return path;
    }
}
