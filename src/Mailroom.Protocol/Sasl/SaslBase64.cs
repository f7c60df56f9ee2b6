namespace Mailroom.Protocol.Sasl;

/// <summary>
/// RFC 5802 7 and RFC 4648 4: <c>base64 = *base64-4 [base64-3 / base64-2]</c>, with no whitespace.
/// <see cref="Convert.FromBase64String"/> skips spaces, tabs and line breaks, so on its own it
/// would accept text the grammar does not.
/// </summary>
internal static class SaslBase64
{
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 4 != 0 || text.AsSpan().IndexOfAnyExcept(Alphabet) >= 0)
        {
            return false;
        }

        var buffer = new byte[text.Length / 4 * 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
        {
            return false;
        }

        bytes = buffer[..written];
        return true;
    }

    private static readonly System.Buffers.SearchValues<char> Alphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
}
