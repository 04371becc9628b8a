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

        // What to inspect: listed pickle files (in their model's directory where one was given), and pickle files present
        // in a model directory though not listed for its model.
        var files = new List<(string Relative, string JsonPath, string? Component, string? Root, string OfModel)>();
        foreach (var file in listed)
        {
            var scope = context.Scopes.FirstOrDefault(s => s.Files.Contains(file));
            files.Add((file.Path, file.JsonPath, file.Component.Id, scope is null ? null : Path.GetFullPath(scope.Directory), scope?.OfModel ?? ""));
        }

        foreach (var scope in context.Scopes)
        {
            var model = scope.OfModel.Length > 0 ? scope.Model : null;
            files.AddRange((scope.PresentFiles ?? [])
                .Where(p => PickleScanner.IsPickleFormat(p) && !scope.Files.Any(l => l.Path == p))
                .Select(p => (p, model is null ? "/components" : model.JsonPath + "/components", model?.Id, (string?)Path.GetFullPath(scope.Directory), scope.OfModel)));
        }

        if (files.Count == 0)
        {
            context.Note(check, "no pickle-based files");
            return;
        }

        var format = GatePolicy(policy.PickleFormat);
        var scanned = 0;
        foreach (var (relative, pointer, component, root, ofModel) in files)
        {
            context.Add(check, format, Diagnostics.Diagnostics.GatePickleFormat, pointer,
                $"'{relative}'{ofModel} is a pickle-based format, which runs code when loaded; prefer safetensors", component);
            var full = root is null ? null : Path.Combine(root, relative);
            if (full is null || !File.Exists(full))
                continue;
            scanned++;
            var result = PickleScanner.Scan(full, policy.AllowGlobals.ToHashSet(StringComparer.Ordinal));
            if (result.Error is { } error)
                context.Add(check, DiagnosticSeverity.Error, Diagnostics.Diagnostics.GatePickleMalformed, pointer,
                    $"'{relative}'{ofModel} cannot be inspected, so it cannot be shown safe: {error}", component);
            foreach (var global in result.CodeImports.DistinctBy(g => g.FullName))
                context.Add(check, GatePolicy(policy.CodeImports), Diagnostics.Diagnostics.GatePickleCodeImport, pointer,
                    $"'{relative}'{ofModel}{Entry(global)} imports {global.FullName}: loading it would run code", component);
            foreach (var global in result.UnknownGlobals.DistinctBy(g => g.FullName))
                context.Add(check, GatePolicy(policy.UnknownGlobals), Diagnostics.Diagnostics.GatePickleUnknownGlobal, pointer,
                    global.Module == "?"
                        ? $"'{relative}'{ofModel}{Entry(global)} imports a global whose name is computed at load time (offset {global.Offset})"
                        : $"'{relative}'{ofModel}{Entry(global)} imports {global.FullName}, which is neither a tensor rebuild helper nor on the policy's allowGlobals",
                    component);
        }

        if (context.Scopes.Count == 0)
            context.Skip(check, $"no --model-dir given: {files.Count} pickle file(s) flagged, contents not inspected");
        else
            context.Note(check, $"{scanned} pickle file(s) inspected");
    }

    private static string Entry(PickleGlobal global) => global.Entry.Length == 0 ? "" : $" ({global.Entry})";

    private static DiagnosticSeverity? GatePolicy(Policy.PolicyAction action) => Policy.GatePolicy.SeverityOf(action);
}
