using System.Net;
using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Storage.Sqlite;
using Mailroom.Testing;

namespace Mailroom.Bench;

/// <summary>
/// <c>mailroom serve</c> started by the bench as its own process on a fresh data folder, so its
/// CPU time and memory can be read apart from the load generator's. Removes the folder after.
/// </summary>
public sealed class ServerUnderTest : IAsyncDisposable
{
    private readonly ServerProcess _process;
    private readonly string _folder;

    private ServerUnderTest(ServerProcess process, string folder)
    {
        _process = process;
        _folder = folder;
    }

    public IPEndPoint Endpoint => _process.Endpoint;

    public static async Task<ServerUnderTest> StartAsync(IEnumerable<string> recipients, string audit, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("mailroom-bench-").FullName;
        try
        {
            await using (var store = await SqliteMailStore.OpenAsync(folder, cancellationToken))
            {
                await store.AddDomainAsync(LoadRun.Domain, cancellationToken);
                var hasher = new PasswordHasher(iterations: 1000);
                foreach (var address in recipients)
                {
                    await store.AddAccountAsync(address, hasher.Hash("bench"), cancellationToken);
                }
            }

            var environment = new Dictionary<string, string>
            {
                ["MAILROOM__Smtp__MaxConnectionsPerAddress"] = "100000",
                ["MAILROOM__Smtp__MaxJunkCommands"] = "100000",
                ["MAILROOM__Logging__LogLevel__Default"] = "Warning",
            };
            switch (audit)
            {
                case "off":
                    environment["MAILROOM__Audit__Enabled"] = "false";
                    break;
                case "encrypted":
                    var key = Path.Combine(folder, "audit.key");
                    AuditKeys.CreateKeyFile(key);
                    environment["MAILROOM__Audit__Cipher"] = "aes-256-gcm";
                    environment["MAILROOM__Audit__KeyFile"] = key;
                    break;
                case "on":
                    break;
                default:
                    throw new ArgumentException($"--audit '{audit}' is not on, encrypted or off.", nameof(audit));
            }

            var process = await ServerProcess.StartAsync(folder, LoadRun.Domain, environment);
            return new ServerUnderTest(process, folder);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public TimeSpan CpuTime() => _process.CpuTime();

    public long PeakResidentBytes() => _process.PeakResidentBytes();

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
