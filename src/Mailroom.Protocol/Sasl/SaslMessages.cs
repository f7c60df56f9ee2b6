using System.Text;

namespace Mailroom.Protocol.Sasl;

/// <summary>SASL framing for the mechanisms the server offers. No I/O; secrets are never echoed.</summary>
public static class SaslMessages
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>RFC 4954 4: the client's response line is base64, or "=" for an empty one; "*" cancels.</summary>
    public static bool IsCancel(string line) => line == "*";

    /// <summary>
    /// Decodes one base64 response; false when it is not base64. An empty response is an empty
    /// line in a continuation (RFC 4954 4) and "=" as an initial response.
    /// </summary>
    public static bool TryDecodeBase64(string line, out byte[] bytes)
    {
        bytes = [];
        if (line.Length == 0 || line == "=")
        {
            return true;
        }

        return SaslBase64.TryDecode(line, out bytes);
    }

    /// <summary>
    /// RFC 4616 2: <c>message = [authzid] UTF8NUL authcid UTF8NUL passwd</c>. An authorization
    /// identity, when given, must be the authentication identity: nobody acts as someone else.
    /// </summary>
    public static bool TryParsePlain(byte[] message, out string user, out string password)
    {
        user = password = string.Empty;
        string authzid;
        var first = Array.IndexOf(message, (byte)0);
        var second = first < 0 ? -1 : Array.IndexOf(message, (byte)0, first + 1);
        if (second < 0 || Array.IndexOf(message, (byte)0, second + 1) >= 0)
        {
            return false;
        }

        try
        {
            authzid = StrictUtf8.GetString(message, 0, first);
            user = StrictUtf8.GetString(message, first + 1, second - first - 1);
            password = StrictUtf8.GetString(message, second + 1, message.Length - second - 1);
        }
        catch (DecoderFallbackException)
        {
            user = password = string.Empty;
            return false;
        }

        if (user.Length is > 0 and <= 255 && password.Length is > 0 and <= 255 &&
            (authzid.Length == 0 || string.Equals(authzid, user, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        // A refused message leaves no password behind in the caller's variables.
        user = password = string.Empty;
        return false;
    }

    /// <summary>A LOGIN step's text (the user name or the password), UTF-8.</summary>
    public static bool TryDecodeText(byte[] bytes, out string text)
    {
        text = string.Empty;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        return text.Length is > 0 and <= 255;
    }

    public static string Encode(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
