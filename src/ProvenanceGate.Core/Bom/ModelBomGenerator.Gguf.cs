using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ProvenanceGate.Formats.Gguf;

namespace ProvenanceGate.Bom;

public static partial class ModelBomGenerator
{
    /// <summary>
    /// What a GGUF file says about its model, for the BOM: the metadata a llama.cpp converter writes (architecture
    /// hyperparameters, tokenizer, licence, declared base models, quantisation) and the tensor infos. Each fact's
    /// source is <c>&lt;file&gt;#metadata</c> or <c>&lt;file&gt;#tensor-infos</c>.
    /// </summary>
    internal sealed class GgufFacts(string relativePath, GgufFile file)
    {
        /// <summary>Metadata strings longer than this (chat templates) are recorded by digest, not copied.</summary>
        private const int MaxValueChars = 1024;

        /// <summary>llama_ftype names (llama.h) of <c>general.file_type</c>.</summary>
        private static readonly string[] FileTypes =
        [
            "F32", "F16", "Q4_0", "Q4_1", "Q4_1_SOME_F16", "Q4_2", "Q4_3", "Q8_0", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
            "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
            "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M", "BF16",
        ];

        public string MetadataSource => relativePath + "#metadata";

        public string TensorSource => relativePath + "#tensor-infos";

        /// <summary>The GGUF weight files of a model directory, headers read (a malformed one is PG3030).</summary>
        public static List<GgufFacts> Read(IEnumerable<ModelFile> weightFiles) => weightFiles
            .Where(f => f.RelativePath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            .Select(f => new GgufFacts(f.RelativePath, GgufFile.Read(f.FullPath)))
            .ToList();

        public string? License => file.Text("general.license");

        /// <summary>
        /// <c>general.base_model.N.*</c> as model ids: the Hugging Face id from <c>repo_url</c> when it has one, else
        /// <c>organization/name</c>, else the name.
        /// </summary>
        public IReadOnlyList<string> BaseModels()
        {
            var count = file.Number("general.base_model.count") ?? 0;
            var ids = new List<string>();
            for (var i = 0; i < Math.Min(count, 64); i++)
            {
                var prefix = string.Create(CultureInfo.InvariantCulture, $"general.base_model.{i}.");
                var url = file.Text(prefix + "repo_url");
                const string Hub = "https://huggingface.co/";
                if (url is not null && url.StartsWith(Hub, StringComparison.Ordinal) && url[Hub.Length..].Trim('/').Split('/') is [var owner, var repo])
                    ids.Add(owner + "/" + repo);
                else if (file.Text(prefix + "name") is { } name)
                    ids.Add(file.Text(prefix + "organization") is { } organization ? organization + "/" + name : name);
            }

            return ids;
        }

        public long ParameterCount => file.Tensors.Sum(t => t.ElementCount);

        public IReadOnlyList<string> TensorTypes => file.Tensors.Select(t => t.Type.ToString()).Distinct().Order(StringComparer.Ordinal).ToList();

        /// <summary>The model's quantisation as llama.cpp names it (<c>general.file_type</c>), else its tensor types.</summary>
        public string Quantization => file.Number("general.file_type") is { } type && type >= 0 && type < FileTypes.Length
            ? FileTypes[type]
            : string.Join(",", TensorTypes);

        /// <summary>Weight facts (from the tensor infos and <c>general.*</c>).</summary>
        public IEnumerable<(string Name, string Value)> WeightProperties()
        {
            yield return ("cdx:ai-ml:model:parameter:count", HumanCount(ParameterCount));
            yield return ("cdx:ai-ml:model:hyperparameter:quantization", Quantization);
            yield return ("provenancegate:weights:parameter-count", ParameterCount.ToString(CultureInfo.InvariantCulture));
            yield return ("provenancegate:weights:tensor-count", file.Tensors.Count.ToString(CultureInfo.InvariantCulture));
            yield return ("provenancegate:weights:dtypes", string.Join(",", TensorTypes));
            yield return ("provenancegate:gguf:version", file.Version.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>
        /// The architecture's hyperparameters under the names config.json facts use, then every scalar metadata key
        /// (arrays by their length, long strings by digest) as <c>provenancegate:gguf:&lt;key&gt;</c>.
        /// </summary>
        public IEnumerable<(string Name, string Value)> MetadataProperties()
        {
            var architecture = file.Text("general.architecture");
            if (architecture is not null)
            {
                foreach (var (key, name) in new[]
                {
                    ("context_length", "context_length"), ("embedding_length", "hidden_size"), ("block_count", "num_hidden_layers"),
                    ("attention.head_count", "num_attention_heads"), ("attention.head_count_kv", "num_key_value_heads"), ("vocab_size", "vocab_size"),
                })
                {
                    if (file.Number(architecture + "." + key) is { } value)
                        yield return ("cdx:ai-ml:model:hyperparameter:" + name, value.ToString(CultureInfo.InvariantCulture));
                }
            }

            foreach (var key in file.KeyOrder)
            {
                var value = file[key]!;
                yield return value.AsArray is { } array
                    ? ($"provenancegate:gguf:{key}:count", array.Count.ToString(CultureInfo.InvariantCulture))
                    : ("provenancegate:gguf:" + key, Text(value));
            }
        }

        /// <summary>Tokenizer facts from <c>tokenizer.ggml.*</c>: model, vocabulary size, special tokens by their text.</summary>
        public IEnumerable<(string Name, string Value)> TokenizerProperties()
        {
            if (file["tokenizer.ggml.tokens"]?.AsArray is not { ElementType: GgufValueType.String } tokens)
                yield break;
            yield return ("cdx:ai-ml:tokenizer:hyperparameter:vocab_size", tokens.Count.ToString(CultureInfo.InvariantCulture));
            if (file.Text("tokenizer.ggml.model") is { } model)
                yield return ("provenancegate:tokenizer:model", model);
            foreach (var token in new[] { "bos", "eos", "pad", "unk" })
            {
                if (file.Number($"tokenizer.ggml.{token}_token_id") is { } id && id >= 0 && id < tokens.Count)
                    yield return ($"cdx:ai-ml:tokenizer:hyperparameter:{token}_token", tokens.Strings[(int)id]);
            }
        }

        public bool HasTokenizer => file["tokenizer.ggml.tokens"] is not null;

        public bool HasHyperparameters => file.Text("general.architecture") is not null;

        private static string Text(GgufValue value) => value.Value switch
        {
            string text when text.Length > MaxValueChars => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))),
            string text => text,
            bool flag => flag ? "true" : "false",
            float number => number.ToString("R", CultureInfo.InvariantCulture),
            double number => number.ToString("R", CultureInfo.InvariantCulture),
            var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
        };
    }
}
