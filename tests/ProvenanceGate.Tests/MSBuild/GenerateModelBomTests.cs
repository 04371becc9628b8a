using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Build.Utilities;
using ProvenanceGate.Build;
using ProvenanceGate.Models;

namespace ProvenanceGate.Tests.MSBuild;

[NonParallelizable] // SOURCE_DATE_EPOCH is process-wide
public sealed class GenerateModelBomTests
{
    [Test]
    public void Writes_the_composite_bom_once_and_then_leaves_it_unchanged()
    {
        using var temp = new TempDirectory();
        var spec = new SyntheticModelSpec();
        SyntheticModel.WriteDirectory(temp.Combine("models", "m"), spec, SyntheticModel.CreateTensors(spec));
        var (task, engine) = Create(temp);
        WriteAssets(task.ProjectAssetsFile, temp);
        task.Models = [new TaskItem("models/m", new Dictionary<string, string> { ["Name"] = "my-model", ["BaseModel"] = "org/base", ["License"] = "MIT" })];
        var previous = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", "1767225600");
        try
        {
            Assert.That(task.Execute(), Is.True, string.Join("\n", engine.Errors));
            Assert.That(task.BomChanged, Is.True);
            var written = File.GetLastWriteTimeUtc(task.BomPath);

            var bom = JsonNode.Parse(File.ReadAllText(task.BomPath))!;
            Assert.That((string?)bom["metadata"]!["component"]!["name"], Is.EqualTo("App"));
            var library = bom["components"]!.AsArray().Single(c => (string?)c!["purl"] == "pkg:nuget/Lib.A@1.2.0")!;
            Assert.That((string?)library["hashes"]![0]!["content"], Is.EqualTo(Convert.ToHexStringLower(SHA512.HashData("a"u8))));
            Assert.That((string?)library["licenses"]![0]!["license"]!["name"], Is.EqualTo("Unknown - See URL"));
            Assert.That((string?)library["licenses"]![0]!["license"]!["url"], Is.EqualTo("https://example.org/licence"));
            Assert.That(bom["components"]!.AsArray().Any(c => (string?)c!["name"] == "Dev.Tool"), Is.False, "PrivateAssets=all packages do not ship");
            Assert.That(bom["components"]!.AsArray().Any(c => (string?)c!["type"] == "machine-learning-model"), Is.True);

            var (again, engine2) = Create(temp);
            again.Models = task.Models;
            Assert.That(again.Execute(), Is.True, string.Join("\n", engine2.Errors));
            Assert.That(again.BomChanged, Is.False);
            Assert.That(File.GetLastWriteTimeUtc(task.BomPath), Is.EqualTo(written));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SOURCE_DATE_EPOCH", previous);
        }
    }

    [Test]
    public void Missing_model_directory_is_PG5004_naming_the_directory()
    {
        using var temp = new TempDirectory();
        var (task, engine) = Create(temp);
        task.Models = [new TaskItem("models/absent")];

        Assert.That(task.Execute(), Is.False);

        Assert.That(engine.Errors, Has.Count.EqualTo(1));
        Assert.That(engine.Errors[0], Does.StartWith($"{temp.Combine("models", "absent")}: error PG5004: "));
        Assert.That(File.Exists(task.BomPath), Is.False);
    }

