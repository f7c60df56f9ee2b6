using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Mailroom.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster: initdb into a temporary folder, a server on a free loopback
/// port with its unix socket in that folder, and on dispose an immediate stop and the folder gone.
/// PostgreSQL refuses to run as root, so as root the folder belongs to an unprivileged user and
/// initdb and pg_ctl run as that user.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private const string Superuser = "mailroom";

    private readonly string _binDirectory;
    private bool _disposed;

    private PostgresCluster(string binDirectory, string folder, string? runAs, int port)
    {
        _binDirectory = binDirectory;
        Folder = folder;
        RunAs = runAs;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = Superuser,
            Database = "postgres",
            Pooling = false,
        }.ConnectionString;
    }

    /// <summary>The temporary folder holding the data directory, the log and the unix socket.</summary>
    public string Folder { get; }

    /// <summary>The unprivileged user the server runs as when the tests run as root; otherwise null.</summary>
    public string? RunAs { get; }

    public int Port { get; }

    /// <summary>The cluster's data directory; its <c>postmaster.pid</c> names the server's process while it runs.</summary>
    public string DataDirectory => Path.Combine(Folder, "data");

    /// <summary>The superuser's connection to the <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    /// <summary>
    /// Starts a cluster, or returns null when no PostgreSQL binaries are installed. Whether that
    /// is a skip or a failure is the caller's decision.
    /// </summary>
    public static async Task<PostgresCluster?> StartAsync(CancellationToken cancellationToken = default)
    {
        var bin = FindBinDirectory();
        if (bin is null)
        {
            return null;
        }

        var runAs = Environment.IsPrivilegedProcess ? UnprivilegedUser() : null;
        var folder = Directory.CreateTempSubdirectory("mailroom-pg-").FullName;
        var cluster = new PostgresCluster(bin, folder, runAs, FreePort());
        try
        {
            if (runAs is not null)
            {
                // The folder is 0700 already (CreateTempSubdirectory); only the owner changes.
                await RunAsync("chown", [$"{runAs}:", folder], null, folder, cancellationToken);
            }

            await cluster.InitAndStartAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            // A start that timed out may have left a server behind; stop it before the folder goes.
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "t_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"create database \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing whatever is still connected to it.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"drop database if exists \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\" with (force)";
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the server at once (<c>-m immediate</c>: as a crash would), keeping its data: the database outage of the fault tests.</summary>
    public Task StopServerAsync() => PgCtlAsync(["-D", DataDirectory, "-m", "immediate", "-w", "stop"], CancellationToken.None);

    /// <summary>Starts the stopped server again on the same port, with its data.</summary>
    public Task StartServerAsync() => PgCtlAsync(["-D", DataDirectory, "-l", LogFile, "-o", ServerOptions, "-w", "start"], CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await PgCtlAsync(["-D", DataDirectory, "-m", "immediate", "-w", "stop"], CancellationToken.None);
            }
        }
        finally
        {
            Directory.Delete(Folder, recursive: true);
        }
    }


    /// <summary>The server's log (stderr of the postmaster and its backends).</summary>
    public string LogFile => Path.Combine(Folder, "log");

    /// <summary>Loopback only, the socket in our folder, and fsync on whatever the packaged default: the tests count on durable commits.</summary>
    private string ServerOptions => $"-h 127.0.0.1 -p {Port.ToString(CultureInfo.InvariantCulture)} -k \"{Folder}\" -c fsync=on -c synchronous_commit=on";

    private async Task InitAndStartAsync(CancellationToken cancellationToken)
    {
        await RunAsync(
            Path.Combine(_binDirectory, "initdb"),
            ["--auth=trust", $"--username={Superuser}", "--encoding=UTF8", "--locale=C", "--no-sync", "-D", DataDirectory],
            RunAs,
            Folder,
            cancellationToken);

        try
        {
            await PgCtlAsync(["-D", DataDirectory, "-l", LogFile, "-o", ServerOptions, "-w", "start"], cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            var log = File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile, cancellationToken) : "(no server log)";
            throw new InvalidOperationException($"{e.Message}\nserver log:\n{log}", e);
        }
    }

    private Task PgCtlAsync(IEnumerable<string> args, CancellationToken cancellationToken) =>
        RunAsync(Path.Combine(_binDirectory, "pg_ctl"), args, RunAs, Folder, cancellationToken);

    /// <summary>Runs a program to its end, as <paramref name="runAs"/> through runuser when given.</summary>
    private static async Task RunAsync(string file, IEnumerable<string> args, string? runAs, string workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(runAs is null ? file : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        if (runAs is not null)
        {
            foreach (var arg in new[] { "-u", runAs, "--", file })
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(file)} exited with {process.ExitCode}:\n{await output}{await error}");
        }
    }

    /// <summary>
    /// pg_config's bindir when pg_config is on PATH; else Debian's /usr/lib/postgresql/N/bin with
    /// the highest N; else the folder on PATH that holds initdb.
    /// </summary>
    private static string? FindBinDirectory()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var pgConfig = path.Select(dir => Path.Combine(dir, "pg_config")).FirstOrDefault(File.Exists);
        if (pgConfig is not null && PgConfigBinDirectory(pgConfig) is { } fromPgConfig && HasServer(fromPgConfig))
        {
            return fromPgConfig;
        }

        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            var highest = Directory.GetDirectories(debian)
                .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: decimal.TryParse(Path.GetFileName(dir), NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.Version >= 0 && HasServer(x.Dir))
                .OrderByDescending(x => x.Version)
                .Select(x => x.Dir)
                .FirstOrDefault();
            if (highest is not null)
            {
                return highest;
            }
        }

        // PATH may hold symlinks to the binaries (Debian's wrappers do not); resolve to the real folder.
        return path.Select(dir => Path.Combine(dir, "initdb"))
            .Where(File.Exists)
            .Select(file => Path.GetDirectoryName(new FileInfo(file).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file)!)
            .FirstOrDefault(HasServer);
    }

    private static bool HasServer(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "postgres"));

    private static string? PgConfigBinDirectory(string pgConfig)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(pgConfig, "--bindir") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    /// <summary><c>postgres</c> when that user exists, else <c>nobody</c>.</summary>
    private static string UnprivilegedUser() =>
        File.Exists("/etc/passwd") && File.ReadLines("/etc/passwd").Any(line => line.StartsWith("postgres:", StringComparison.Ordinal))
            ? "postgres"
            : "nobody";

    /// <summary>A port free a moment ago; the server binds it right after, so a clash is unlikely.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
