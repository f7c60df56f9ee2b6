using System.Globalization;
using System.Text;

namespace Mailroom.Protocol.Replies;

/// <summary>
/// One entry of the reply catalogue: a code, an enhanced status code and a text that may carry
/// composite-format holes (<c>{0}</c>). Entries without holes are formatted once and reused.
/// </summary>
public sealed class ReplyTemplate
{
    private readonly CompositeFormat _format;
    private SmtpReply? _fixed;

    public ReplyTemplate(int code, string? enhanced, string text)
    {
        Code = code;
        Enhanced = enhanced is null ? null : EnhancedStatusCode.Parse(enhanced);
        Text = text;
        _format = CompositeFormat.Parse(text);
    }

    public int Code { get; }

    public EnhancedStatusCode? Enhanced { get; }

    public string Text { get; }

    /// <summary>How many arguments <see cref="Format(object?[])"/> takes.</summary>
    public int Arity => _format.MinimumArgumentCount;

    /// <summary>The reply of an entry without holes.</summary>
    public SmtpReply Reply
    {
        get
        {
            if (Arity != 0)
            {
                throw new InvalidOperationException($"Reply '{Text}' takes {Arity} argument(s).");
            }

            return _fixed ??= new SmtpReply(Code, Enhanced, [Text]);
        }
    }

    public SmtpReply Format(params object?[] args)
    {
        var text = string.Format(CultureInfo.InvariantCulture, _format, args);
        return new SmtpReply(Code, Enhanced, [Sanitise(text)]);
    }

    /// <summary>A multi-line reply: the first line from the template, then one line per extra item.</summary>
    public SmtpReply WithLines(IEnumerable<string> lines)
    {
        var all = new List<string>();
        all.AddRange(lines.Select(Sanitise));
        return new SmtpReply(Code, Enhanced, all.Count == 0 ? [Text] : all);
    }

    public static implicit operator SmtpReply(ReplyTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return template.Reply;
    }

    public SmtpReply ToSmtpReply() => Reply;

    /// <summary>Arguments come from clients (a domain, an address): keep CR, LF and other controls out of a reply line.</summary>
    private static string Sanitise(string text) =>
        text.AsSpan().IndexOfAnyInRange('\0', '\x1f') < 0 ? text : string.Concat(text.Select(c => c < ' ' ? '?' : c));
}
