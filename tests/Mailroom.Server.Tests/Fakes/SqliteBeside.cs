using Mailroom.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Mailroom.Server.Tests.Fakes;

/// <summary>
/// SQL run on a store's database from a connection of its own, as another process would: to
/// break the store for a while (a table renamed away, a trigger that aborts) and mend it again.
/// </summary>
internal static class SqliteBeside
{
    public static async Task ExecuteAsync(string folder, string sql)
    {
        await using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, SqliteMailStore.DatabaseFileName), Pooling = false }.ToString());
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
