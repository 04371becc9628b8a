using System.Text.Json.Nodes;

namespace ProvenanceGate.EndToEnd.Tests;

/// <summary>One sample project in the workspace, and where a Debug build of it puts things.</summary>
internal sealed record Sample(string Name)
{
    public string Directory => Path.Combine(PackagesFixture.Workspace, Name);

    public string Project => Path.Combine(Directory, Name + ".csproj");

    public string OutputDirectory => Path.Combine(Directory, "bin", "Debug", "net10.0");

    public string IntermediateDirectory => Path.Combine(Directory, "obj", "Debug", "net10.0");

    public string BomFileName => Name + ".cdx.json";

    public string Stamp => Path.Combine(IntermediateDirectory, "provenancegate", "gate.stamp");

    public DotNetResult Run(params string[] arguments) => DotNet.Run(Directory, PackagesFixture.Packages, arguments);

    public static JsonNode ReadJson(string path) => JsonNode.Parse(File.ReadAllText(path))!;

    /// <summary>Every JSON object in the tree (CycloneDX nests components), depth first.</summary>
    public static IEnumerable<JsonObject> Objects(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                yield return o;
                foreach (var child in o.Select(p => p.Value).SelectMany(Objects))
                    yield return child;
                break;
            case JsonArray a:
                foreach (var child in a.SelectMany(Objects))
                    yield return child;
                break;
        }
    }
}
