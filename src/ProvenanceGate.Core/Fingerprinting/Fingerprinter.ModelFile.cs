using ProvenanceGate.Formats.Weights;

namespace ProvenanceGate.Fingerprinting;

public static partial class Fingerprinter
{
    /// <summary>
    /// The files a single model file is read with, relative to its folder with '/' separators, the file itself first:
    /// its own data files (ONNX external data, a GenAI config) and the config and tokenizer files its fingerprint may
    /// read beside it, whether or not they exist. Everything else in the folder (other models, unrelated files) is not
    /// part of it. A file its format cannot open still has the metadata names: reading it fails later, where it is reported.
    /// </summary>
    public static IReadOnlyList<string> FilesOfModelFile(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var names = new List<string> { Path.GetFileName(path) };
        try
        {
            if (WeightFormats.Open(path) is { } weights)
                names.AddRange(weights.WeightFiles.Concat(weights.IndexFiles).Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')));
        }
        catch (Diagnostics.ProvenanceException)
        {
        }

        names.AddRange(MetadataFiles);
        return names.Distinct(StringComparer.Ordinal).ToList();
    }
}
