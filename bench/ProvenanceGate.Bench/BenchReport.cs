using System.Diagnostics;
using System.Globalization;

namespace ProvenanceGate.Bench;

internal interface IBenchScenario
{
    string Name { get; }

    void Run(BenchReport report, bool quick);
}

internal sealed record BenchResult(string Scenario, string Metric, double Value, string Unit, string Goal, bool GoalMet);

/// <summary>Collects results and prints one line per metric: value, goal, and whether the goal is met.</summary>
internal sealed class BenchReport
{
    private readonly List<BenchResult> _results = [];

    public bool AllGoalsMet => _results.All(r => r.GoalMet);

    public void Add(string scenario, string metric, double value, string unit, string goal, bool goalMet)
    {
        _results.Add(new BenchResult(scenario, metric, value, unit, goal, goalMet));
        Console.Error.WriteLine(Format(_results[^1]));
    }

    public void Print(TextWriter output)
    {
        output.WriteLine("scenario | metric | value | goal | met");
        foreach (var result in _results)
            output.WriteLine(Format(result));
    }

    private static string Format(BenchResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Scenario} | {r.Metric} | {r.Value:0.###} {r.Unit} | {r.Goal} | {(r.GoalMet ? "yes" : "NO")}");
}

internal static class Measure
{
    /// <summary>Median wall time of <paramref name="repetitions"/> runs after one warm-up run.</summary>
    public static TimeSpan Median(int repetitions, Action action)
    {
        action();
        var times = new List<TimeSpan>();
        for (var i = 0; i < repetitions; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            action();
            times.Add(stopwatch.Elapsed);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Runs an external program (a baseline such as sha256sum) and fails loudly if it fails.</summary>
    public static void RunProcess(string fileName, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo)!;
        process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{fileName} failed ({process.ExitCode}): {error}");
    }
}
