using Microsoft.Build.Utilities;
using ProvenanceGate.Build;

namespace ProvenanceGate.Tests.MSBuild;

public sealed class GenerateModelBomTests
{
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
