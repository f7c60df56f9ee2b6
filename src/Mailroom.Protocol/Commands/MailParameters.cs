using System.Globalization;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Commands;

public enum BodyType
{
    /// <summary>No BODY parameter: RFC 5321 content.</summary>
    Unspecified,
    SevenBit,

    /// <summary>RFC 6152: <c>BODY=8BITMIME</c>.</summary>
    EightBitMime,
}

/// <summary>The MAIL parameters this server implements, interpreted.</summary>
/// <param name="DeclaredSize">RFC 1870 <c>SIZE=</c>, the client's estimate of the message size.</param>
/// <param name="Body">RFC 6152 <c>BODY=</c>.</param>
/// <param name="SmtpUtf8">RFC 6531 <c>SMTPUTF8</c>: UTF-8 addresses and headers in this transaction.</param>
public sealed record MailParameters(long? DeclaredSize, BodyType Body, bool SmtpUtf8)
{
    public static readonly MailParameters None = new(null, BodyType.Unspecified, false);

    /// <summary>Null on success; otherwise the reply that refuses the parameters.</summary>
    public static SmtpReply? TryInterpret(IReadOnlyList<EsmtpParameter> parameters, out MailParameters result)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        result = None;
        long? size = null;
        var body = BodyType.Unspecified;
        var utf8 = false;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in parameters)
        {
            if (!seen.Add(p.Keyword))
            {
                return ReplyCatalogue.ParameterValueInvalid.Format(p.Keyword.ToUpperInvariant());
            }

            switch (p.Keyword.ToUpperInvariant())
            {
                // RFC 1870 section 6: size-value ::= 1*20DIGIT
                case "SIZE":
                    if (p.Value is null || p.Value.Length > 20 || p.Value.AsSpan().IndexOfAnyExceptInRange('0', '9') >= 0)
                    {
                        return ReplyCatalogue.ParameterValueInvalid.Format("SIZE");
                    }

                    size = decimal.Parse(p.Value, NumberStyles.None, CultureInfo.InvariantCulture) > long.MaxValue
                        ? long.MaxValue
                        : long.Parse(p.Value, NumberStyles.None, CultureInfo.InvariantCulture);
                    break;

                // RFC 6152 section 2: body-value ::= "7BIT" / "8BITMIME"
                case "BODY":
                    if (string.Equals(p.Value, "7BIT", StringComparison.OrdinalIgnoreCase))
                    {
                        body = BodyType.SevenBit;
                    }
                    else if (string.Equals(p.Value, "8BITMIME", StringComparison.OrdinalIgnoreCase))
                    {
                        body = BodyType.EightBitMime;
                    }
                    else
                    {
                        return ReplyCatalogue.ParameterNotRecognized.Format("BODY=" + p.Value);
                    }

                    break;

                // RFC 6531 3.4: the SMTPUTF8 parameter has no value.
                case "SMTPUTF8":
                    if (p.Value is not null)
                    {
                        return ReplyCatalogue.ParameterValueInvalid.Format("SMTPUTF8");
                    }

                    utf8 = true;
                    break;

                default:
                    return ReplyCatalogue.ParameterNotRecognized.Format(p.Keyword.ToUpperInvariant());
            }
        }

        result = new MailParameters(size, body, utf8);
        return null;
    }
}
