using System.Globalization;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification.Checks;

/// <summary>An approval recorded in the BOM: who approved in which role, when, and until when it holds.</summary>
internal sealed record Approval(string Role, string? By, DateTimeOffset? Date, DateTimeOffset? ReviewBy, string JsonPath, string? Component);

/// <summary>Required approvals are present, review-by dates are not past, and no policy exception has expired.</summary>
internal static class GovernanceCheck
{
    public const string ApprovalProperty = "provenancegate:approval";
    public const string ReviewByProperty = "provenancegate:review-by";

    public static void Run(GateContext context)
    {
        var check = CheckIds.Governance;
        var now = context.Options.Now;
        var approvals = ReadApprovals(context.Bom).ToList();

        foreach (var role in context.Policy.Approvals.Required)
        {
            if (!approvals.Any(a => string.Equals(a.Role, role, StringComparison.OrdinalIgnoreCase)))
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateApprovalMissing, "/metadata",
                    $"the BOM records no '{role}' approval; policy '{context.Policy.Name}' requires one (declare it under approvals: in the provenance declaration, with role: {role})");
        }

        var overdue = GatePolicySeverity(context.Policy.Approvals.ReviewOverdue);
        foreach (var approval in approvals.Where(a => a.ReviewBy is { } due && due <= now))
            context.Add(check, overdue, Diagnostics.Diagnostics.GateReviewOverdue, approval.JsonPath,
                $"the '{approval.Role}' approval{(approval.By is null ? "" : " by " + approval.By)} was due for review by {approval.ReviewBy:yyyy-MM-dd}; it is {now:yyyy-MM-dd}",
                approval.Component);

        foreach (var (node, pointer, component) in ReviewByHolders(context.Bom))
        {
            var text = BomDocument.PropertyValue(node, ReviewByProperty);
            if (text is null)
                continue;
            if (!TryDate(text, out var due))
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GateReviewOverdue, pointer + "/properties",
                    $"{ReviewByProperty} '{text}' is not a date (YYYY-MM-DD), so the review cannot be shown to be current", component);
            else if (due <= now)
                context.Add(check, overdue, Diagnostics.Diagnostics.GateReviewOverdue, pointer + "/properties",
                    $"{(component is null ? "the BOM" : $"'{component}'")} was due for review by {due:yyyy-MM-dd}; it is {now:yyyy-MM-dd}", component);
        }

        foreach (var exception in context.Policy.Exceptions.Where(e => e.Expires <= now))
            context.Add(check, new Diagnostic(Diagnostics.Diagnostics.GateExceptionExpired, DiagnosticSeverity.Error,
                $"the exception for {exception.Code} on '{exception.Component}' expired on {exception.Expires:yyyy-MM-dd} ({exception.Reason}); it waives nothing now",
                context.Policy.Source.StartsWith("profile:", StringComparison.Ordinal) ? null : context.Policy.Source));

        if (context.Policy.Approvals.Required.Count == 0 && approvals.Count == 0 && context.Policy.Exceptions.Count == 0)
            context.Note(check, "no approvals required, none recorded");
        else
            context.Note(check, $"{approvals.Count} approval(s) current; {context.Policy.Exceptions.Count} exception(s) in force");
    }

    private static DiagnosticSeverity? GatePolicySeverity(ProvenanceGate.Verification.Policy.PolicyAction action) =>
        ProvenanceGate.Verification.Policy.GatePolicy.SeverityOf(action);

    private static IEnumerable<(JsonObject Node, string JsonPath, string? Component)> ReviewByHolders(BomDocument bom)
    {
        if (bom.Root["metadata"] is JsonObject metadata)
            yield return (metadata, "/metadata", null);
        foreach (var model in bom.Models)
            yield return (model.Node, model.JsonPath, model.Id);
    }

    /// <summary>
    /// Approvals as the BOM generator records them (from the declaration's <c>approvals:</c>): properties on a model or on
    /// metadata named <c>provenancegate:approval:N:approver|role|date|review-by|scope</c>, one N per approval.
    /// </summary>
    public static IEnumerable<Approval> ReadApprovals(BomDocument bom)
    {
        foreach (var (node, pointer, component) in ReviewByHolders(bom))
        {
            if (node["properties"] is not JsonArray properties)
                continue;
            var groups = new SortedDictionary<int, (Dictionary<string, string> Fields, int Index)>();
            for (var i = 0; i < properties.Count; i++)
            {
                if (properties[i] is not JsonObject property || BomDocument.Text(property["name"]) is not { } name ||
                    !name.StartsWith(ApprovalProperty + ":", StringComparison.Ordinal))
                    continue;
                var parts = name[(ApprovalProperty.Length + 1)..].Split(':', 2);
                if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                    continue;
                if (!groups.TryGetValue(number, out var group))
                    groups[number] = group = (new Dictionary<string, string>(StringComparer.Ordinal), i);
                group.Fields[parts[1]] = BomDocument.Text(property["value"]) ?? "";
            }

            foreach (var (_, (fields, index)) in groups)
            {
                var role = fields.GetValueOrDefault("role") ?? fields.GetValueOrDefault("scope") ?? "approval";
                yield return new Approval(role, fields.GetValueOrDefault("approver"),
                    TryDate(fields.GetValueOrDefault("date"), out var date) ? date : null,
                    TryDate(fields.GetValueOrDefault("review-by"), out var reviewBy) ? reviewBy : null,
                    $"{pointer}/properties/{index}", component);
            }
        }
    }

    private static bool TryDate(string? text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
}
