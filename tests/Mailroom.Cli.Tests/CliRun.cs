using System.CommandLine;
using System.Text;

using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Storage.Sqlite;

namespace Mailroom.Cli.Tests;

public sealed record CliResult(int ExitCode, byte[] OutputBytes, string Error)
{
    public string Output => Encoding.UTF8.GetString(OutputBytes);
}

/// <summary>Runs the real command tree in-process against a temporary data folder, deleted afterwards.</summary>
public abstract class CliRun : IDisposable
{
    protected string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "mailroom-cli-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    protected Task<CliResult> RunAsync(params string[] args) => RunWithoutDataAsync([.. args, "--data", DataDirectory]);

    /// <summary>Runs a command that takes no data folder, or with arguments as given.</summary>
    protected static async Task<CliResult> RunWithoutDataAsync(params string[] args)
    {
        using var bytes = new MemoryStream();
        using var output = new StreamWriter(bytes, new UTF8Encoding(false), leaveOpen: true);
        using var error = new StringWriter();
        var exitCode = await MailroomCommandLine.Build()
            .Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, CancellationToken.None);
        await output.FlushAsync();
        return new CliResult(exitCode, bytes.ToArray(), error.ToString());
    }

    protected async Task<T> WithStoreAsync<T>(Func<SqliteMailStore, Task<T>> action)
    {
        var store = await SqliteMailStore.OpenAsync(DataDirectory, CancellationToken.None);
        await using (store)
        {
            return await action(store);
        }
    }

    /// <summary>Delivers through the store directly, as the server would.</summary>
    protected Task<string> DeliverAsync(string sender, string recipient, byte[] body) =>
        WithStoreAsync(async store =>
        {
            var mailbox = await store.FindMailboxAsync(recipient, CancellationToken.None)
                ?? await store.EnsureSystemMailboxAsync(recipient, CancellationToken.None);
            var id = MessageIds.New();
            var envelope = new MessageEnvelope(id, sender, [new EnvelopeRecipient(mailbox, recipient)], DateTimeOffset.UtcNow);
            await using var writer = await store.BeginMessageAsync(envelope, CancellationToken.None);
            await writer.WriteAsync(body, CancellationToken.None);
            await writer.CommitAsync(CancellationToken.None);
            return id;
        });
}
