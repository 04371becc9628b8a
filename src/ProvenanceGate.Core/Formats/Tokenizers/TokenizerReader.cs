using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ProvenanceGate.Formats.Tokenizers;

/// <summary>
/// A tokenizer's vocabulary as strings by id, normalised so that tokenizers of different styles can be compared
/// by string: SentencePiece's U+2581 and byte-level BPE's encoded bytes (U+0120 for space, ...) both become the
/// text they stand for.
/// </summary>
public sealed record TokenizerData(string Kind, string SourceFile, IReadOnlyList<string?> Tokens, int MergeCount, string MergesDigest, IReadOnlySet<string> SpecialTokens)
{
    public int VocabularySize => Tokens.Count(t => t is not null);
}

/// <summary>Reads tokenizer.json (BPE, Unigram, WordPiece), SentencePiece tokenizer.model, or vocab.json + merges.txt.</summary>
public static class TokenizerReader
{
    public const int MaxTokens = 4_000_000;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>The first tokenizer found in <paramref name="directory"/>, or null when there is none.</summary>
    public static TokenizerData? ReadDirectory(string directory)
    {
        var json = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(json))
            return ReadTokenizerJson(json);
        var model = Path.Combine(directory, "tokenizer.model");
        if (File.Exists(model))
            return ReadSentencePiece(model);
        var vocab = Path.Combine(directory, "vocab.json");
        if (File.Exists(vocab))
            return ReadVocabJson(vocab, Path.Combine(directory, "merges.txt"));
        return null;
    }

    public static TokenizerData ReadTokenizerJson(string path)
    {
        // Parsed from the UTF-8 bytes as they are: a string copy would only be transcoded back for the parser.
        var utf8 = ReadUtf8(path);
        try
        {
            using var document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                throw Malformed(path, "no \"model\" object");
            var byteLevel = utf8.AsSpan().IndexOf("\"ByteLevel\""u8) >= 0;
            var type = model.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString()! : "";
            var tokens = new Dictionary<int, string>();
            var merges = new List<string>();
            if (!model.TryGetProperty("vocab", out var vocab))
                throw Malformed(path, "model has no vocab");
            if (vocab.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in vocab.EnumerateObject())
                    Add(path, tokens, ReadId(path, entry.Value), entry.Name);
                if (string.IsNullOrEmpty(type))
                    type = model.TryGetProperty("merges", out _) ? "BPE" : "WordPiece";
            }
            else if (vocab.ValueKind == JsonValueKind.Array)
            {
                // Unigram: [[piece, score], ...], ids are positions.
                var id = 0;
                foreach (var entry in vocab.EnumerateArray())
                {
                    if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() < 1 || entry[0].ValueKind != JsonValueKind.String)
                        throw Malformed(path, $"unigram vocab entry {id} is not [piece, score]");
                    Add(path, tokens, id++, entry[0].GetString()!);
                }

                if (string.IsNullOrEmpty(type))
                    type = "Unigram";
            }
            else
            {
                throw Malformed(path, "vocab is neither an object nor an array");
            }

            if (model.TryGetProperty("merges", out var mergesElement) && mergesElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var merge in mergesElement.EnumerateArray())
                {
                    merges.Add(merge.ValueKind switch
                    {
                        JsonValueKind.String => merge.GetString()!,
                        JsonValueKind.Array when merge.GetArrayLength() == 2 => $"{merge[0].GetString()} {merge[1].GetString()}",
                        _ => throw Malformed(path, "a merge is neither \"a b\" nor [a, b]"),
                    });
                }
            }

            var special = new HashSet<string>(StringComparer.Ordinal);
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var token in added.EnumerateArray())
                {
                    if (token.ValueKind != JsonValueKind.Object || !token.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String || !token.TryGetProperty("id", out var idElement))
                        throw Malformed(path, "an added token has no id or content");
                    var id = ReadId(path, idElement);
                    tokens[id] = content.GetString()!;
                    if (token.TryGetProperty("special", out var isSpecial) && isSpecial.ValueKind == JsonValueKind.True)
                        special.Add(content.GetString()!);
                }
            }

            var kind = type.ToUpperInvariant() switch
            {
                "BPE" => byteLevel ? "bpe-byte-level" : "bpe",
                "UNIGRAM" => "unigram",
                "WORDPIECE" => "wordpiece",
                "WORDLEVEL" => "wordlevel",
                _ => type.ToLowerInvariant(),
            };
            return Build(kind, path, tokens, merges, special, byteLevel);
        }
        catch (JsonException ex)
        {
            throw Malformed(path, $"not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            throw Malformed(path, ex.Message);
        }
    }

    public static TokenizerData ReadVocabJson(string vocabPath, string mergesPath)
    {
        var text = ReadText(vocabPath);
        var tokens = new Dictionary<int, string>();
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Malformed(vocabPath, "not a JSON object of token -> id");
            foreach (var entry in document.RootElement.EnumerateObject())
                Add(vocabPath, tokens, ReadId(vocabPath, entry.Value), entry.Name);
        }
        catch (JsonException ex)
        {
            throw Malformed(vocabPath, $"not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // A token that is an escaped lone surrogate.
            throw Malformed(vocabPath, ex.Message);
        }

        var merges = new List<string>();
        if (File.Exists(mergesPath))
        {
            foreach (var line in ReadText(mergesPath).Split('\n'))
            {
                var merge = line.TrimEnd('\r');
                if (merge.Length == 0 || merge.StartsWith("#version", StringComparison.Ordinal))
                    continue;
                merges.Add(merge);
            }
        }

        return Build("bpe-byte-level", vocabPath, tokens, merges, new HashSet<string>(StringComparer.Ordinal), byteLevel: true);
    }

    /// <summary>
    /// SentencePiece ModelProto, parsed by hand: field 1 is the repeated piece message (1 = piece, 2 = score,
    /// 3 = type), field 2 the trainer spec whose field 3 is the model type (1 unigram, 2 BPE, 3 word, 4 char).
    /// </summary>
    public static TokenizerData ReadSentencePiece(string path)
    {
        var bytes = IO.InputFile.ReadAllBytes(path, IO.InputLimit.Tokenizer);
        var tokens = new Dictionary<int, string>();
        var special = new HashSet<string>(StringComparer.Ordinal);
        var modelType = 1;
        var reader = new ProtoReader(bytes, path);
        var id = 0;
        while (!reader.End)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == 2)
            {
                var piece = reader.ReadMessage();
                string? text = null;
                var type = 1;
                while (!piece.End)
                {
                    var (pieceField, pieceWire) = piece.ReadTag();
                    if (pieceField == 1 && pieceWire == 2)
                        text = piece.ReadString();
                    else if (pieceField == 3 && pieceWire == 0)
                        type = (int)piece.ReadVarint();
                    else
                        piece.Skip(pieceWire);
                }

                if (text is null)
                    throw Malformed(path, $"piece {id} has no text");
                // Types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
                if (type is 2 or 3)
                    special.Add(text);
                Add(path, tokens, id++, text);
            }
            else if (field == 2 && wire == 2)
            {
                var trainer = reader.ReadMessage();
                while (!trainer.End)
                {
                    var (trainerField, trainerWire) = trainer.ReadTag();
                    if (trainerField == 3 && trainerWire == 0)
                        modelType = (int)trainer.ReadVarint();
                    else
                        trainer.Skip(trainerWire);
                }
            }
            else
            {
                reader.Skip(wire);
            }
        }

        if (tokens.Count == 0)
            throw Malformed(path, "no pieces (not a SentencePiece model)");
        var kind = modelType switch
        {
            2 => "sentencepiece-bpe",
            3 => "sentencepiece-word",
            4 => "sentencepiece-char",
            _ => "sentencepiece-unigram",
        };
        return Build(kind, path, tokens, [], special, byteLevel: false);
    }

    /// <summary>A vocabulary given as tokens by id (a GGUF file's <c>tokenizer.ggml.tokens</c>), normalised like the files above.</summary>
    public static TokenizerData FromVocabulary(string kind, string path, IReadOnlyList<string> tokens, IReadOnlyList<string> merges, HashSet<string> special, bool byteLevel)
    {
        if (tokens.Count > MaxTokens)
            throw Malformed(path, $"{tokens.Count} tokens, above the {MaxTokens} limit");
        var byId = new Dictionary<int, string>(tokens.Count);
        for (var id = 0; id < tokens.Count; id++)
            byId[id] = tokens[id];
        return Build(kind, path, byId, [.. merges], special, byteLevel);
    }

    private static TokenizerData Build(string kind, string path, Dictionary<int, string> tokens, List<string> merges, HashSet<string> special, bool byteLevel)
    {
        // A loop, not Keys.Max(): that generic code starts at tier 0 and is recompiled mid-loop in a fresh process.
        long size = 0;
        foreach (var id in tokens.Keys)
            size = Math.Max(size, (long)id + 1);
        if (size > MaxTokens)
            throw Malformed(path, $"token id {size - 1} is above the {MaxTokens} limit");
        var byId = new string?[size];
        foreach (var (id, token) in tokens)
            byId[id] = special.Contains(token) ? token : Normalise(token, byteLevel);
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', merges))));
        return new TokenizerData(kind, path, byId, merges.Count, digest, special);
    }

    /// <summary>The text a token stands for: U+2581 -> space; byte-level BPE characters -> their bytes, decoded as UTF-8.</summary>
    public static string Normalise(string token, bool byteLevel)
    {
        if (!byteLevel)
            return token.Replace('\u2581', ' ');
        Span<byte> buffer = stackalloc byte[256];
        var bytes = token.Length <= buffer.Length ? buffer[..token.Length] : new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c >= ByteDecoder.Length || ByteDecoder[c] < 0)
                return token.Replace('\u2581', ' ');
            bytes[i] = (byte)ByteDecoder[c];
        }

        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>
    /// GPT-2's bytes_to_unicode table, inverted and indexed by character (all of them are below U+0144):
    /// printable bytes map to themselves, the rest to U+0100.. in order; -1 marks characters outside the table.
    /// </summary>
    private static readonly short[] ByteDecoder = BuildByteDecoder();

    private static short[] BuildByteDecoder()
    {
        var map = new short[0x200];
        Array.Fill(map, (short)-1);
        var next = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? b : 256 + next++] = (short)b;
        }

        return map;
    }

    private static void Add(string path, Dictionary<int, string> tokens, int id, string token)
    {
        if (id < 0 || id >= MaxTokens)
            throw Malformed(path, $"token id {id} is out of range");
        tokens[id] = token;
    }

    private static int ReadId(string path, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var id) || id < 0)
            throw Malformed(path, "a token id is not a non-negative integer");
        return id;
    }

    private static byte[] ReadUtf8(string path)
    {
        var bytes = IO.InputFile.ReadAllBytes(path, IO.InputLimit.Tokenizer);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw IO.InputFile.NotUtf8(bytes, path, IO.InputLimit.Tokenizer.What, Diagnostics.Diagnostics.TokenizerMalformed);
        return bytes;
    }

    private static string ReadText(string path) => Encoding.UTF8.GetString(ReadUtf8(path));

    internal static Diagnostics.ProvenanceException Malformed(string path, string reason) =>
        Diagnostics.Diagnostics.TokenizerMalformed.Exception($"{path}: {reason}", path);

    /// <summary>Minimal protobuf wire-format reader; every length is checked against the buffer.</summary>
    private sealed class ProtoReader(byte[] buffer, string path, int start = 0, int end = -1)
    {
        private readonly int _end = end < 0 ? buffer.Length : end;
        private int _position = start;

        public bool End => _position >= _end;

        public (int Field, int Wire) ReadTag()
        {
            var tag = ReadVarint();
            var field = (int)(tag >> 3);
            if (field <= 0)
                throw Malformed(path, "invalid protobuf field number");
            return (field, (int)(tag & 7));
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _end)
                    throw Malformed(path, "truncated protobuf varint");
                var b = buffer[_position++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                    return result;
            }

            throw Malformed(path, "protobuf varint is too long");
        }

        public ProtoReader ReadMessage()
        {
            var length = ReadLength();
            var reader = new ProtoReader(buffer, path, _position, _position + length);
            _position += length;
            return reader;
        }

        public string ReadString()
        {
            var length = ReadLength();
            try
            {
                var text = StrictUtf8.GetString(buffer, _position, length);
                _position += length;
                return text;
            }
            catch (DecoderFallbackException)
            {
                throw Malformed(path, "a piece is not valid UTF-8");
            }
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0:
                    ReadVarint();
                    break;
                case 1:
                    Advance(8);
                    break;
                case 2:
                    Advance(ReadLength());
                    break;
                case 5:
                    Advance(4);
                    break;
                default:
                    throw Malformed(path, $"unsupported protobuf wire type {wire}");
            }
        }

        private int ReadLength()
        {
            var length = ReadVarint();
            if (length > (ulong)(_end - _position))
                throw Malformed(path, "protobuf length runs past the end of the data");
            return (int)length;
        }

        private void Advance(int count)
        {
            if (count > _end - _position)
                throw Malformed(path, "protobuf field runs past the end of the data");
            _position += count;
        }
    }
}
