using ProvenanceGate.Fingerprinting;
using ProvenanceGate.Formats.Config;
using ProvenanceGate.Formats.Tokenizers;

namespace ProvenanceGate.Tests.Fingerprinting;

public sealed class TokenizerAndRoleTests
{
    private static readonly string[] ByteLevelExpected = ["hello", " world", "\n"];
    private static readonly string[] UnigramExpected = ["<unk>", " the"];

    [Test]
    public void SentencePiece_model_is_parsed_by_hand_and_agrees_with_tokenizer_json()
    {
        var directory = RepoPaths.TestData("trained", "models", "dev-base");
        var sentencePiece = TokenizerReader.ReadSentencePiece(Path.Combine(directory, "tokenizer.model"));
        var json = TokenizerReader.ReadTokenizerJson(Path.Combine(directory, "tokenizer.json"));
        Assert.That(sentencePiece.Kind, Is.EqualTo("sentencepiece-bpe"));
        Assert.That(sentencePiece.Tokens, Has.Count.EqualTo(3000));
        Assert.That(json.Tokens, Has.Count.EqualTo(3000));
        Assert.That(sentencePiece.Tokens[1], Is.EqualTo("<s>"));
        // Same strings by id once U+2581 is normalised.
        var agree = Enumerable.Range(0, 3000).Count(i => sentencePiece.Tokens[i] == json.Tokens[i]);
        Assert.That(agree, Is.GreaterThan(2990));
    }

