using System.Net;
using System.Text;

namespace ProvenanceGate.Verification;

/// <summary>A small document model (headings, paragraphs, tables, a mermaid graph) rendered as Markdown or HTML.</summary>
public sealed class ManifestDocument
{
    private readonly List<Block> _blocks = [];

    public ManifestDocument Heading(int level, string text) => Add(new Block(BlockKind.Heading, level, [text], []));

    public ManifestDocument Paragraph(string text) => Add(new Block(BlockKind.Paragraph, 0, [text], []));

    public ManifestDocument Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows) =>
        Add(new Block(BlockKind.Table, 0, headers, rows.ToList()));

    public ManifestDocument Mermaid(string source) => Add(new Block(BlockKind.Mermaid, 0, [source], []));

    public string ToMarkdown()
    {
        var builder = new StringBuilder();
        foreach (var block in _blocks)
        {
            switch (block.Kind)
            {
                case BlockKind.Heading:
                    builder.Append('#', block.Level).Append(' ').Append(block.Texts[0]).Append('\n');
                    break;
                case BlockKind.Paragraph:
                    builder.Append(block.Texts[0]).Append('\n');
                    break;
                case BlockKind.Table:
                    builder.Append("| ").Append(string.Join(" | ", block.Texts.Select(ReportWriters.Cell))).Append(" |\n");
                    builder.Append('|').Append(string.Concat(block.Texts.Select(_ => "---|"))).Append('\n');
                    foreach (var row in block.Rows)
                        builder.Append("| ").Append(string.Join(" | ", row.Select(ReportWriters.Cell))).Append(" |\n");
                    break;
                case BlockKind.Mermaid:
                    builder.Append(block.Texts[0]);
                    break;
            }

            builder.Append('\n');
        }

        return builder.ToString();
    }

    public string ToHtml(string title)
    {
        var builder = new StringBuilder();
        builder.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(Encode(title)).Append("</title>\n")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}th{background:#f3f3f3}pre{background:#f6f6f6;padding:1rem}</style>\n")
            .Append("</head>\n<body>\n");
        foreach (var block in _blocks)
        {
            switch (block.Kind)
            {
                case BlockKind.Heading:
                    builder.Append("<h").Append(block.Level).Append('>').Append(Encode(block.Texts[0])).Append("</h").Append(block.Level).Append(">\n");
                    break;
                case BlockKind.Paragraph:
                    builder.Append("<p>").Append(Encode(block.Texts[0])).Append("</p>\n");
                    break;
                case BlockKind.Table:
                    builder.Append("<table>\n<tr>").Append(string.Concat(block.Texts.Select(h => "<th>" + Encode(h) + "</th>"))).Append("</tr>\n");
                    foreach (var row in block.Rows)
                        builder.Append("<tr>").Append(string.Concat(row.Select(c => "<td>" + Encode(c) + "</td>"))).Append("</tr>\n");
                    builder.Append("</table>\n");
                    break;
                case BlockKind.Mermaid:
                    var source = block.Texts[0].Replace("```mermaid\n", "", StringComparison.Ordinal).Replace("```\n", "", StringComparison.Ordinal);
                    builder.Append("<pre class=\"mermaid\">").Append(Encode(source)).Append("</pre>\n");
                    break;
            }
        }

        builder.Append("</body>\n</html>\n");
        return builder.ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private ManifestDocument Add(Block block)
    {
        _blocks.Add(block);
        return this;
    }

    private enum BlockKind
    {
        Heading,
        Paragraph,
        Table,
        Mermaid,
    }

    private sealed record Block(BlockKind Kind, int Level, IReadOnlyList<string> Texts, List<IReadOnlyList<string>> Rows);
}
