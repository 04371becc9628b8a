using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Verification.Policy;

/// <summary>Turns a resolved policy document into a <see cref="GatePolicy"/>, rejecting unknown keys and bad values.</summary>
internal static class PolicyParser
{
    private static readonly string[] RootKeys = ["schemaVersion", "name", "description", "signature", "digests", "requiredFields", "licenses", "approvals", "lineage", "serialization", "inventory", "exceptions"];

    public static GatePolicy Parse(JsonObject document, string source)
    {
        var reader = new Reader(source);
        reader.OnlyKeys(document, "", RootKeys);
        var name = reader.String(document, "name", "") ?? Path.GetFileNameWithoutExtension(source);

        var signature = reader.Object(document, "signature");
        reader.OnlyKeys(signature, "signature", ["required"]);

        var digests = reader.Object(document, "digests");
        reader.OnlyKeys(digests, "digests", ["enabled", "unlistedWeights", "unlistedFiles", "ignore"]);

        var licenses = reader.Object(document, "licenses");
        reader.OnlyKeys(licenses, "licenses", ["allow", "deny", "inheritFromBase"]);

        var approvals = reader.Object(document, "approvals");
        reader.OnlyKeys(approvals, "approvals", ["required", "reviewOverdue"]);

        var lineage = reader.Object(document, "lineage");
        reader.OnlyKeys(lineage, "lineage", ["enabled", "onIndependent", "onIdentical", "onCloserBase", "onInsufficientEvidence", "minimumDerivedScore"]);

        var inventory = reader.Object(document, "inventory");
        reader.OnlyKeys(inventory, "inventory", ["undeclaredModels", "unsignedModelPackages"]);

        var serialization = reader.Object(document, "serialization");
        reader.OnlyKeys(serialization, "serialization", ["pickleFormat", "codeImports", "unknownGlobals", "allowGlobals"]);

        return new GatePolicy(
            name,
            source,
            new SignaturePolicy(reader.Bool(signature, "signature.required", "required", true)),
            new DigestPolicy(
                reader.Bool(digests, "digests.enabled", "enabled", true),
                reader.Action(digests, "digests.unlistedWeights", "unlistedWeights", PolicyAction.Fail),
                reader.Action(digests, "digests.unlistedFiles", "unlistedFiles", PolicyAction.Warn),
                reader.Strings(digests, "digests.ignore", "ignore")),
            RequiredFields(reader, document),
            new LicensePolicy(
                reader.Strings(licenses, "licenses.allow", "allow"),
                reader.Strings(licenses, "licenses.deny", "deny"),
                reader.Bool(licenses, "licenses.inheritFromBase", "inheritFromBase", true)),
            new ApprovalPolicy(
                reader.Strings(approvals, "approvals.required", "required").Distinct(StringComparer.OrdinalIgnoreCase).ToArray(),
                reader.Action(approvals, "approvals.reviewOverdue", "reviewOverdue", PolicyAction.Fail)),
            new LineagePolicy(
                reader.Bool(lineage, "lineage.enabled", "enabled", true),
                reader.Action(lineage, "lineage.onIndependent", "onIndependent", PolicyAction.Fail),
                reader.Action(lineage, "lineage.onIdentical", "onIdentical", PolicyAction.Warn),
                reader.Action(lineage, "lineage.onCloserBase", "onCloserBase", PolicyAction.Warn),
                reader.Action(lineage, "lineage.onInsufficientEvidence", "onInsufficientEvidence", PolicyAction.Warn),
                reader.Number(lineage, "lineage.minimumDerivedScore", "minimumDerivedScore")),
            new SerializationPolicy(
                reader.Action(serialization, "serialization.pickleFormat", "pickleFormat", PolicyAction.Warn),
                reader.Action(serialization, "serialization.codeImports", "codeImports", PolicyAction.Fail),
                reader.Action(serialization, "serialization.unknownGlobals", "unknownGlobals", PolicyAction.Fail),
                reader.Strings(serialization, "serialization.allowGlobals", "allowGlobals")),
            Exceptions(reader, document))
        {
            Inventory = new InventoryPolicy(
                reader.Action(inventory, "inventory.undeclaredModels", "undeclaredModels", InventoryPolicy.Default.UndeclaredModels),
                reader.Action(inventory, "inventory.unsignedModelPackages", "unsignedModelPackages", InventoryPolicy.Default.UnsignedModelPackages)),
        };
    }

