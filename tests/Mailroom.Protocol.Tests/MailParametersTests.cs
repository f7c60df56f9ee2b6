using Mailroom.Protocol.Commands;

namespace Mailroom.Protocol.Tests;

public class MailParametersTests
{
    private static (MailParameters Parameters, int? Code) Interpret(params string[] tokens)
    {
        var list = tokens.Select(t => t.Split('=', 2)).Select(p => new EsmtpParameter(p[0], p.Length > 1 ? p[1] : null)).ToList();
        var error = MailParameters.TryInterpret(list, out var parameters);
        return (parameters, error?.Code);
    }

    [Fact]
    public void Known_parameters_are_interpreted()
    {
        var (p, code) = Interpret("SIZE=12345", "body=8bitmime", "SMTPUTF8");
        Assert.Null(code);
        Assert.Equal(12345, p.DeclaredSize);
        Assert.Equal(BodyType.EightBitMime, p.Body);
        Assert.True(p.SmtpUtf8);
    }

    [Theory]
    [InlineData(555, "BODY=BINARYMIME")]
    [InlineData(555, "AUTH=<>")]
    [InlineData(555, "RET=FULL")]
    [InlineData(501, "SIZE=abc")]
    [InlineData(501, "SIZE")]
    [InlineData(501, "SMTPUTF8=yes")]
    [InlineData(501, "SIZE=1", "SIZE=2")]
    public void Unknown_or_bad_parameters_are_refused(int expected, params string[] tokens)
    {
        Assert.Equal(expected, Interpret(tokens).Code);
    }

    [Fact]
    public void A_huge_declared_size_saturates_instead_of_overflowing()
    {
        Assert.Equal(long.MaxValue, Interpret("SIZE=99999999999999999999").Parameters.DeclaredSize);
    }
}