    [Test]
    public void Missing_declaration_file_is_PG5004_naming_the_file()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.Combine("models", "m"));
        var (task, engine) = Create(temp);
        task.Models = [new TaskItem("models/m", new Dictionary<string, string> { ["Declaration"] = "models/m/provenance.yaml" })];

        Assert.That(task.Execute(), Is.False);

        Assert.That(engine.Errors.Single(), Does.Contain("error PG5004: ProvenanceModel 'models/m': Declaration file"));
    }

    [Test]
    public void Missing_assets_file_is_PG5001_naming_it()
    {
        using var temp = new TempDirectory();
        var (task, engine) = Create(temp);

        Assert.That(task.Execute(), Is.False);

        Assert.That(engine.Errors.Single(), Does.StartWith($"{task.ProjectAssetsFile}: error PG5001: "));
        Assert.That(engine.Errors.Single(), Does.Contain("dotnet restore"));
    }

    [Test]
    public void Malformed_assets_file_is_PG5001_with_its_line()
    {
        using var temp = new TempDirectory();
        var (task, engine) = Create(temp);
        Directory.CreateDirectory(Path.GetDirectoryName(task.ProjectAssetsFile)!);
        File.WriteAllText(task.ProjectAssetsFile, "{\n  \"version\": 3,\n  \"targets\": [\n");

        Assert.That(task.Execute(), Is.False);

        Assert.That(engine.Errors.Single(), Does.Match(@"^.*project\.assets\.json\([0-9]+,0\): error PG5001: "));
    }

    [Test]
    public void Malformed_nuspec_is_PG5003_with_file_and_line()
    {
        using var temp = new TempDirectory();
        var (task, engine) = Create(temp);
        var packages = temp.Combine("packages") + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(temp.Combine("packages", "a", "1.0.0"));
        var nuspec = temp.Combine("packages", "a", "1.0.0", "a.nuspec");
        File.WriteAllText(nuspec, "<package>\n  <metadata>\n    <license>\n</package>\n");
        Directory.CreateDirectory(Path.GetDirectoryName(task.ProjectAssetsFile)!);
        File.WriteAllText(task.ProjectAssetsFile, $$"""
            { "version": 3,
              "targets": { "net10.0": { "A/1.0.0": { "type": "package" } } },
              "libraries": { "A/1.0.0": { "sha512": "{{Convert.ToBase64String(new byte[64])}}", "type": "package", "path": "a/1.0.0", "files": [ "a.nuspec" ] } },
              "packageFolders": { "{{packages}}": {} } }
            """);

        Assert.That(task.Execute(), Is.False);

        Assert.That(engine.Errors.Single(), Does.Match($"^{System.Text.RegularExpressions.Regex.Escape(nuspec)}\\(4,[0-9]+\\): error PG5003: "));
    }

    private static void WriteAssets(string path, TempDirectory temp)
    {
        var packages = temp.Combine("packages") + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(temp.Combine("packages", "lib.a", "1.2.0"));
        File.WriteAllText(temp.Combine("packages", "lib.a", "1.2.0", "lib.a.nuspec"),
            "<package><metadata><id>Lib.A</id><licenseUrl>https://example.org/licence</licenseUrl></metadata></package>");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, $$"""
            { "version": 3,
              "targets": { "net10.0": { "Lib.A/1.2.0": { "type": "package" }, "Dev.Tool/1.0.0": { "type": "package" } } },
              "libraries": {
                "Lib.A/1.2.0": { "sha512": "{{Convert.ToBase64String(SHA512.HashData("a"u8))}}", "type": "package", "path": "lib.a/1.2.0", "files": [ "lib.a.nuspec" ] },
                "Dev.Tool/1.0.0": { "sha512": "{{Convert.ToBase64String(SHA512.HashData("d"u8))}}", "type": "package", "path": "dev.tool/1.0.0" } },
              "packageFolders": { "{{packages}}": {} },
              "project": { "frameworks": { "net10.0": { "dependencies": {
                "Lib.A": { "target": "Package", "version": "[1.2.0, )" },
                "Dev.Tool": { "target": "Package", "version": "[1.0.0, )", "suppressParent": "All" } } } } } }
            """);
    }

    private static (GenerateModelBom Task, FakeBuildEngine Engine) Create(TempDirectory temp)
    {
        var engine = new FakeBuildEngine();
        var task = new GenerateModelBom
        {
            BuildEngine = engine,
            ProjectName = "App",
            ProjectVersion = "1.0.0",
            ProjectDirectory = temp.Path,
            ProjectAssetsFile = temp.Combine("obj", "project.assets.json"),
            TargetFramework = "net10.0",
            BomPath = temp.Combine("obj", "App.cdx.json"),
        };
        return (task, engine);
    }
}
