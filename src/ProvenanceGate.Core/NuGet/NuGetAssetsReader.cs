using System.Text.Json;

namespace ProvenanceGate.NuGet;

/// <summary>
/// Reads the packages a project resolved from its restore output (obj/project.assets.json), the way
/// cyclonedx-dotnet does through NuGet.ProjectModel, with System.Text.Json only: name, version, SHA-512 of the
/// .nupkg (its .nupkg.sha512 file in the packages folder, else the assets file's hash), the package-to-package graph,
/// and the licence from each package's .nuspec in the packages folder.
/// </summary>
public static class NuGetAssetsReader
{
    /// <param name="targetFramework">The project's TargetFramework (an alias such as net10.0); null or empty when the project has one framework.</param>
    public static NuGetDependencyGraph Read(string assetsPath, string? targetFramework)
    {
        using var document = Parse(assetsPath);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("targets", out var targets) || targets.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("libraries", out var libraries) || libraries.ValueKind != JsonValueKind.Object)
            throw Malformed(assetsPath, "it has no 'targets' and 'libraries' objects");

        var project = root.TryGetProperty("project", out var p) && p.ValueKind == JsonValueKind.Object ? p : default;
        var projectName = String(project, "restore", "projectName") ?? Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(assetsPath)))) ?? "";
        var projectVersion = String(project, "version");

        var (alias, frameworkEntry) = FindFramework(project, targetFramework);
        var target = FindTarget(assetsPath, targets, frameworkEntry.ValueKind == JsonValueKind.Object ? String(frameworkEntry, "framework") ?? alias : alias ?? targetFramework);

        // Resolved packages of this framework: "Id/Version" -> dependency ids.
        var resolved = new SortedDictionary<string, (string Id, string Version, List<string> Dependencies)>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in target.EnumerateObject())
        {
            if (!string.Equals(String(entry.Value, "type"), "package", StringComparison.OrdinalIgnoreCase))
                continue; // project references are not packages: they have no hash or nuspec.
            var (id, version) = SplitKey(assetsPath, entry.Name);
            var dependencies = entry.Value.TryGetProperty("dependencies", out var deps) && deps.ValueKind == JsonValueKind.Object
                ? deps.EnumerateObject().Select(d => d.Name).ToList()
                : [];
            resolved[id] = (id, version, dependencies);
        }

        var direct = DirectDependencies(root, frameworkEntry, alias ?? targetFramework);
        var runtimeReachable = Reachable(resolved, direct.Where(d => !d.Value).Select(d => d.Key));
        var packageFolders = PackageFolders(root, project);

        var packages = new List<NuGetPackage>();
        foreach (var (id, version, dependencies) in resolved.Values)
        {
            var key = $"{id}/{version}";
            if (!TryGetIgnoreCase(libraries, key, out var library))
                throw Malformed(assetsPath, $"package '{key}' is in 'targets' but not in 'libraries'");
            var sha512 = String(library, "sha512") ?? throw Malformed(assetsPath, $"package '{key}' has no sha512");
            var relativePath = String(library, "path") ?? $"{id.ToLowerInvariant()}/{version.ToLowerInvariant()}";
            var nuspec = library.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Array
                ? files.EnumerateArray().Select(f => f.GetString()).FirstOrDefault(f => f is not null && !f.Contains('/', StringComparison.Ordinal) && f.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase))
                : null;
            nuspec ??= id.ToLowerInvariant() + ".nuspec";

            var nuspecPath = packageFolders.Select(folder => Path.Combine(folder, relativePath, nuspec)).FirstOrDefault(File.Exists);
            var license = nuspecPath is null ? null : NuspecLicenseReader.Read(nuspecPath);
            var hash = NupkgFileHash(packageFolders, relativePath, id, version) ?? sha512;
            var dependencyIds = dependencies.Where(resolved.ContainsKey).Select(d => resolved[d].Id).Order(StringComparer.Ordinal).ToArray();
            var directory = packageFolders.Select(folder => Path.Combine(folder, relativePath)).FirstOrDefault(System.IO.Directory.Exists);
            packages.Add(new NuGetPackage(id, version, Base64ToHex(assetsPath, key, hash), license, dependencyIds,
                IsDirect: direct.ContainsKey(id), IsDevelopmentDependency: !runtimeReachable.Contains(id))
            {
                Directory = directory,
                Files = library.TryGetProperty("files", out var listed) && listed.ValueKind == JsonValueKind.Array
                    ? listed.EnumerateArray().Select(f => f.ValueKind == JsonValueKind.String ? f.GetString() : null).OfType<string>().ToArray()
                    : [],
                Signature = directory is null ? null : NuGetSignatureReader.Read(directory),
            });
        }

        packages.Sort((a, b) => StringComparer.Ordinal.Compare(a.Id, b.Id));
        return new NuGetDependencyGraph(projectName, projectVersion, alias ?? targetFramework ?? "", packages);
    }

    private static JsonDocument Parse(string assetsPath)
    {
        if (!File.Exists(assetsPath))
            throw Diagnostics.Diagnostics.AssetsFileInvalid.Exception($"'{assetsPath}' does not exist; run 'dotnet restore' first", assetsPath);
        var bytes = IO.JsonInput.WithoutByteOrderMark(IO.InputFile.ReadAllBytes(assetsPath, IO.InputLimit.ProjectAssets));
        try
        {
            return JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Diagnostics.Diagnostics.AssetsFileInvalid.Exception($"'{assetsPath}' does not exist; run 'dotnet restore' first", assetsPath, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.AssetsFileInvalid.Exception($"cannot read '{assetsPath}': {ex.Message}", assetsPath, inner: ex);
        }
        catch (JsonException ex)
        {
            var line = ex.LineNumber is { } l ? (int)l + 1 : (int?)null;
            throw Diagnostics.Diagnostics.AssetsFileInvalid.Exception($"'{assetsPath}' is not valid JSON: {ex.Message}", assetsPath, line, inner: ex);
        }
    }

    /// <summary>The project's framework entry for the alias (project.frameworks is keyed by TargetFramework alias).</summary>
    private static (string? Alias, JsonElement Entry) FindFramework(JsonElement project, string? targetFramework)
    {
        if (project.ValueKind != JsonValueKind.Object || !project.TryGetProperty("frameworks", out var frameworks) || frameworks.ValueKind != JsonValueKind.Object)
            return (NullIfEmpty(targetFramework), default);
        var all = frameworks.EnumerateObject().ToList();
        if (string.IsNullOrEmpty(targetFramework))
            return all.Count == 1 ? (all[0].Name, all[0].Value) : (null, default);
        var match = all.FirstOrDefault(f => string.Equals(f.Name, targetFramework, StringComparison.OrdinalIgnoreCase)
                                            || string.Equals(String(f.Value, "targetAlias"), targetFramework, StringComparison.OrdinalIgnoreCase));
        return match.Value.ValueKind == JsonValueKind.Object ? (match.Name, match.Value) : (targetFramework, default);
    }

    /// <summary>The RID-less target of the framework (RID-specific targets add runtime packs, not packages the app references).</summary>
    private static JsonElement FindTarget(string assetsPath, JsonElement targets, string? framework)
    {
        var candidates = targets.EnumerateObject().Where(t => !t.Name.Contains('/', StringComparison.Ordinal)).ToList();
        if (framework is not null)
        {
            var match = candidates.FirstOrDefault(t => string.Equals(t.Name, framework, StringComparison.OrdinalIgnoreCase));
            if (match.Value.ValueKind == JsonValueKind.Object)
                return match.Value;
        }

        // Old assets files key targets by full framework name (".NETCoreApp,Version=v10.0"); with one target there is no doubt.
        if (candidates.Count == 1 && (framework is null || candidates[0].Name.Contains(',', StringComparison.Ordinal)))
            return candidates[0].Value;
        throw Diagnostics.Diagnostics.AssetsFrameworkNotFound.Exception(
            $"'{assetsPath}' has no target for framework '{framework ?? "(none)"}' (it has: {string.Join(", ", targets.EnumerateObject().Select(t => t.Name))}); run 'dotnet restore'",
            assetsPath);
    }

    /// <summary>Direct package references: id -> whether the reference is PrivateAssets="all" (a development dependency).</summary>
    private static Dictionary<string, bool> DirectDependencies(JsonElement root, JsonElement frameworkEntry, string? framework)
    {
        var direct = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
        if (frameworkEntry.ValueKind == JsonValueKind.Object && frameworkEntry.TryGetProperty("dependencies", out var dependencies)
            && dependencies.ValueKind == JsonValueKind.Object)
        {
            foreach (var dependency in dependencies.EnumerateObject())
            {
                var suppressParent = String(dependency.Value, "suppressParent");
                direct[dependency.Name] = string.Equals(suppressParent?.Trim(), "All", StringComparison.OrdinalIgnoreCase);
            }

            return direct;
        }

        // Older assets files: only "projectFileDependencyGroups" ("Id >= 1.0") tells which packages are direct.
        if (root.TryGetProperty("projectFileDependencyGroups", out var groups) && groups.ValueKind == JsonValueKind.Object)
        {
            foreach (var group in groups.EnumerateObject().Where(g => framework is null || string.Equals(g.Name, framework, StringComparison.OrdinalIgnoreCase)))
            {
                if (group.Value.ValueKind != JsonValueKind.Array)
                    continue;
                foreach (var text in group.Value.EnumerateArray().Select(e => e.GetString()).OfType<string>())
                    direct[text.Split(' ', 2)[0]] = false;
            }
        }

        return direct;
    }

    private static HashSet<string> Reachable(SortedDictionary<string, (string Id, string Version, List<string> Dependencies)> resolved, IEnumerable<string> roots)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<string>(roots);
        while (pending.TryPop(out var id))
        {
            if (!resolved.TryGetValue(id, out var package) || !seen.Add(id))
                continue;
            foreach (var dependency in package.Dependencies)
                pending.Push(dependency);
        }

        return seen;
    }

    /// <summary>
    /// SHA-512 of the .nupkg file itself, from the &lt;id&gt;.&lt;version&gt;.nupkg.sha512 file restore writes next to it.
    /// The assets file records the package's content hash instead, which for a repository-signed package leaves out the
    /// signature; the file hash is what anyone holding the .nupkg can check (and what cyclonedx-dotnet reports).
    /// </summary>
    private static string? NupkgFileHash(List<string> packageFolders, string relativePath, string id, string version)
    {
        var fileName = $"{id.ToLowerInvariant()}.{version.ToLowerInvariant()}.nupkg.sha512";
        foreach (var folder in packageFolders)
        {
            var path = Path.Combine(folder, relativePath, fileName);
            if (File.Exists(path))
                return IO.InputFile.ReadAllText(path, "package hash").Trim();
        }

        return null;
    }

    private static List<string> PackageFolders(JsonElement root, JsonElement project)
    {
        var folders = new List<string>();
        if (root.TryGetProperty("packageFolders", out var packageFolders) && packageFolders.ValueKind == JsonValueKind.Object)
            folders.AddRange(packageFolders.EnumerateObject().Select(f => f.Name));
        if (String(project, "restore", "packagesPath") is { } packagesPath && !folders.Contains(packagesPath))
            folders.Add(packagesPath);
        return folders;
    }

    private static (string Id, string Version) SplitKey(string assetsPath, string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == key.Length - 1)
            throw Malformed(assetsPath, $"target entry '{key}' is not 'Id/Version'");
        return (key[..slash], key[(slash + 1)..]);
    }

    private static string Base64ToHex(string assetsPath, string key, string base64)
    {
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var written) || written != 64)
            throw Malformed(assetsPath, $"package '{key}' has a sha512 that is not 64 base64-encoded bytes");
        return Convert.ToHexStringLower(bytes.AsSpan(0, written));
    }

    private static bool TryGetIgnoreCase(JsonElement element, string name, out JsonElement value)
    {
        if (element.TryGetProperty(name, out value))
            return true;
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        return false;
    }

    private static string? String(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
                return null;
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static Diagnostics.ProvenanceException Malformed(string assetsPath, string reason) =>
        Diagnostics.Diagnostics.AssetsFileInvalid.Exception($"'{assetsPath}' is not a usable project assets file: {reason}", assetsPath);
}
