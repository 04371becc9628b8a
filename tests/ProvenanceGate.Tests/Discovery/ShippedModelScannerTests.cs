using System.Diagnostics;
using ProvenanceGate.Discovery;
using ProvenanceGate.NuGet;

namespace ProvenanceGate.Tests.Discovery;

/// <summary>Every model in an output folder is found, hashed and traced to the package it came from.</summary>
public sealed class ShippedModelScannerTests
{
    [Test]
    public void Models_are_found_with_their_sidecars_and_traced_to_their_package()
    {
        using var temp = new TempDirectory();
        var package = Directory.CreateDirectory(temp.Combine("packages", "acme.vision", "1.2.0")).FullName;
        Directory.CreateDirectory(Path.Combine(package, "tools", "models"));
        File.WriteAllBytes(Path.Combine(package, "tools", "models", "tiny-add.onnx"), TinyModels.OnnxAdd());
        var output = Directory.CreateDirectory(temp.Combine("bin")).FullName;
        Directory.CreateDirectory(Path.Combine(output, "Models"));
        File.Copy(Path.Combine(package, "tools", "models", "tiny-add.onnx"), Path.Combine(output, "Models", "tiny-add.onnx"));
        File.WriteAllText(Path.Combine(output, "Models", "genai_config.json"), "{}");
        File.WriteAllBytes(Path.Combine(output, "own.gguf"), TinyModels.Gguf());
        File.WriteAllText(Path.Combine(output, "App.deps.json"), "{}");
        var graph = new NuGetDependencyGraph("App", "1.0.0", "net10.0",
        [
            new NuGetPackage("Acme.Vision", "1.2.0", new string('a', 128), null, [], IsDirect: true, IsDevelopmentDependency: false)
            {
                Directory = package,
                Files = ["acme.vision.nuspec", "tools/models/tiny-add.onnx"],
            },
        ]);

        var models = ShippedModelScanner.Scan(output, graph);

        Assert.That(models.Select(m => (m.RelativePath, m.Format)), Is.EqualTo(((string, string)[])[("Models/tiny-add.onnx", "onnx"), ("own.gguf", "gguf")]));
        var onnx = models[0];
        Assert.That(onnx.Origin.Package?.Id, Is.EqualTo("Acme.Vision"));
        Assert.That(onnx.Origin.PackagePath, Is.EqualTo("tools/models/tiny-add.onnx"));
        Assert.That(onnx.Sha256, Is.EqualTo(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(TinyModels.OnnxAdd()))));
        Assert.That(onnx.Sidecars, Is.EqualTo((string[])["Models/genai_config.json"]));
        Assert.That(models[1].Origin.Package, Is.Null, "the project's own model");
    }

    [Test]
    public void A_file_named_like_a_package_file_but_with_other_bytes_is_not_attributed_to_the_package()
    {
        using var temp = new TempDirectory();
        var package = Directory.CreateDirectory(temp.Combine("pkg")).FullName;
        File.WriteAllBytes(Path.Combine(package, "tiny-add.onnx"), TinyModels.OnnxAdd());
        var output = Directory.CreateDirectory(temp.Combine("bin")).FullName;
        var swapped = TinyModels.OnnxAdd();
        swapped[^1] ^= 1; // opset 13 -> 12: same name, same size, other content
        File.WriteAllBytes(Path.Combine(output, "tiny-add.onnx"), swapped);
        var graph = new NuGetDependencyGraph("App", null, "net10.0",
            [new NuGetPackage("Acme.Vision", "1.2.0", new string('a', 128), null, [], true, false) { Directory = package, Files = ["tiny-add.onnx"] }]);

        var model = ShippedModelScanner.Scan(output, graph).Single();

        Assert.That(model.Origin.Package, Is.Null, "a package vouches only for its own bytes");
    }

    [Test]
    public void Special_files_and_links_out_of_the_folder_are_never_opened()
    {
        if (OperatingSystem.IsWindows())
            Assert.Ignore("FIFOs and /dev are Unix");
        using var temp = new TempDirectory();
        var output = Directory.CreateDirectory(temp.Combine("bin")).FullName;
        File.WriteAllBytes(Path.Combine(output, "real.onnx"), TinyModels.OnnxAdd());
        using (var mkfifo = Process.Start("mkfifo", Path.Combine(output, "pipe.onnx")))
            mkfifo.WaitForExit();
        File.CreateSymbolicLink(Path.Combine(output, "zero.onnx"), "/dev/zero");
        File.CreateSymbolicLink(Path.Combine(output, "elsewhere.onnx"), temp.Combine("outside.onnx"));
        File.WriteAllBytes(temp.Combine("outside.onnx"), TinyModels.OnnxAdd());

        var scan = Task.Run(() => ShippedModelScanner.Scan(output));

        Assert.That(scan.Wait(TimeSpan.FromSeconds(60)), Is.True, "a FIFO must not block the scan");
        Assert.That(scan.Result.Select(m => m.RelativePath), Is.EqualTo((string[])["real.onnx"]));
    }

    [Test]
    public void A_missing_folder_is_an_input_error()
    {
        var error = Assert.Throws<Diagnostics.ProvenanceException>(() => ShippedModelScanner.Scan("/nonexistent/bin"));
        Assert.That(error!.Diagnostic.Code, Is.EqualTo("PG0003"));
    }
}
