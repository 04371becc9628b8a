#pragma warning disable CA1050 // The runtime finds a startup hook by this exact name, outside any namespace.

/// <summary>
/// Loaded into a child dotnet-provenance through DOTNET_STARTUP_HOOKS by tests that need to know which assemblies a real
/// run loads (the CPU path must never load ILGPU): with PROVENANCEGATE_TEST_LIST_ASSEMBLIES=1 it prints them at exit.
/// </summary>
internal static class StartupHook
{
    public const string Variable = "PROVENANCEGATE_TEST_LIST_ASSEMBLIES";
    public const string Prefix = "loaded assemblies: ";

    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            return;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            Console.Error.WriteLine(Prefix + string.Join(",", AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name)));
    }
}
