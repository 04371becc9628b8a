using ProvenanceGate.Diagnostics;
using ProvenanceGate.Verification.Pickle;

namespace ProvenanceGate.Verification.Checks;

/// <summary>
/// Pickle-based weight files, listed or present, are flagged as an unsafe format; their opcodes are walked (never
/// unpickled) and an import of code fails the gate.
/// </summary>
internal static class SerializationCheck
{
    public static void Run(GateContext context)
    {
        var check = CheckIds.Serialization;
        var policy = context.Policy.Serialization;
        var listed = DigestCheck.ListedPickles(context.Bom).Where(f => DigestCheck.UnsafePathReason(f.Path) is null).ToList();
        var root = context.Options.ModelDirectory is { } directory ? Path.GetFullPath(directory) : null;

        // What to inspect: listed pickle files, and pickle files present in the directory though not listed.
        var files = new List<(string Relative, string JsonPath, string? Component)>();
        files.AddRange(listed.Select(f => (f.Path, f.JsonPath, (string?)f.Component.Id)));
        if (context.ModelDirectoryFiles is { } present)
            files.AddRange(present.Where(p => PickleScanner.IsPickleFormat(p) && !listed.Any(l => l.Path == p)).Select(p => (p, "/components", (string?)null)));

        if (files.Count == 0)
        {
            context.Note(check, "no pickle-based files");
            return;
        }

        var format = GatePolicy(policy.PickleFormat);
        var scanned = 0;
        foreach (var (relative, pointer, component) in files)
        {
            context.Add(check, format, Diagnostics.Diagnostics.GatePickleFormat, pointer,
                $"'{relative}' is a pickle-based format, which runs code when loaded; prefer safetensors", component);
            var full = root is null ? null : Path.Combine(root, relative);
            if (full is null || !File.Exists(full))
                continue;
            scanned++;
            var result = PickleScanner.Scan(full, policy.AllowGlobals.ToHashSet(StringComparer.Ordinal));
            if (result.Error is { } error)
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GatePickleMalformed, pointer,
                    $"'{relative}' cannot be inspected, so it cannot be shown safe: {error}", component);
            foreach (var global in result.CodeImports.DistinctBy(g => g.FullName))
                context.Add(check, GatePolicy(policy.CodeImports), Diagnostics.Diagnostics.GatePickleCodeImport, pointer,
                    $"'{relative}'{Entry(global)} imports {global.FullName}: loading it would run code", component);
            foreach (var global in result.UnknownGlobals.DistinctBy(g => g.FullName))
                context.Add(check, GatePolicy(policy.UnknownGlobals), Diagnostics.Diagnostics.GatePickleUnknownGlobal, pointer,
                    global.Module == "?"
                        ? $"'{relative}'{Entry(global)} imports a global whose name is computed at load time (offset {global.Offset})"
                        : $"'{relative}'{Entry(global)} imports {global.FullName}, which is neither a tensor rebuild helper nor on the policy's allowGlobals",
                    component);
        }

        if (root is null)
            context.Skip(check, $"no --model-dir given: {files.Count} pickle file(s) flagged, contents not inspected");
        else
            context.Note(check, $"{scanned} pickle file(s) inspected");
    }

    private static string Entry(PickleGlobal global) => global.Entry.Length == 0 ? "" : $" ({global.Entry})";

    private static DiagnosticSeverity? GatePolicy(Policy.PolicyAction action) => Policy.GatePolicy.SeverityOf(action);
}
