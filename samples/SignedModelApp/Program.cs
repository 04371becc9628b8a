using System.Buffers.Binary;
using System.Text.Json;
using YamlDotNet.RepresentationModel;

// Describes the model this app ships: what its provenance declaration says, and what its weights file holds.
var modelDirectory = Path.Combine(AppContext.BaseDirectory, "models", "sample-finetune");
var declarationPath = Path.Combine(modelDirectory, "provenance.yaml");
if (File.Exists(declarationPath))
{
    var yaml = new YamlStream();
    using (var reader = new StreamReader(declarationPath))
        yaml.Load(reader);
    var root = (YamlMappingNode)yaml.Documents[0].RootNode;
    if (root.Children.TryGetValue(new YamlScalarNode("model"), out var model) && model is YamlMappingNode modelMap
        && modelMap.Children.TryGetValue(new YamlScalarNode("id"), out var name))
        Console.WriteLine($"model: {name}");
}

using var weights = File.OpenRead(Path.Combine(modelDirectory, "model.safetensors"));
Span<byte> prefix = stackalloc byte[8];
weights.ReadExactly(prefix);
var header = new byte[(int)BinaryPrimitives.ReadUInt64LittleEndian(prefix)];
weights.ReadExactly(header);
using var json = JsonDocument.Parse(header);
var tensors = json.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").ToList();
var parameters = tensors.Sum(t => t.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64()));
Console.WriteLine($"tensors: {tensors.Count}, parameters: {parameters:N0}");

var bom = Path.Combine(AppContext.BaseDirectory, AppDomain.CurrentDomain.FriendlyName + ".cdx.json");
Console.WriteLine(File.Exists(bom) ? $"ML-BOM: {bom}" : "ML-BOM: missing");
