using System.CommandLine;
using System.Text.Json;
using ProvenanceGate.Tool.Cli;

namespace ProvenanceGate.Tool.Commands;

/// <summary>`dotnet provenance codes`: the PG diagnostic catalogue, so wrappers and people can look a code up offline.</summary>
internal static class CodesCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("codes", "List every PGxxxx diagnostic code with its title and exit code.") { format };
        command.SetHandler(context =>
        {
            var all = Diagnostics.Diagnostics.All;
            if (context.Get(format) == "json")
            {
                context.Out.WriteLine(JsonSerializer.Serialize(all.Select(d => new { code = d.Code, title = d.Title, exitCode = d.ExitCode }), JsonOptions));
                return 0;
            }

            foreach (var descriptor in all)
                context.Out.WriteLine($"{descriptor.Code}  exit {descriptor.ExitCode}  {descriptor.Title}");
            return 0;
        });
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
