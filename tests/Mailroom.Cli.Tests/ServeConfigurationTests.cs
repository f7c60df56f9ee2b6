using System.Net;
using Mailroom.Cli.Serve;
using Mailroom.Server;

namespace Mailroom.Cli.Tests;

/// <summary>The tests that set process environment variables run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironment
{
    public const string Name = "process environment";
}

/// <summary>Where <c>mailroom serve</c> takes its settings from, and in which order.</summary>
[Collection(ProcessEnvironment.Name)]
public sealed class ServeConfigurationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mailroom-config-").FullName;

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("MAILROOM__Smtp__MaxRecipients", null);
        Environment.SetEnvironmentVariable("MAILROOM__Smtp__HostName", null);
        Directory.Delete(_folder, recursive: true);
    }

    private void WriteJson(string json) => File.WriteAllText(Path.Combine(_folder, "mailroom.json"), json);

    [Fact]
    public void Defaults_are_the_embedded_server_on_loopback()
    {
        var settings = ServerSettings.From(ServeCommand.BuildConfiguration(_folder, null, new Dictionary<string, string?>()));
        Assert.Equal("data", settings.DataDirectory);
        Assert.Equal(
            [new SmtpListener(IPEndPoint.Parse("127.0.0.1:2525"), ListenerRole.Smtp), new SmtpListener(IPEndPoint.Parse("127.0.0.1:2587"), ListenerRole.Submission), new SmtpListener(IPEndPoint.Parse("127.0.0.1:2465"), ListenerRole.Submissions)],
            settings.Listen);
        Assert.Equal(["localhost"], settings.Domains);
        Assert.Equal(100, settings.Smtp.MaxRecipients);
        Assert.Equal(TimeSpan.FromDays(30), settings.TrashRetention);
    }

    [Fact]
    public void Json_then_environment_then_flags()
    {
        WriteJson("""{ "Data": "from-json", "Store": { "TrashRetention": "7.00:00:00" }, "Smtp": { "MaxRecipients": 200, "HostName": "json.example", "MaxMessageSize": 1234 } }""");
        Environment.SetEnvironmentVariable("MAILROOM__Smtp__MaxRecipients", "300");
        Environment.SetEnvironmentVariable("MAILROOM__Smtp__HostName", "env.example");
        var flags = new Dictionary<string, string?> { ["Smtp:HostName"] = "flag.example" };
        var settings = ServerSettings.From(ServeCommand.BuildConfiguration(_folder, null, flags));
        Assert.Equal("from-json", settings.DataDirectory);
        Assert.Equal(1234, settings.Smtp.MaxMessageSize);
        Assert.Equal(300, settings.Smtp.MaxRecipients);
        Assert.Equal("flag.example", settings.Smtp.HostName);
        Assert.Equal(TimeSpan.FromDays(7), settings.TrashRetention);
    }

    [Fact]
    public void A_list_from_flags_replaces_the_configured_list_whole()
    {
        WriteJson("""{ "Domains": [ "a.example", "b.example", "c.example" ], "Smtp": { "Listen": [ "127.0.0.1:25", "[::1]:25" ] } }""");
        var configuration = ServeCommand.BuildConfiguration(_folder, null, new Dictionary<string, string?>());
        Assert.Equal(["a.example", "b.example", "c.example"], ServerSettings.From(configuration).Domains);
        var settings = ServerSettings.From(configuration, ["127.0.0.2:2526"], ["Only.Example"], ["127.0.0.2:2587", "127.0.0.3:2587"]);
        Assert.Equal(
            ["127.0.0.2:2526 Smtp", "127.0.0.2:2587 Submission", "127.0.0.3:2587 Submission", "127.0.0.1:2465 Submissions"],
            settings.Listen.Select(l => $"{l.Endpoint} {l.Role}"));
        Assert.Equal(["only.example"], settings.Domains);
        Assert.Equal(IPEndPoint.Parse("[::1]:25"), ServerSettings.From(configuration).Listen[1].Endpoint);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("localhost:25")]
    [InlineData("127.0.0.1:99999")]
    public void A_listener_without_an_ip_and_port_is_a_configuration_error(string listen)
    {
        Assert.Throws<FormatException>(() => ServerSettings.ParseEndpoint(listen));
    }

    [Fact]
    public void Limits_below_the_rfc_minimums_are_refused()
    {
        WriteJson("""{ "Smtp": { "MaxCommandLineLength": 100 } }""");
        var ex = Assert.Throws<ArgumentException>(() => ServerSettings.From(ServeCommand.BuildConfiguration(_folder, null, new Dictionary<string, string?>())));
        Assert.Contains("MaxCommandLineLength", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trash_retention_that_is_not_positive_is_refused()
    {
        WriteJson("""{ "Store": { "TrashRetention": "-1.00:00:00" } }""");
        var ex = Assert.Throws<ArgumentException>(() => ServerSettings.From(ServeCommand.BuildConfiguration(_folder, null, new Dictionary<string, string?>())));
        Assert.Contains("TrashRetention", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_a_bad_listener_says_so_and_exits_78()
    {
        using var error = new StringWriter();
        var exit = await MailroomCommandLine.Build().Parse(["serve", "--data", _folder, "--smtp", "nowhere"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = TextWriter.Null, Error = error }, CancellationToken.None);
        Assert.Equal(ServeCommand.ExitConfig, exit);
        Assert.Contains("'nowhere' is not an IP:PORT", error.ToString(), StringComparison.Ordinal);
    }
    [Fact]
    public void The_store_is_sqlite_in_the_data_folder_unless_postgres_is_configured()
    {
        var sqlite = ServerSettings.From(ServeCommand.BuildConfiguration(_folder, null, new Dictionary<string, string?> { ["Data"] = _folder }));
        Assert.Equal(new StoreSettings(StoreProvider.Sqlite, Path.GetFullPath(_folder)), sqlite.Store);

        WriteJson("""{ "Store": { "Provider": "PostgreSQL", "ConnectionString": "Host=db1;Database=mail;Username=mailroom", "PasswordFile": "db-password" } }""");
        var postgres = ServerSettings.From(ServeCommand.BuildConfiguration(_folder, null, new Dictionary<string, string?>())).Store!;
        Assert.Equal(StoreProvider.Postgres, postgres.Provider);
        Assert.Equal("Host=db1;Database=mail;Username=mailroom", postgres.ConnectionString);
        Assert.Equal(Path.GetFullPath("db-password"), postgres.PasswordFile);
        Assert.Equal("postgres db1:5432/mail as mailroom", postgres.Describe());
    }

    [Theory]
    [InlineData("""{ "Store": { "Provider": "mysql" } }""", "'mysql' is not sqlite or postgres")]
    [InlineData("""{ "Store": { "Provider": "postgres" } }""", "Store:ConnectionString must name the database")]
    [InlineData("""{ "Store": { "Provider": "postgres", "ConnectionString": "Hots=db1" } }""", "not a valid PostgreSQL connection string")]
    public async Task A_store_that_cannot_be_used_is_a_configuration_error_exit_78(string json, string expected)
    {
        WriteJson(json);
        using var error = new StringWriter();
        var exit = await MailroomCommandLine.Build().Parse(["serve", "--data", _folder, "--config", Path.Combine(_folder, "mailroom.json")])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = TextWriter.Null, Error = error }, CancellationToken.None);
        Assert.Equal(ServeCommand.ExitConfig, exit);
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_settings_left_for_admin_commands_never_hold_the_password()
    {
        var settings = new StoreSettings(StoreProvider.Postgres, Path.GetFullPath(_folder), "Host=db1;Database=mail;Username=mailroom;Password=s3cret-db-pw", "/etc/mailroom/db-password");
        settings.WriteServerSettings();
        var written = File.ReadAllText(Path.Combine(_folder, StoreSettings.SettingsFileName));
        Assert.DoesNotContain("s3cret-db-pw", written, StringComparison.Ordinal);
        var read = StoreSettings.From(StoreSettings.OverServerSettings(_folder, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()), _folder);
        Assert.Equal(settings with { ConnectionString = "Host=db1;Database=mail;Username=mailroom" }, read);
    }
}
