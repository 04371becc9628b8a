using System.Text;

namespace ProvenanceGate.Tests.Fuzz;

/// <summary>
/// A finding that is filed and not fixed yet. A case it matches is counted as "known" instead of failing the run, and
/// an input it names as process-killing (stack overflow, unbounded memory) or hanging is not run at all, because that
/// would take the test host down with it. Issue 14's findings (the table and the two this fuzzer found) are fixed and
/// their inputs replay as regressions, so the list is empty; a new finding goes here only while it is being fixed.
/// </summary>
public sealed record KnownFinding(string Id, string Description, Func<Exception, bool>? Matches = null, Func<string, byte[], bool>? Skips = null);

public static class KnownFindings
{
    /// <summary>
    /// THE ALLOW-LIST. Delete an entry when its fix is merged (issue 14, branch robust): the fuzzer then runs those
    /// inputs again and the saved regression inputs under regressions/ fail until the fix really holds.
    /// </summary>
    public static IReadOnlyList<KnownFinding> All { get; } = [];

    public static KnownFinding? Match(Exception exception) => All.FirstOrDefault(k => k.Matches?.Invoke(exception) == true);

    public static KnownFinding? Skipping(string family, byte[] input) => All.FirstOrDefault(k => k.Skips?.Invoke(family, input) == true);

    private static bool Thrown(Exception exception, params string[] methods) =>
        methods.Any(m => exception.StackTrace?.Contains(m, StringComparison.Ordinal) == true);

    /// <summary>An upper bound of the nesting depth: open brackets outstanding, or indentation steps.</summary>
    internal static int YamlNesting(byte[] input)
    {
        int depth = 0, deepest = 0, indent = 0;
        var lineStart = true;
        foreach (var b in input)
        {
            switch (b)
            {
                case (byte)'[' or (byte)'{':
                    deepest = Math.Max(deepest, ++depth);
                    break;
                case (byte)']' or (byte)'}':
                    depth = Math.Max(0, depth - 1);
                    break;
                case (byte)'\n':
                    lineStart = true;
                    indent = 0;
                    continue;
                case (byte)' ' or (byte)'-' or (byte)'\t' when lineStart:
                    deepest = Math.Max(deepest, ++indent);
                    continue;
            }

            lineStart = false;
        }

        return deepest;
    }

    private static int JsonValueCount(byte[] input) => input.Count(b => b is (byte)',' or (byte)'{' or (byte)'[');
}
