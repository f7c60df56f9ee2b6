using System.Globalization;

namespace Mailroom.Protocol.Replies;

/// <summary>
/// An RFC 3463 enhanced status code: <c>class "." subject "." detail</c>, where class is 2, 4 or 5
/// (section 2) and subject and detail are 1 to 3 digits.
/// </summary>
public readonly record struct EnhancedStatusCode(int Class, int Subject, int Detail)
{
    public static EnhancedStatusCode Parse(string text)
    {
        if (!TryParse(text, out var code))
        {
            throw new FormatException($"'{text}' is not an enhanced status code.");
        }

        return code;
    }

    public static bool TryParse(ReadOnlySpan<char> text, out EnhancedStatusCode code)
    {
        code = default;
        Span<Range> parts = stackalloc Range[4];
        if (text.Split(parts, '.') != 3)
        {
            return false;
        }

        if (!TryNumber(text[parts[0]], 1, out var cls) || !TryNumber(text[parts[1]], 3, out var subject) ||
            !TryNumber(text[parts[2]], 3, out var detail) || cls is not (2 or 4 or 5))
        {
            return false;
        }

        code = new EnhancedStatusCode(cls, subject, detail);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Class}.{Subject}.{Detail}");

    private static bool TryNumber(ReadOnlySpan<char> digits, int maxDigits, out int value)
    {
        value = 0;
        return digits.Length >= 1 && digits.Length <= maxDigits && digits.IndexOfAnyExceptInRange('0', '9') < 0 &&
            int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
