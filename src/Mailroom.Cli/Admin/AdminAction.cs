using System.CommandLine;

using Mailroom.Core.Storage;
using Mailroom.Storage.Sqlite;

namespace Mailroom.Cli.Admin;

/// <summary>What an admin command works with: the open store and the invocation's writers.</summary>
internal sealed record AdminContext(ParseResult ParseResult, SqliteMailStore Store, TextWriter Output, TextWriter Error, CancellationToken CancellationToken);

/// <summary>
/// The one place where admin commands open the store, and where their failures become one line
/// on standard error and a sysexits code.
/// </summary>
internal static class AdminAction
{
    public static void Set(Command command, Option<string> data, Func<AdminContext, Task<int>> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var store = await SqliteMailStore.OpenAsync(parseResult.GetValue(data)!, cancellationToken).ConfigureAwait(false);
                await using (store.ConfigureAwait(false))
                {
                    return await body(new AdminContext(parseResult, store, output, error, cancellationToken)).ConfigureAwait(false);
                }
            }
            catch (AdminException exception)
            {
                return Fail(error, exception.Message, exception.ExitCode);
            }
            catch (DirectoryConflictException exception)
            {
                return Fail(error, exception.Message, ExitCodes.DataError);
            }
            catch (StorageException exception)
            {
                return Fail(error, $"the store failed: {exception.Message}", ExitCodes.IoError);
            }
        });
    }

    private static int Fail(TextWriter error, string message, int exitCode)
    {
        error.WriteLine($"mailroom: {message}");
        return exitCode;
    }
}
