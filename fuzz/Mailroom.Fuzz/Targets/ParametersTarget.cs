using System.Text;
using Mailroom.Protocol.Commands;

namespace Mailroom.Fuzz.Targets;

/// <summary>
/// ESMTP MAIL and RCPT parameters (RFC 5321 4.1.2; RFC 1870, 6152, 6531): what parses obeys the
/// grammar and writes back as the same list; interpreting a list either gives the parameters or a
/// 5xx reply, never an exception.
/// </summary>
internal static class ParametersTarget
{
    public static void Run(byte[] input)
    {
        var fuzz = new FuzzInput(input);
        var text = Encoding.UTF8.GetString(fuzz.Data);
        var start = fuzz.Control % (text.Length + 1);
        if (!CommandParser.TryParseParameters(text, start, out var parameters))
        {
            Invariant.Check(parameters.Count == 0, "refused parameters left a list behind");
            return;
        }

        foreach (var p in parameters)
        {
            Invariant.Check(p.Keyword.Length > 0 && char.IsAsciiLetterOrDigit(p.Keyword[0]) && p.Keyword.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'), $"keyword '{p.Keyword}' breaks esmtp-keyword");
            Invariant.Check(p.Value is null || (p.Value.Length > 0 && !p.Value.Any(c => c <= ' ' || c is '=' or '\x7f')), $"value '{p.Value}' breaks esmtp-value");
        }

        var written = CommandTarget.Parameters(parameters);
        Invariant.Check(CommandParser.TryParseParameters(written, 0, out var again) && written == CommandTarget.Parameters(again), $"'{written}' written back does not parse to the same list");

        var refusal = MailParameters.TryInterpret(parameters, out var interpreted);
        Invariant.Check(refusal is null || refusal.Code is >= 500 and <= 599, $"refused with {refusal?.Code}, not 5xx");
        Invariant.Check(refusal is not null || interpreted.DeclaredSize is null or >= 0, "a negative SIZE");
        Invariant.Check(refusal is null || interpreted == MailParameters.None, "a refusal left parameters behind");
    }
}
