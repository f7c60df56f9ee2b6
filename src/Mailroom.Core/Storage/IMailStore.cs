namespace Mailroom.Core.Storage;

/// <summary>
/// Everything the server and the admin commands need from a store. SQLite implements it now;
/// PostgreSQL will implement the same contract. The server never touches SQL.
/// </summary>
public interface IMailStore : IDirectoryStore, IMessageStore, IMailboxStore, IListStore, IAsyncDisposable
{
}
