using System.Globalization;
using System.Numerics;
using Mailroom.Protocol.Commands;
using Mailroom.Protocol.Replies;

namespace Mailroom.Protocol.Tests.Properties;

/// <summary>
/// <see cref="CommandParser.TryParseParameters"/> then <see cref="MailParameters.TryInterpret"/>:
/// hostile parameter text never throws, and what comes out is typed: a known parameter, or a
/// catalogued refusal.
/// </summary>
public sealed class MailParametersProperties
{
    private const int Cases = 4000;

    private static readonly string[] Pieces =
    [
        " ", " ", "  ", "SIZE", "size", "BODY", "SMTPUTF8", "smtputf8", "RET", "ENVID", "NOTIFY", "=", "==", "7BIT", "8bitmime", "BINARYMIME",
        "9223372036854775807", "9223372036854775808", "99999999999999999999", "999999999999999999999", "0", "-1", "1.5", "\0", "\t", "\x7f",
        "é", "日本", "\ud800", "-", "x-", "<>", "FULL", "HDRS",
    ];

    [Fact]
    public void Hostile_parameter_text_never_throws_and_interprets_to_typed_results()
    {
        Property.ForAll(1870, Cases, random =>
        {
            // Half free-form, half shaped like parameters (SP keyword ["=" value]) so that many get as far as TryInterpret.
            var text = random.Next(2) == 0
                ? string.Concat(Enumerable.Range(0, random.Next(12)).Select(_ => random.Pick(Pieces)))
                : string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
                    " " + random.RandomCase(random.Pick(["SIZE", "BODY", "SMTPUTF8", "RET", "X-Y"])) + (random.Next(3) == 0 ? string.Empty : "=" + random.Pick(Pieces))));
            var start = random.Next(text.Length + 1);
            if (!CommandParser.TryParseParameters(text, start, out var parameters))
            {
                Assert.Empty(parameters);
                return;
            }

            foreach (var p in parameters)
            {
                // RFC 5321 4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 by RFC 6531.
                Assert.Matches("^[A-Za-z0-9][A-Za-z0-9-]*$", p.Keyword);
                Assert.True(p.Value is null || (p.Value.Length > 0 && !p.Value.Any(c => c <= ' ' || c is '=' or '\x7f')), $"value '{p.Value}'");
            }

            AssertInterpretsToTypedResult(parameters);
        });
    }

    [Fact]
    public void Size_at_and_beyond_the_range_of_long_is_clamped_or_refused()
    {
        Property.ForAll(1871, Cases, random =>
        {
            var digits = random.Next(4) switch
            {
                0 => new string('9', random.Next(1, 26)),
                1 => new string('0', random.Next(0, 5)) + random.NextInt64(long.MaxValue - 1000, long.MaxValue).ToString(CultureInfo.InvariantCulture),
                2 => (new BigInteger(long.MaxValue) + random.Next(0, 3000)).ToString(CultureInfo.InvariantCulture),
                _ => string.Concat(Enumerable.Range(0, random.Next(1, 24)).Select(_ => (char)('0' + random.Next(10)))),
            };
            Assert.True(CommandParser.TryParseParameters(" " + random.RandomCase("size") + "=" + digits, 0, out var parameters));
            var refusal = MailParameters.TryInterpret(parameters, out var result);

            // RFC 1870 6: size-value ::= 1*20DIGIT. A size past long's range is still a size: at least as large as any we take.
            if (digits.Length > 20)
            {
                Assert.NotNull(refusal);
                Assert.Equal(ReplyCatalogue.ParameterValueInvalid.Code, refusal.Code);
            }
            else
            {
                Assert.Null(refusal);
                Assert.Equal(BigInteger.Min(BigInteger.Parse(digits, CultureInfo.InvariantCulture), long.MaxValue), new BigInteger(result.DeclaredSize!.Value));
            }
        });
    }

    [Fact]
    public void Constructed_parameter_lists_never_throw()
    {
        Property.ForAll(1872, Cases, random =>
        {
            var parameters = Enumerable.Range(0, random.Next(5))
                .Select(_ => new EsmtpParameter(random.RandomCase(random.Pick(["SIZE", "BODY", "SMTPUTF8", "X-Y", "ſize"])), random.Next(3) == 0 ? null : random.Pick(Pieces)))
                .ToList();
            AssertInterpretsToTypedResult(parameters);
        });
    }

    private static void AssertInterpretsToTypedResult(IReadOnlyList<EsmtpParameter> parameters)
    {
        var refusal = MailParameters.TryInterpret(parameters, out var result);
        if (refusal is not null)
        {
            Assert.Same(MailParameters.None, result);
            Assert.InRange(refusal.Code, 500, 599);
            Assert.NotNull(refusal.Enhanced);
            return;
        }

        Assert.All(parameters, p => Assert.Contains(p.Keyword.ToUpperInvariant(), (string[])["SIZE", "BODY", "SMTPUTF8"]));
        Assert.Equal(parameters.Any(p => p.Keyword.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase)), result.SmtpUtf8);
        Assert.True(result.DeclaredSize is null or >= 0);
        Assert.True(Enum.IsDefined(result.Body));
    }
}
