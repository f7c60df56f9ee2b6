namespace Mailroom.Protocol.Tests.Data;

/// <summary>
/// <para>
/// The byte-at-a-time <c>Mailroom.Protocol.Data.DotUnstuffer</c> as it was before it was
/// vectorised (commit 5c59bc8), kept unchanged as the reference the new one must agree with
/// (<see cref="DotUnstufferPropertyTests"/>).
/// </para>
/// <para>
/// The receiving side of DATA (RFC 5321 4.1.1.4 and 4.5.2) as a small state machine: it removes
/// the transparency dot at the start of a line and finds the end of the message, keeping no more
/// than a byte of state. What the content may hold is checked by LineChecker.
/// </para>
/// <para>
/// Only CRLF "." CRLF ends the data: a line starts after CRLF and nowhere else, so LF "." LF,
/// CR "." CR, LF "." CRLF and the like end nothing (the 2023 "SMTP smuggling" attack hides a
/// second message behind exactly those). They stay in the content, where the bare line endings
/// make the server refuse the whole message.
/// </para>
/// </summary>
internal struct ReferenceDotUnstuffer
{
    private State _state;

    public ReferenceDotUnstuffer()
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
        for (var i = 0; i < input.Length; i++)
        {
            var b = input[i];
            switch (_state)
            {
                case State.LineStart when b == (byte)'.':
                    // RFC 5321 4.5.2: a leading period is deleted, or, alone on its line, ends the data.
                    _state = State.Dot;
                    continue;
                case State.Dot when b == (byte)'\r':
                    _state = State.DotCr;
                    continue;
                case State.DotCr when b == (byte)'\n':
                    consumed = i + 1;
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
