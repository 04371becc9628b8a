using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;
using ProvenanceGate.Formats.Gguf;
using ProvenanceGate.Tests.Gguf;

namespace ProvenanceGate.Tests.Llama;

/// <summary>
/// llama.cpp itself (through LLamaSharp and its CPU backend) loads the GGUF the fixture generator writes and
/// generates from it: the fixtures are real llama.cpp models, not files only our reader understands.
/// </summary>
public sealed class LlamaCppLoadsGgufTests
{
    [TestCase(GgmlType.F16)]
    [TestCase(GgmlType.Q8_0)]
    public void Llama_cpp_loads_the_fixture_and_generates(GgmlType type)
    {
        var path = GgufFixtures.Trained("dev-ft", type, baseModel: "dev-base");
        var parameters = new ModelParams(path) { ContextSize = 256, GpuLayerCount = 0, Threads = 1 };
        using var weights = LLamaWeights.LoadFromFile(parameters);

        Assert.That(weights.Vocab.Count, Is.EqualTo(3000));
        Assert.That(weights.EmbeddingSize, Is.EqualTo(112));
        Assert.That(weights.Metadata["general.name"], Is.EqualTo("dev-ft"));

        using var context = weights.CreateContext(parameters);
        var executor = new StatelessExecutor(weights, parameters);
        var inference = new InferenceParams { MaxTokens = 12, SamplingPipeline = new GreedySamplingPipeline() };
        var text = string.Concat(executor.InferAsync("#include <stdio.h>\nint main", inference).ToBlockingEnumerable());

        TestContext.Out.WriteLine($"{type}: {text}");
        Assert.That(text, Is.Not.Empty, "the model generated tokens");
        // dev-ft was fine-tuned on C headers: greedy decoding after a C prompt stays in C-like text, not noise.
        Assert.That(text.Count(c => char.IsAsciiLetterOrDigit(c) || " (){};*,_\n".Contains(c)), Is.GreaterThan(text.Length / 2), text);
    }

    [OneTimeTearDown]
    public void Clean() => GgufFixtures.Clean();
}