    [Test]
    public void Vocab_json_and_merges_txt_decode_byte_level_tokens()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("vocab.json"), "{\"hello\": 0, \"\\u0120world\": 1, \"\\u010a\": 2}");
        File.WriteAllText(temp.Combine("merges.txt"), "#version: 0.2\nh e\nl l\n");
        var tokenizer = TokenizerReader.ReadDirectory(temp.Path)!;
        Assert.That(tokenizer.Kind, Is.EqualTo("bpe-byte-level"));
        Assert.That(tokenizer.Tokens, Is.EqualTo(ByteLevelExpected));
        Assert.That(tokenizer.MergeCount, Is.EqualTo(2));
    }

    [Test]
    public void Unigram_and_wordpiece_tokenizer_json_are_read()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.Combine("tokenizer.json"), "{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"<unk>\",0],[\"\\u2581the\",-1.5]]}}");
        var unigram = TokenizerReader.ReadTokenizerJson(temp.Combine("tokenizer.json"));
        Assert.That(unigram.Kind, Is.EqualTo("unigram"));
        Assert.That(unigram.Tokens, Is.EqualTo(UnigramExpected));

        File.WriteAllText(temp.Combine("tokenizer.json"), "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"[CLS]\":1,\"##ing\":0}},\"added_tokens\":[{\"id\":1,\"content\":\"[CLS]\",\"special\":true}]}");
        var wordPiece = TokenizerReader.ReadTokenizerJson(temp.Combine("tokenizer.json"));
        Assert.That(wordPiece.Kind, Is.EqualTo("wordpiece"));
        Assert.That(wordPiece.SpecialTokens, Does.Contain("[CLS]"));
    }

    [TestCase("model.layers.3.self_attn.q_proj.weight", TensorRole.Query, 3)]
    [TestCase("model.layers.3.self_attn.o_proj.weight", TensorRole.AttentionOutput, 3)]
    [TestCase("model.layers.0.mlp.down_proj.weight", TensorRole.Down, 0)]
    [TestCase("blk.2.attn_q.weight", TensorRole.Query, 2)]
    [TestCase("blk.2.attn_output.weight", TensorRole.AttentionOutput, 2)]
    [TestCase("blk.2.ffn_gate.weight", TensorRole.Gate, 2)]
    [TestCase("blk.2.ffn_norm.weight", TensorRole.Norm, 2)]
    [TestCase("token_embd.weight", TensorRole.Embedding, null)]
    [TestCase("output.weight", TensorRole.LmHead, null)]
    [TestCase("output_norm.weight", TensorRole.Norm, null)]
    [TestCase("transformer.h.5.attn.c_attn.weight", TensorRole.QueryKeyValue, 5)]
    [TestCase("transformer.h.5.attn.c_proj.weight", TensorRole.AttentionOutput, 5)]
    [TestCase("transformer.h.5.mlp.c_fc.weight", TensorRole.Up, 5)]
    [TestCase("transformer.h.5.mlp.c_proj.weight", TensorRole.Down, 5)]
    [TestCase("transformer.wte.weight", TensorRole.Embedding, null)]
    [TestCase("transformer.wpe.weight", TensorRole.PositionEmbedding, null)]
    [TestCase("gpt_neox.layers.1.attention.query_key_value.weight", TensorRole.QueryKeyValue, 1)]
    [TestCase("gpt_neox.layers.1.attention.dense.weight", TensorRole.AttentionOutput, 1)]
    [TestCase("gpt_neox.layers.1.mlp.dense_h_to_4h.weight", TensorRole.Up, 1)]
    [TestCase("gpt_neox.layers.1.mlp.dense_4h_to_h.weight", TensorRole.Down, 1)]
    [TestCase("gpt_neox.embed_in.weight", TensorRole.Embedding, null)]
    [TestCase("embed_out.weight", TensorRole.LmHead, null)]
    [TestCase("transformer.h.0.self_attention.query_key_value.weight", TensorRole.QueryKeyValue, 0)]
    [TestCase("transformer.h.0.self_attention.dense.weight", TensorRole.AttentionOutput, 0)]
    [TestCase("bert.encoder.layer.4.attention.self.query.weight", TensorRole.Query, 4)]
    [TestCase("bert.encoder.layer.4.attention.output.dense.weight", TensorRole.AttentionOutput, 4)]
    [TestCase("bert.encoder.layer.4.intermediate.dense.weight", TensorRole.Up, 4)]
    [TestCase("bert.encoder.layer.4.output.dense.weight", TensorRole.Down, 4)]
    [TestCase("bert.embeddings.word_embeddings.weight", TensorRole.Embedding, null)]
    [TestCase("encoder.block.2.layer.0.SelfAttention.q.weight", TensorRole.Query, 2)]
    [TestCase("encoder.block.2.layer.1.DenseReluDense.wo.weight", TensorRole.Down, 2)]
    [TestCase("model.layers.1.mlp.gate.weight", TensorRole.Other, 1)]
    [TestCase("model.layers.1.self_attn.dense.weight", TensorRole.AttentionOutput, 1)]
    [TestCase("model.layers.1.self_attn.qkv_proj.weight", TensorRole.QueryKeyValue, 1)]
    [TestCase("model.layers.1.mlp.gate_up_proj.weight", TensorRole.GateUp, 1)]
    [TestCase("model.layers.2.mlp.experts.7.down_proj.weight", TensorRole.Down, 2)]
    [TestCase("some.custom.prefix.layers.7.mlp.fc1.weight", TensorRole.Up, 7)]
    public void Tensor_roles_resolve_across_naming_schemes(string name, TensorRole role, int? layer)
    {
        var info = TensorRoles.Resolve(name);
        Assert.That(info.Role, Is.EqualTo(role));
        Assert.That(info.Layer, Is.EqualTo(layer));
    }

    [Test]
    public void Arch_hash_reproduces_every_catalogue_entry()
    {
        var catalogue = ReferenceCatalogue.LoadBundled();
        Assert.That(catalogue.Entries, Has.Count.EqualTo(152));
        foreach (var entry in catalogue.Entries)
        {
            var config = new ModelConfig
            {
                ModelType = entry.ModelType, Architectures = entry.Architectures, HiddenSize = entry.HiddenSize, Layers = entry.Layers,
                AttentionHeads = entry.AttentionHeads, KeyValueHeads = entry.KeyValueHeads, IntermediateSize = entry.IntermediateSize,
                VocabSize = entry.VocabSize, MaxPositionEmbeddings = entry.MaxPositionEmbeddings,
            };
            Assert.That(config.ArchHash, Is.EqualTo(entry.ArchHash), entry.ModelId);
        }
    }

    [TestCase(1)]
    [TestCase(63)]
    [TestCase(64)]
    [TestCase(65)]
    [TestCase(768)]
    [TestCase(2048)]
    [TestCase(5120)]
    public void Residual_subset_is_the_k_smallest_splitmix_keys_ascending(int width)
    {
        // Written independently of the product (LINQ, its own splitmix64 finaliser): the subset is part of the
        // fingerprint, so a change of it must show here and not only in pinned files.
        static ulong SplitMix(ulong x)
        {
            x += 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }

        var expected = Enumerable.Range(0, width).OrderBy(i => SplitMix((ulong)i)).Take(Fingerprinter.VectorK).Order().ToArray();
        Assert.That(Fingerprinter.ResidualSubset(width, Fingerprinter.VectorK), Is.EqualTo(expected));
    }
}
