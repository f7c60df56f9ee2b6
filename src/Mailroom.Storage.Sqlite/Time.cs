using System.Globalization;

namespace Mailroom.Storage.Sqlite;

/// <summary>Times as fixed-width ISO 8601 UTC text: readable in the sqlite3 shell, and text order is time order.</summary>
internal static class Time
{
    private const string Layout = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString(Layout, CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) =>
        new(DateTime.SpecifyKind(DateTime.ParseExact(text, Layout, CultureInfo.InvariantCulture), DateTimeKind.Utc));
}
