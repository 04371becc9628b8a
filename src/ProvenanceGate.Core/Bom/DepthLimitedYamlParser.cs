using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ProvenanceGate.Bom;

/// <summary>
/// Passes YAML parser events through, refusing (PG0015) a mapping or sequence nested deeper than <see cref="MaxDepth"/>.
/// YamlDotNet builds nodes and objects recursively, so a few thousand levels of <c>[[[[</c> overflow the stack, which
/// kills the process without any chance to report; counting here stops it while the parser is still flat.
/// </summary>
internal sealed class DepthLimitedYamlParser(IParser inner, string file) : IParser
{
    /// <summary>Declarations and policies need a handful of levels.</summary>
    public const int MaxDepth = 64;

    private int _depth;

    public ParsingEvent? Current => inner.Current;

    public static IParser For(string text, string file) => new DepthLimitedYamlParser(new Parser(new StringReader(text)), file);

    public bool MoveNext()
    {
        if (!inner.MoveNext())
            return false;
        switch (inner.Current)
        {
            case MappingStart or SequenceStart when ++_depth > MaxDepth:
                var start = inner.Current.Start;
                throw Diagnostics.Diagnostics.InputNestedTooDeeply.Exception(
                    $"{file}: mappings and lists are nested more than {MaxDepth} deep", file, (int)start.Line, (int)start.Column);
            case MappingEnd or SequenceEnd:
                _depth--;
                break;
        }

        return true;
    }
}
