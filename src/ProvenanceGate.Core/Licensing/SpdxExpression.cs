using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace ProvenanceGate.Licensing;

public enum SpdxOperator
{
    And,
    Or,
}

/// <summary>A node of a parsed SPDX licence expression.</summary>
public abstract record SpdxNode;

/// <summary>
/// A licence leaf: an SPDX id (canonical spelling) or a <c>LicenseRef-</c> / <c>DocumentRef-x:LicenseRef-y</c>,
/// with the "or later" <c>+</c> and an optional <c>WITH</c> exception.
/// </summary>
public sealed record SpdxLicense(string Id, bool OrLater = false, string? Exception = null) : SpdxNode
{
    public bool IsLicenseRef => Id.Contains("LicenseRef-", StringComparison.Ordinal);

    public override string ToString() => Id + (OrLater ? "+" : "") + (Exception is null ? "" : " WITH " + Exception);
}

public sealed record SpdxCompound(SpdxOperator Operator, SpdxNode Left, SpdxNode Right) : SpdxNode
{
    public override string ToString()
    {
        var op = Operator == SpdxOperator.And ? " AND " : " OR ";
        return Wrap(Left) + op + Wrap(Right);

        // AND binds tighter than OR: an OR inside an AND needs parentheses, nothing else does.
        string Wrap(SpdxNode node) => Operator == SpdxOperator.And && node is SpdxCompound { Operator: SpdxOperator.Or } ? $"({node})" : node.ToString()!;
    }
}

/// <summary>
/// SPDX licence expressions (SPDX 2.3 annex D): ids from the SPDX list, <c>LicenseRef-</c>, <c>+</c>,
/// <c>WITH</c> exceptions, <c>AND</c>/<c>OR</c> (AND binds tighter) and parentheses. Operators must be upper case.
/// </summary>
public sealed partial class SpdxExpression
{
    private SpdxExpression(string text, SpdxNode root)
    {
        Text = text;
        Root = root;
    }

    public string Text { get; }

    public SpdxNode Root { get; }

    /// <summary>Every licence leaf, left to right.</summary>
    public IReadOnlyList<SpdxLicense> Licenses => Leaves(Root).ToList();

    /// <summary>The distinct licence ids (canonical spelling, LicenseRefs included, without + or exceptions).</summary>
    public IReadOnlySet<string> LicenseIds => Leaves(Root).Select(l => l.Id).ToHashSet(StringComparer.Ordinal);

    public IReadOnlySet<SpdxOperator> Operators => Compounds(Root).Select(c => c.Operator).ToHashSet();

    /// <summary>The expression re-written with canonical ids and minimal parentheses.</summary>
    public override string ToString() => Root.ToString()!;

    public static SpdxExpression Parse(string text) =>
        TryParse(text, out var expression, out var error) ? expression : throw new FormatException(error);

    public static bool TryParse(string text, [NotNullWhen(true)] out SpdxExpression? expression, [NotNullWhen(false)] out string? error)
    {
        expression = null;
        var tokens = Tokenize(text, out var tokenError);
        if (tokens is null)
        {
            error = tokenError!;
            return false;
        }

        if (tokens.Count == 0)
        {
            error = "the expression is empty";
            return false;
        }

        var parser = new Parser(tokens);
        try
        {
            var root = parser.ParseOr();
            if (parser.Position < tokens.Count)
                throw new FormatException($"unexpected '{tokens[parser.Position]}' after a complete expression");
            expression = new SpdxExpression(text, root);
            error = null;
            return true;
        }
        catch (FormatException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    private static List<string>? Tokenize(string text, out string? error)
    {
        error = null;
        var tokens = new List<string>();
        var current = new StringBuilder();
        foreach (var c in text)
        {
            if (c is ' ' or '\t' or '\n' or '\r' or '(' or ')')
            {
                Flush();
                if (c is '(' or ')')
                    tokens.Add(c.ToString());
                continue;
            }

            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '+' or ':'))
            {
                error = $"character '{c}' is not allowed in an SPDX expression";
                return null;
            }

            current.Append(c);
        }

        Flush();
        return tokens;

        void Flush()
        {
            if (current.Length > 0)
                tokens.Add(current.ToString());
            current.Clear();
        }
    }

    private static IEnumerable<SpdxLicense> Leaves(SpdxNode node) => node switch
    {
        SpdxLicense license => [license],
        SpdxCompound compound => Leaves(compound.Left).Concat(Leaves(compound.Right)),
        _ => [],
    };

    private static IEnumerable<SpdxCompound> Compounds(SpdxNode node) => node is SpdxCompound compound
        ? Compounds(compound.Left).Concat(Compounds(compound.Right)).Append(compound)
        : [];

    [GeneratedRegex(@"^(DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex LicenseRefPattern();

    private sealed class Parser(List<string> tokens)
    {
        public int Position { get; private set; }

        private string? Peek => Position < tokens.Count ? tokens[Position] : null;

        public SpdxNode ParseOr()
        {
            var left = ParseAnd();
            while (Peek == "OR")
            {
                Position++;
                left = new SpdxCompound(SpdxOperator.Or, left, ParseAnd());
            }

            return left;
        }

        private SpdxNode ParseAnd()
        {
            var left = ParseWith();
            while (Peek == "AND")
            {
                Position++;
                left = new SpdxCompound(SpdxOperator.And, left, ParseWith());
            }

            return left;
        }

        private SpdxNode ParseWith()
        {
            var primary = ParsePrimary();
            if (Peek != "WITH")
                return primary;
            Position++;
            if (primary is not SpdxLicense { Exception: null } license || license.IsLicenseRef)
                throw new FormatException("WITH must follow a single SPDX licence id");
            var exception = Peek ?? throw new FormatException("an exception id must follow WITH");
            Position++;
            var canonical = SpdxLicenses.CanonicalException(exception)
                ?? (LicenseRefPattern().IsMatch(exception.Replace("AdditionRef-", "LicenseRef-", StringComparison.Ordinal)) && exception.Contains("AdditionRef-", StringComparison.Ordinal) ? exception : null)
                ?? throw new FormatException($"'{exception}' is not an SPDX licence exception id");
            return license with { Exception = canonical };
        }

        private SpdxNode ParsePrimary()
        {
            var token = Peek ?? throw new FormatException("the expression ends where a licence id was expected");
            Position++;
            if (token == "(")
            {
                var inner = ParseOr();
                if (Peek != ")")
                    throw new FormatException("a '(' is not closed");
                Position++;
                return inner;
            }

            if (token is ")" or "AND" or "OR" or "WITH")
                throw new FormatException($"'{token}' where a licence id was expected");
            if (token.Equals("and", StringComparison.OrdinalIgnoreCase) || token.Equals("or", StringComparison.OrdinalIgnoreCase) || token.Equals("with", StringComparison.OrdinalIgnoreCase))
                throw new FormatException($"operator '{token}' must be upper case");

            if (LicenseRefPattern().IsMatch(token))
                return new SpdxLicense(token);

            var orLater = token.EndsWith('+');
            var id = orLater ? token[..^1] : token;
            // Deprecated ids such as "GPL-2.0+" are list entries themselves; prefer the literal entry.
            if (orLater && SpdxLicenses.Canonical(token) is { } literal)
                return new SpdxLicense(literal);
            var canonical = SpdxLicenses.Canonical(id) ?? throw new FormatException($"'{id}' is not an SPDX licence id (use LicenseRef-{Sanitize(id)} for other licences)");
            return new SpdxLicense(canonical, orLater);
        }

        private static string Sanitize(string id) => new(id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-').ToArray());
    }
}
