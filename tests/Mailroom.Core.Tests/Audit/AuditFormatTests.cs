using System.Globalization;
using Mailroom.Core.Audit;

namespace Mailroom.Core.Tests.Audit;

public sealed class AuditFormatTests
{
    [Fact]
    public void The_timestamp_is_written_as_the_custom_format_would_and_parses_back()
    {
        var random = new Random(20261128);
        var instants = new List<DateTimeOffset>
        {
            DateTimeOffset.MinValue,
            DateTimeOffset.MaxValue,
            new(2026, 1, 2, 3, 4, 5, 6, TimeSpan.Zero),
            new(999, 12, 31, 23, 59, 59, 999, TimeSpan.Zero),
            new(2026, 11, 28, 23, 59, 59, 999, TimeSpan.FromHours(-5)),
        };
        for (var i = 0; i < 10_000; i++)
        {
            instants.Add(new DateTimeOffset(random.NextInt64(DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.Zero)
                .ToOffset(TimeSpan.FromMinutes(random.Next(-14 * 60, 14 * 60))));
        }

        foreach (var instant in instants)
        {
            var expected = instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var written = AuditFormat.FormatTimestamp(instant);
            Assert.Equal(expected, written);
            Assert.True(AuditFormat.TryParseTimestamp(written, out var parsed));
            Assert.Equal(instant.UtcTicks / TimeSpan.TicksPerMillisecond, parsed.UtcTicks / TimeSpan.TicksPerMillisecond);
        }
    }
}
