using System.Collections;
using Microsoft.Build.Framework;

namespace ProvenanceGate.Tests.MSBuild;

/// <summary>Records what a task logs, each error and warning as the canonical line MSBuild would print.</summary>
internal sealed class FakeBuildEngine : IBuildEngine
{
    public List<string> Errors { get; } = [];

    public List<string> Warnings { get; } = [];

    public List<string> Messages { get; } = [];

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public string ProjectFileOfTaskNode => "test.csproj";

    public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(Format(e.File, e.LineNumber, e.ColumnNumber, "error", e.Code, e.Message));

    public void LogWarningEvent(BuildWarningEventArgs e) => Warnings.Add(Format(e.File, e.LineNumber, e.ColumnNumber, "warning", e.Code, e.Message));

    public void LogMessageEvent(BuildMessageEventArgs e) => Messages.Add(e.Message ?? "");

    public void LogCustomEvent(CustomBuildEventArgs e) => Messages.Add(e.Message ?? "");

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException("the ProvenanceGate tasks never build other projects");

    private static string Format(string? file, int line, int column, string severity, string? code, string? message)
    {
        var location = string.IsNullOrEmpty(file) ? "" : line == 0 ? $"{file}: " : $"{file}({line},{column}): ";
        return $"{location}{severity} {code}: {message}";
    }
}
