namespace Mailroom.Protocol.Data;

/// <summary>
/// The receiving side of DATA (RFC 5321 4.1.1.4 and 4.5.2) as a small state machine: it removes
/// the transparency dot at the start of a line and finds the end of the message, keeping no more
/// than a byte of state. What the content may hold is checked by <see cref="LineChecker"/>.
/// Inside a line it searches for the next CR with a vectorised <c>IndexOf</c> and copies the run
/// before it in bulk; only the octets at a line's start and after a CR go one at a time.
/// <para>
/// Only CRLF "." CRLF ends the data: a line starts after CRLF and nowhere else, so LF "." LF,
/// CR "." CR, LF "." CRLF and the like end nothing (the 2023 "SMTP smuggling" attack hides a
/// second message behind exactly those). They stay in the content, where the bare line endings
/// make the server refuse the whole message.
/// </para>
/// </summary>
public struct DotUnstuffer
{
    private State _state;

    public DotUnstuffer()
    {
        _state = State.LineStart;
    }

    private enum State : byte
    {
        LineStart,
        Middle,
        AfterCr,

        /// <summary>A dot opened the line; it is withheld until the next byte says what it was.</summary>
        Dot,

        /// <summary>"." CR opened the line: the terminator if LF follows.</summary>
        DotCr,
    }

    /// <summary>
    /// Un-stuffs <paramref name="input"/> into <paramref name="output"/>, which must hold at least
    /// <c>input.Length + 1</c> bytes. Returns true once the terminating CRLF.CRLF is consumed;
    /// <paramref name="consumed"/> then stops just past it, and whatever follows belongs to the
    /// next command. The CRLF before the terminating dot is content and is kept.
    /// </summary>
    public bool Feed(ReadOnlySpan<byte> input, Span<byte> output, out int consumed, out int written)
    {
        if (output.Length < input.Length + 1)
        {
            throw new ArgumentException("The output must be at least one byte longer than the input.", nameof(output));
        }

        written = 0;
        var i = 0;
        while (i < input.Length)
        {
            if (_state == State.Middle)
            {
                // Inside a line only CR can change anything: a dot matters only at the start of a
                // line, and a line starts only after CRLF (RFC 5321 2.3.8: "Conforming
                // implementations MUST NOT recognize or generate any other character or character
                // sequence as a line terminator"), so a bare LF is content like any other octet.
                // The run up to and including the next CR is copied as it is.
                var rest = input[i..];
                var cr = rest.IndexOf((byte)'\r');
                var run = cr < 0 ? rest.Length : cr + 1;
                rest[..run].CopyTo(output[written..]);
                written += run;
                i += run;
                if (cr >= 0)
                {
                    _state = State.AfterCr;
                }

                continue;
            }

            // At a line's start or just after a CR, one octet at a time.
            var b = input[i++];
            switch (_state)
            {
                case State.LineStart when b == (byte)'.':
                    // RFC 5321 4.5.2: "If the line is composed of a single period, it is treated
                    // as the end of mail indicator. If the first character is a period and there
                    // are other characters on the line, the first character is deleted."
                    _state = State.Dot;
                    continue;
                case State.Dot when b == (byte)'\r':
                    _state = State.DotCr;
                    continue;
                case State.DotCr when b == (byte)'\n':
                    consumed = i;
                    _state = State.LineStart;
                    return true;
                case State.DotCr:
                    // "." CR then something else: the dot was stuffing, the CR is content.
                    output[written++] = (byte)'\r';
                    _state = State.AfterCr;
                    break;
            }

            output[written++] = b;
            _state = b switch
            {
                (byte)'\r' => State.AfterCr,
                (byte)'\n' when _state == State.AfterCr => State.LineStart,
                _ => State.Middle,
            };
        }

        consumed = input.Length;
        return false;
    }
}
