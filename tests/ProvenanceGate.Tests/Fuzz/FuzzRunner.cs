using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Tests.Fuzz;

public enum Verdict
{
    /// <summary>The reader accepted the input.</summary>
    Accepted,

    /// <summary>The reader refused it with a catalogued PG error: the contract.</summary>
    Refused,

    /// <summary>A filed, unfixed finding (see <see cref="KnownFindings"/>).</summary>
    Known,

    /// <summary>Anything else: another exception, PG0006, a hang or ballooning memory.</summary>
    Failed,
}

public sealed record CaseResult(Verdict Verdict, string Signature, string Detail);

/// <summary>
/// The oracle. A case runs on its own thread (8 MiB of stack, as the CLI's main thread has) under a time limit and an
/// allocation bound, and must end as success or a <see cref="ProvenanceException"/>; everything else fails and its
/// input is saved under regressions/&lt;family&gt;/, where <see cref="FuzzTests"/> replays it on every run.
/// </summary>
public static class FuzzRunner
{
    public static TimeSpan CaseTimeout { get; } = TimeSpan.FromSeconds(
        double.Parse(Environment.GetEnvironmentVariable("PROVENANCEGATE_FUZZ_TIMEOUT_S") ?? "20", CultureInfo.InvariantCulture));

    /// <summary>Allocated by one case (its thread, plus everything the process allocated meanwhile): far above any
    /// legitimate small input (the largest legitimate cost is scrypt's 32 MiB for a cosign key), far below harm.</summary>
    public const long AllocationBound = 512L << 20;

    /// <summary>Live heap at which the watchdog saves the input and stops the host, before the machine is hurt.</summary>
    public const long HeapEmergencyBound = 4L << 30;

    /// <summary>The family whose hung case still runs on an abandoned thread: its allocations would be charged to every
    /// later case, so the families after it report inconclusive instead of false findings.</summary>
    public static string? AbandonedBy { get; private set; }

    public static string RegressionsDirectory(string family) => RepoPaths.InRepo("tests", "ProvenanceGate.Tests", "Fuzz", "regressions", family);

    public static CaseResult Run(FuzzFamily family, byte[] input, string workDirectory)
    {
        if (KnownFindings.Skipping(family.Name, input) is { } skipped)
            return new CaseResult(Verdict.Known, skipped.Id, "not run: " + skipped.Description);

        Exception? thrown = null;
        long threadAllocated = 0;
        var totalBefore = GC.GetTotalAllocatedBytes();
        var worker = new Thread(
            () =>
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    family.Run(input, workDirectory);
                }
                catch (Exception ex)
                {
                    thrown = ex;
                }

                threadAllocated = GC.GetAllocatedBytesForCurrentThread() - before;
            },
            maxStackSize: 8 << 20)
        {
            IsBackground = true,
            Name = "fuzz " + family.Name,
        };
        worker.Start();

        var deadline = DateTime.UtcNow + CaseTimeout;
        while (!worker.Join(TimeSpan.FromMilliseconds(100)))
        {
            if (GC.GetTotalMemory(forceFullCollection: false) > HeapEmergencyBound)
            {
                var saved = Save(family.Name, "heap-" + HeapEmergencyBound, input);
                Environment.FailFast($"fuzz {family.Name}: live heap above {HeapEmergencyBound} bytes; input saved to {saved}");
            }

            if (DateTime.UtcNow > deadline)
            {
                AbandonedBy ??= family.Name;
                return new CaseResult(Verdict.Failed, "hang", $"no result after {CaseTimeout.TotalSeconds} s (the thread is abandoned)");
            }
        }

        var totalAllocated = GC.GetTotalAllocatedBytes() - totalBefore;
        if (thrown is null && Math.Max(threadAllocated, totalAllocated) > AllocationBound)
            return new CaseResult(Verdict.Failed, "allocation", $"allocated {Math.Max(threadAllocated, totalAllocated)} bytes for a {input.Length}-byte input");
        return Classify(thrown);
    }

    public static CaseResult Classify(Exception? thrown)
    {
        switch (thrown)
        {
            case null:
                return new CaseResult(Verdict.Accepted, "", "");
            case ProvenanceException pg when pg.Diagnostic.Code != Diagnostics.Diagnostics.InternalError.Code:
                return new CaseResult(Verdict.Refused, pg.Diagnostic.Code, pg.Message);
        }

        if (KnownFindings.Match(thrown) is { } known)
            return new CaseResult(Verdict.Known, known.Id, thrown.GetType().Name + ": " + thrown.Message);
        return new CaseResult(Verdict.Failed, Signature(thrown), thrown.ToString());
    }

    /// <summary>Exception type and the first frame in our code: one bug, one signature, however many inputs hit it.</summary>
    public static string Signature(Exception exception)
    {
        var frame = exception.StackTrace?.Split('\n')
            .Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith("at ProvenanceGate.", StringComparison.Ordinal) && !l.StartsWith("at ProvenanceGate.Tests.", StringComparison.Ordinal));
        var method = frame is null ? "external" : frame[3..].Split('(')[0];
        return exception.GetType().Name + "@" + method;
    }

    public static bool HasSaved(string family, string signature) =>
        Directory.Exists(RegressionsDirectory(family)) && Directory.EnumerateFiles(RegressionsDirectory(family), FileStem(signature) + "-*.bin").Any();

    public static string Save(string family, string signature, byte[] input)
    {
        var directory = RegressionsDirectory(family);
        Directory.CreateDirectory(directory);
        var hash = Convert.ToHexStringLower(SHA256.HashData(input))[..12];
        var path = Path.Combine(directory, $"{FileStem(signature)}-{hash}.bin");
        File.WriteAllBytes(path, input);
        return path;
    }

    private static string FileStem(string signature)
    {
        var name = new string(signature.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_').ToArray());
        return name[..Math.Min(name.Length, 80)];
    }
}
