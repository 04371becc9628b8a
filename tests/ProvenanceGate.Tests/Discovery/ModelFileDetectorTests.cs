using ProvenanceGate.Discovery;
using ProvenanceGate.Formats.Safetensors;

namespace ProvenanceGate.Tests.Discovery;

/// <summary>Models are recognised by content: a renamed model is still a model, a file named like one is not.</summary>
public sealed class ModelFileDetectorTests
{
    private static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData("model.onnx", TinyModels.OnnxAdd(), ModelFormats.Onnx).SetName("ONNX");
        yield return new TestCaseData("weights.dat", TinyModels.OnnxAdd(), ModelFormats.Onnx).SetName("ONNX renamed");
        yield return new TestCaseData("model.gguf", TinyModels.Gguf(), ModelFormats.Gguf).SetName("GGUF");
        yield return new TestCaseData("model.tflite", TinyModels.TfLite(), ModelFormats.TfLite).SetName("TFLite");
        yield return new TestCaseData("pytorch_model.bin", TinyModels.Zip("archive/data.pkl", "archive/data/0", "archive/version"), ModelFormats.PyTorch).SetName("PyTorch zip");
        yield return new TestCaseData("model.zip", TinyModels.Zip("archive/data.pkl", "archive/version"), ModelFormats.PyTorch).SetName("PyTorch zip renamed");
        yield return new TestCaseData("old.pt", TinyModels.TorchLegacy(), ModelFormats.PyTorch).SetName("PyTorch legacy");
        yield return new TestCaseData("clf.pkl", TinyModels.Pickle(), ModelFormats.Pickle).SetName("pickle");
        yield return new TestCaseData("model.zip", TinyModels.Zip("TransformerChain/Version.txt", "TransformerChain/Model.key", "DataLoaderModel/Schema"), ModelFormats.MlNet).SetName("ML.NET");
        yield return new TestCaseData("model.keras", TinyModels.Zip("metadata.json", "config.json", "model.weights.h5"), ModelFormats.Keras).SetName("Keras 3");
        yield return new TestCaseData("model.h5", (byte[])[0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0], ModelFormats.Hdf5).SetName("HDF5");
        yield return new TestCaseData("model.mlmodel", TinyModels.CoreMl(), ModelFormats.CoreMl).SetName("Core ML");
        yield return new TestCaseData("saved_model.pb", TinyModels.SavedModel(), ModelFormats.TensorFlow).SetName("TensorFlow SavedModel");
        yield return new TestCaseData("model.safetensors",
            SafetensorsWriter.Serialize([new NamedTensor("w.weight", [2, 2], [1f, 2f, 3f, 4f])], SafetensorsDType.F32), ModelFormats.Safetensors).SetName("safetensors");
    }

    [TestCaseSource(nameof(Models))]
    public void A_model_is_recognised_by_its_content(string name, byte[] bytes, string format)
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.Combine(name), bytes);
        Assert.That(ModelFileDetector.Detect(temp.Combine(name)), Is.EqualTo(format));
    }

    private static IEnumerable<TestCaseData> NotModels()
    {
        yield return new TestCaseData("model.onnx", "{\"not\": \"a model\"}"u8.ToArray()).SetName("JSON named .onnx");
        yield return new TestCaseData("App.dll", "MZ\u0090\0\u0003\0\0\0\u0004\0\0\0\u00ff\u00ff\0\0"u8.ToArray()).SetName("assembly");
        yield return new TestCaseData("tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}"u8.ToArray()).SetName("tokenizer");
        yield return new TestCaseData("app.zip", TinyModels.Zip("readme.txt", "lib/app.dll")).SetName("ordinary zip");
        yield return new TestCaseData("model.pb", (byte[])[0x08, 0x96, 0x01, 0x12, 0xff, 0x7f, 1, 2, 3]).SetName("protobuf whose length runs past the end");
        yield return new TestCaseData("x.onnx", (byte[])[0x08]).SetName("one byte");
        yield return new TestCaseData("x.onnx", Array.Empty<byte>()).SetName("empty");
        yield return new TestCaseData("notes.txt", "GGUF is a format; TFL3 too. PK is not a zip."u8.ToArray()).SetName("text mentioning magic numbers");
    }

    [TestCaseSource(nameof(NotModels))]
    public void Other_files_are_not_models(string name, byte[] bytes)
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.Combine(name), bytes);
        Assert.That(ModelFileDetector.Detect(temp.Combine(name)), Is.Null);
    }

    [Test]
    public void A_random_binary_is_not_taken_for_a_model()
    {
        using var temp = new TempDirectory();
        var random = new Random(3);
        var misdetected = 0;
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(16, 5000)];
            random.NextBytes(bytes);
            File.WriteAllBytes(temp.Combine("blob.bin"), bytes);
            if (ModelFileDetector.Detect(temp.Combine("blob.bin")) is not null)
                misdetected++;
        }

        Assert.That(misdetected, Is.Zero);
    }

    [Test]
    public void The_committed_tiny_onnx_model_is_what_the_generator_writes()
    {
        Assert.That(File.ReadAllBytes(RepoPaths.TestData("discovery", "tiny-add.onnx")), Is.EqualTo(TinyModels.OnnxAdd()),
            "regenerate TestData/discovery/tiny-add.onnx from TinyModels.OnnxAdd()");
    }
}