    private static List<RequiredField> RequiredFields(Reader reader, JsonObject document)
    {
        var fields = new List<RequiredField>();
        if (document["requiredFields"] is null)
            return fields;
        if (document["requiredFields"] is not JsonArray array)
            throw reader.Error("requiredFields must be a list");
        for (var i = 0; i < array.Count; i++)
        {
            var where = $"requiredFields[{i}]";
            if (array[i] is not JsonObject entry)
                throw reader.Error($"{where} must be a mapping");
            reader.OnlyKeys(entry, where, ["id", "scope", "path", "description", "clauses", "enabled"]);
            if (!reader.Bool(entry, where + ".enabled", "enabled", true))
                continue;
            var id = reader.String(entry, "id", where) ?? throw reader.Error($"{where} needs an id");
            var scope = reader.String(entry, "scope", where) ?? "model";
            if (scope is not ("bom" or "model" or "dataset"))
                throw reader.Error($"{where}.scope must be bom, model or dataset (found '{scope}')");
            var path = reader.String(entry, "path", where) ?? throw reader.Error($"{where} ({id}) needs a path");
            fields.Add(new RequiredField(id, scope, path, reader.String(entry, "description", where) ?? id, reader.Strings(entry, where + ".clauses", "clauses")));
        }

        return fields;
    }

    private static List<PolicyWaiver> Exceptions(Reader reader, JsonObject document)
    {
        var exceptions = new List<PolicyWaiver>();
        if (document["exceptions"] is null)
            return exceptions;
        if (document["exceptions"] is not JsonArray array)
            throw reader.Error("exceptions must be a list");
        for (var i = 0; i < array.Count; i++)
        {
            var where = $"exceptions[{i}]";
            if (array[i] is not JsonObject entry)
                throw reader.Error($"{where} must be a mapping");
            reader.OnlyKeys(entry, where, ["code", "component", "expires", "reason"]);
            var code = reader.String(entry, "code", where) ?? throw reader.Error($"{where} needs a code (PG4xxx)");
            if (!Diagnostics.Diagnostics.All.Any(d => d.Code == code))
                throw reader.Error($"{where}.code '{code}' is not a ProvenanceGate diagnostic code");
            var expiresText = reader.String(entry, "expires", where) ?? throw reader.Error($"{where} needs an expires date: an exception without an end is a silent policy change");
            if (!DateTimeOffset.TryParse(expiresText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
                throw reader.Error($"{where}.expires '{expiresText}' is not a date (YYYY-MM-DD)");
            var reason = reader.String(entry, "reason", where) ?? throw reader.Error($"{where} needs a reason");
            exceptions.Add(new PolicyWaiver(code, reader.String(entry, "component", where) ?? "*", expires, reason));
        }

        return exceptions;
    }

    private sealed class Reader(string source)
    {
        public ProvenanceException Error(string message) =>
            Diagnostics.Diagnostics.GatePolicyInvalid.Exception($"policy '{source}': {message}", source.StartsWith("profile:", StringComparison.Ordinal) ? null : source);

        public void OnlyKeys(JsonObject? node, string where, string[] allowed)
        {
            if (node is null)
                return;
            foreach (var (key, _) in node)
            {
                if (!allowed.Contains(key, StringComparer.Ordinal))
                    throw Error($"unknown key '{(where.Length == 0 ? key : where + "." + key)}' (allowed: {string.Join(", ", allowed)})");
            }
        }

        public JsonObject? Object(JsonObject document, string key) => document[key] switch
        {
            null => null,
            JsonObject o => o,
            _ => throw Error($"'{key}' must be a mapping"),
        };

        public string? String(JsonObject? node, string key, string where)
        {
            var value = node?[key];
            if (value is null)
                return null;
            if (value is JsonValue scalar)
                return scalar.GetValueKind() == JsonValueKind.String ? scalar.GetValue<string>() : scalar.ToJsonString();
            throw Error($"'{(where.Length == 0 ? key : where + "." + key)}' must be a single value");
        }

        public bool Bool(JsonObject? node, string where, string key, bool fallback)
        {
            var text = String(node, key, "");
            return text switch
            {
                null => fallback,
                "true" or "True" or "yes" => true,
                "false" or "False" or "no" => false,
                _ => throw Error($"'{where}' must be true or false (found '{text}')"),
            };
        }

        public double? Number(JsonObject? node, string where, string key)
        {
            var text = String(node, key, "");
            if (text is null)
                return null;
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 1
                ? value
                : throw Error($"'{where}' must be a number between 0 and 1 (found '{text}')");
        }

        public PolicyAction Action(JsonObject? node, string where, string key, PolicyAction fallback)
        {
            var text = String(node, key, "");
            return text switch
            {
                null => fallback,
                "fail" => PolicyAction.Fail,
                "warn" => PolicyAction.Warn,
                "off" => PolicyAction.Off,
                _ => throw Error($"'{where}' must be fail, warn or off (found '{text}')"),
            };
        }

        public string[] Strings(JsonObject? node, string where, string key)
        {
            var value = node?[key];
            if (value is null)
                return [];
            if (value is not JsonArray array)
                throw Error($"'{where}' must be a list");
            return array.Select(item => item is JsonValue v
                ? (v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString())
                : throw Error($"'{where}' must be a list of values")).ToArray();
        }
    }
}
