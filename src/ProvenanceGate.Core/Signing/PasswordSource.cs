using System.Text;

namespace ProvenanceGate.Signing;

/// <summary>
/// cosign's password rules (GetPass): COSIGN_PASSWORD when it is set, even to the empty string; else a prompt on a
/// terminal without echo (twice for a new key); else all of stdin, byte for byte — `echo pw |` includes the newline,
/// exactly as cosign reads it. The password is handed to the key code and never written anywhere.
/// </summary>
public sealed class PasswordSource
{
    public const string EnvironmentVariable = "COSIGN_PASSWORD";

    private readonly Func<string, string?> _getEnvironment;
    private readonly bool _stdinIsTerminal;
    private readonly TextReader _stdin;
    private readonly Func<string, string> _promptHidden;
    private string? _stdinPassword;

    public PasswordSource(Func<string, string?> getEnvironment, bool stdinIsTerminal, TextReader stdin, Func<string, string> promptHidden)
    {
        _getEnvironment = getEnvironment;
        _stdinIsTerminal = stdinIsTerminal;
        _stdin = stdin;
        _promptHidden = promptHidden;
    }

    /// <summary>The process's environment, console and stdin; prompts go to <paramref name="prompts"/> (stderr).</summary>
    public static PasswordSource FromConsole(TextWriter prompts) =>
        new(Environment.GetEnvironmentVariable, !Console.IsInputRedirected, Console.In, prompt => ReadHiddenFromConsole(prompts, prompt));

    /// <summary>
    /// For hosts that can neither prompt nor own stdin (MSBuild tasks): COSIGN_PASSWORD or a PG2003 error.
    /// </summary>
    public static PasswordSource EnvironmentOnly() =>
        new(Environment.GetEnvironmentVariable, stdinIsTerminal: true, TextReader.Null, _ =>
            throw Diagnostics.Diagnostics.PasswordUnavailable.Exception($"{EnvironmentVariable} is not set and there is no terminal to ask for the key's password"));

    /// <summary>The password that unlocks an existing key.</summary>
    public string ForExistingKey()
    {
        if (_getEnvironment(EnvironmentVariable) is { } fromEnvironment)
            return fromEnvironment;
        if (_stdinIsTerminal)
            return _promptHidden("Enter password for private key: ");
        return _stdinPassword ??= _stdin.ReadToEnd();
    }

    /// <summary>The password for a key being generated: a terminal is asked twice and both answers must agree.</summary>
    public string ForNewKey()
    {
        if (_getEnvironment(EnvironmentVariable) is { } fromEnvironment)
            return fromEnvironment;
        if (!_stdinIsTerminal)
            return _stdinPassword ??= _stdin.ReadToEnd();

        var first = _promptHidden("Enter password for private key: ");
        var second = _promptHidden("Enter password for private key again: ");
        if (!string.Equals(first, second, StringComparison.Ordinal))
            throw Diagnostics.Diagnostics.PasswordUnavailable.Exception("the two passwords entered do not match");
        return first;
    }

    private static string ReadHiddenFromConsole(TextWriter prompts, string prompt)
    {
        prompts.Write(prompt);
        prompts.Flush();
        var password = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo key;
            try
            {
                key = Console.ReadKey(intercept: true);
            }
            catch (InvalidOperationException)
            {
                throw Diagnostics.Diagnostics.PasswordUnavailable.Exception($"cannot read a password from the terminal; set {EnvironmentVariable}");
            }

            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                    password.Length--;
                continue;
            }

            if (key.KeyChar != '\0')
                password.Append(key.KeyChar);
        }

        prompts.WriteLine();
        return password.ToString();
    }
}
