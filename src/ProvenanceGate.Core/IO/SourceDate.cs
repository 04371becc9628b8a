using System.Globalization;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.IO;

/// <summary>
/// The one clock for anything written into an output: an explicit timestamp, else SOURCE_DATE_EPOCH
/// (reproducible-builds.org), else now. Outputs are reproducible whenever either of the first two is set.
/// </summary>
public static class SourceDate
{
    public const string EnvironmentVariable = "SOURCE_DATE_EPOCH";

    public static DateTimeOffset Resolve(string? explicitTimestamp = null, Func<string, string?>? getEnvironment = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitTimestamp))
        {
            if (long.TryParse(explicitTimestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                return FromEpoch(seconds, explicitTimestamp);
            if (DateTimeOffset.TryParse(explicitTimestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                return Truncate(parsed.ToUniversalTime());
            throw Diagnostics.Diagnostics.InvalidTimestamp.Exception(
                $"'{explicitTimestamp}' is not an RFC 3339 timestamp or a number of seconds since 1970-01-01");
        }

        var epoch = (getEnvironment ?? Environment.GetEnvironmentVariable)(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(epoch))
        {
            if (!long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                throw Diagnostics.Diagnostics.InvalidTimestamp.Exception($"{EnvironmentVariable}='{epoch}' is not a whole number of seconds");
            return FromEpoch(seconds, epoch);
        }

        return Truncate(DateTimeOffset.UtcNow);
    }

    /// <summary>RFC 3339 in UTC with second precision, as CycloneDX and in-toto expect.</summary>
    public static string Format(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset FromEpoch(long seconds, string text)
    {
        if (seconds > 253402300799)
            throw Diagnostics.Diagnostics.InvalidTimestamp.Exception($"'{text}' is beyond year 9999");
        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }

    private static DateTimeOffset Truncate(DateTimeOffset value) =>
        new(value.Ticks - (value.Ticks % TimeSpan.TicksPerSecond), value.Offset);
}
