using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Formats.Safetensors;
using YamlDotNet.RepresentationModel;

namespace ProvenanceGate.Bom;

/// <summary>What a model file is for; decides how it is read and how it is labelled in the BOM.</summary>
public enum ModelFileRole
{
    Weights,
    WeightsIndex,
    Config,
    Tokenizer,
    ModelCard,
    Other,
}

public sealed record ModelFile(string RelativePath, string FullPath, long Length, ModelFileRole Role);

/// <summary>
/// A Hugging Face-style model directory, read strictly: files listed in ordinal order of their '/'-separated
/// relative paths, JSON metadata files parsed (malformed: PG1001), the README front matter parsed (PG1002),
/// safetensors headers validated (PG3001) and a shard index checked against the shards present (PG3002).
/// </summary>
public sealed class ModelDirectory
{
    private static readonly string[] WeightExtensions = [".safetensors", ".bin", ".pt", ".pth", ".gguf", ".onnx", ".h5", ".msgpack", ".ckpt", ".pdparams", ".tflite"];
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "vocab.txt", "merges.txt", "added_tokens.json", "spiece.model", "sentencepiece.bpe.model"];
    private static readonly string[] ConfigFiles = ["config.json", "generation_config.json", "adapter_config.json", "preprocessor_config.json", "quantize_config.json"];

    private ModelDirectory(string path) => Path = path;

    public string Path { get; }

    public IReadOnlyList<ModelFile> Files { get; private set; } = [];

    public YamlMappingNode? FrontMatter { get; private set; }

    public JsonObject? Config { get; private set; }

    public JsonObject? AdapterConfig { get; private set; }

    public JsonObject? GenerationConfig { get; private set; }

    public JsonObject? TokenizerConfig { get; private set; }

    public JsonObject? SpecialTokensMap { get; private set; }

    /// <summary>Vocabulary size read from tokenizer.json (model vocab plus added tokens), when present.</summary>
    public int? TokenizerVocabSize { get; private set; }

    public string? TokenizerModelType { get; private set; }

    public IReadOnlyDictionary<string, SafetensorsHeader> SafetensorsHeaders { get; private set; } = new Dictionary<string, SafetensorsHeader>();

    /// <summary>Reads <paramref name="path"/>; <paramref name="exclude"/> are full paths left out (the declaration, the output BOM).</summary>
    public static ModelDirectory Read(string path, IEnumerable<string>? exclude = null)
    {
        if (!Directory.Exists(path))
            throw (File.Exists(path)
                ? Diagnostics.Diagnostics.DirectoryNotFound.Exception($"'{path}' is a file, not a model directory", path)
                : Diagnostics.Diagnostics.DirectoryNotFound.Exception($"model directory '{path}' does not exist", path));

        var root = System.IO.Path.GetFullPath(path);
        var excluded = (exclude ?? []).Select(System.IO.Path.GetFullPath).ToHashSet(StringComparer.Ordinal);
        var directory = new ModelDirectory(path);
        var files = new List<ModelFile>();
        try
        {
            foreach (var (relative, full, isLink) in IO.ModelTree.Walk(root, skipHidden: true))
            {
                if (excluded.Contains(full) || IsBomFile(relative))
                    continue;
                if (isLink)
                {
                    if (IO.ModelTree.LinkProblem(root, full) is { } problem)
                        throw problem;
                    // A link to a directory inside the model directory: its files are already listed where it points.
                    if (Directory.Exists(full))
                        continue;
                }

                files.Add(new ModelFile(relative, full, LengthOf(full), Classify(relative)));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot list model directory '{path}': {ex.Message}", path, inner: ex);
        }

        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        directory.Files = files;
        if (!files.Any(f => f.Role is ModelFileRole.Weights or ModelFileRole.Config))
            throw Diagnostics.Diagnostics.NoModelFiles.Exception($"'{path}' has no weights and no config.json: not a model directory", path);

        directory.ReadMetadata();
        return directory;
    }

    // Hugging Face caches link snapshot files to blobs: the size that matters is the target's, not the link's.
    private static long LengthOf(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is not FileInfo { Exists: true } file)
                throw Diagnostics.Diagnostics.FileNotFound.Exception($"'{path}' is a link to '{info.LinkTarget}', which does not exist", path);
            return file.Length;
        }

        return info.Length;
    }

    private static bool IsBomFile(string relative) =>
        relative.EndsWith(".cdx.json", StringComparison.OrdinalIgnoreCase) || relative.EndsWith(".bom.json", StringComparison.OrdinalIgnoreCase);

    private static ModelFileRole Classify(string relative)
    {
        var name = relative[(relative.LastIndexOf('/') + 1)..];
        if (name.EndsWith(".index.json", StringComparison.Ordinal))
            return ModelFileRole.WeightsIndex;
        if (WeightExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            return ModelFileRole.Weights;
        if (TokenizerFiles.Contains(name, StringComparer.Ordinal))
            return ModelFileRole.Tokenizer;
        if (ConfigFiles.Contains(name, StringComparer.Ordinal))
            return ModelFileRole.Config;
        if (relative.Equals("README.md", StringComparison.OrdinalIgnoreCase))
            return ModelFileRole.ModelCard;
        return ModelFileRole.Other;
    }

    private ModelFile? Top(string name) => Files.FirstOrDefault(f => f.RelativePath == name);

    private void ReadMetadata()
    {
        Config = ReadJsonObject("config.json");
        AdapterConfig = ReadJsonObject("adapter_config.json");
        GenerationConfig = ReadJsonObject("generation_config.json");
        TokenizerConfig = ReadJsonObject("tokenizer_config.json");
        SpecialTokensMap = ReadJsonObject("special_tokens_map.json");
        if (Top("tokenizer.json") is { } tokenizer)
        {
            using var document = ParseJson(tokenizer);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Malformed(tokenizer, "is not a JSON object");
            if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object)
            {
                TokenizerModelType = model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
                var ids = new HashSet<long>();
                if (model.TryGetProperty("vocab", out var vocab) && vocab.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in vocab.EnumerateObject())
                        ids.Add(entry.Value.TryGetInt64(out var id) ? id : ids.Count);
                }
                else if (vocab.ValueKind == JsonValueKind.Array)
                {
                    for (var i = 0; i < vocab.GetArrayLength(); i++)
                        ids.Add(i);
                }

                if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
                {
                    foreach (var token in added.EnumerateArray())
                    {
                        if (token.TryGetProperty("id", out var id) && id.TryGetInt64(out var value))
                            ids.Add(value);
                    }
                }

                TokenizerVocabSize = ids.Count > 0 ? ids.Count : null;
            }
        }

        if (Top("README.md") is { } readme)
            FrontMatter = ReadFrontMatter(readme);

        var headers = new Dictionary<string, SafetensorsHeader>(StringComparer.Ordinal);
        foreach (var file in Files.Where(f => f.RelativePath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)))
            headers[file.RelativePath] = SafetensorsHeader.Read(file.FullPath);
        SafetensorsHeaders = headers;

        foreach (var index in Files.Where(f => f.Role == ModelFileRole.WeightsIndex))
            CheckIndex(index);
    }

    private void CheckIndex(ModelFile index)
    {
        using var document = ParseJson(index, Diagnostics.Diagnostics.SafetensorsIndexMalformed);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw Diagnostics.Diagnostics.SafetensorsIndexMalformed.Exception($"{index.FullPath}: has no weight_map object", index.FullPath);
        var folder = index.RelativePath.Contains('/', StringComparison.Ordinal) ? index.RelativePath[..(index.RelativePath.LastIndexOf('/') + 1)] : "";
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Diagnostics.Diagnostics.SafetensorsIndexMalformed.Exception($"{index.FullPath}: weight_map entry '{entry.Name}' is not a file name", index.FullPath);
            var shard = folder + entry.Value.GetString();
            if (!Files.Any(f => f.RelativePath == shard))
                throw Diagnostics.Diagnostics.SafetensorsIndexMalformed.Exception($"{index.FullPath}: tensor '{entry.Name}' is mapped to '{shard}', which is not in the directory", index.FullPath);
            if (SafetensorsHeaders.TryGetValue(shard, out var header) && !header.Tensors.Any(t => t.Name == entry.Name))
                throw Diagnostics.Diagnostics.SafetensorsIndexMalformed.Exception($"{index.FullPath}: tensor '{entry.Name}' is mapped to '{shard}', which does not contain it", index.FullPath);
        }
    }

    private JsonObject? ReadJsonObject(string name)
    {
        if (Top(name) is not { } file)
            return null;
        var bytes = IO.JsonInput.Read(file.FullPath, IO.InputLimit.ModelConfig, Diagnostics.Diagnostics.ModelFileMalformed);
        try
        {
            return JsonNode.Parse(bytes.Span, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = IO.JsonInput.MaxDepth, AllowDuplicateProperties = false }) as JsonObject
                ?? throw Malformed(file, "is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw Diagnostics.Diagnostics.ModelFileMalformed.Exception($"{file.FullPath}: not valid JSON: {ex.Message}", file.FullPath, ex.LineNumber is { } l ? (int)l + 1 : null);
        }
    }

    private static JsonDocument ParseJson(ModelFile file, Diagnostics.DiagnosticDescriptor? descriptor = null)
    {
        descriptor ??= Diagnostics.Diagnostics.ModelFileMalformed;
        var bytes = IO.JsonInput.Read(file.FullPath, IO.InputLimit.ModelConfig, descriptor);
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = IO.JsonInput.MaxDepth });
        }
        catch (JsonException ex)
        {
            throw descriptor.Exception($"{file.FullPath}: not valid JSON: {ex.Message}", file.FullPath, ex.LineNumber is { } l ? (int)l + 1 : null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot read '{file.FullPath}': {ex.Message}", file.FullPath, inner: ex);
        }
    }

    private static YamlMappingNode? ReadFrontMatter(ModelFile readme)
    {
        var text = IO.InputFile.ReadAllText(readme.FullPath, IO.InputLimit.ModelCard);
        text = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!text.StartsWith("---\n", StringComparison.Ordinal))
            return null;
        var end = text.IndexOf("\n---", 3, StringComparison.Ordinal);
        if (end < 0)
            throw Diagnostics.Diagnostics.ModelCardMalformed.Exception($"{readme.FullPath}: the front matter opened by '---' on line 1 is never closed", readme.FullPath, 1);
        var yaml = "\n" + text[4..(end + 1)]; // the leading newline keeps YAML line numbers equal to file line numbers
        var node = YamlReader.Load(yaml, readme.FullPath, Diagnostics.Diagnostics.ModelCardMalformed);
        return node switch
        {
            null => null,
            YamlMappingNode mapping => mapping,
            _ => throw Diagnostics.Diagnostics.ModelCardMalformed.Exception($"{readme.FullPath}: the front matter is not a mapping of keys to values", readme.FullPath, (int)node.Start.Line),
        };
    }

    private static Diagnostics.ProvenanceException Malformed(ModelFile file, string reason) =>
        Diagnostics.Diagnostics.ModelFileMalformed.Exception($"{file.FullPath}: {reason}", file.FullPath);
}
