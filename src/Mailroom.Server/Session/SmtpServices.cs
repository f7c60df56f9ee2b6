using Mailroom.Core.Accounts;
using Mailroom.Core.Audit;
using Mailroom.Core.Delivery;
using Mailroom.Core.Storage;
using Mailroom.Protocol.Replies;
using Mailroom.Server.Dns;
using Mailroom.Server.Tls;
using Microsoft.Extensions.Logging;

namespace Mailroom.Server.Session;

/// <summary>What every session shares: settings, the store, and the services around it.</summary>
public sealed class SmtpServices
{
    public SmtpServices(
        SmtpServerOptions options,
        IMailStore store,
        ILogger logger,
        IReverseDns? reverseDns = null,
        TimeProvider? time = null,
        ServerCertificates? certificates = null,
        Authenticator? authenticator = null,
        IAuditLog? audit = null)
    {
        Certificates = certificates;
        Authenticator = authenticator;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Store = store;
        Logger = logger;
        ReverseDns = reverseDns ?? (options.ReverseDnsLookup ? new SystemReverseDns(TimeSpan.FromSeconds(5)) : NoReverseDns.Instance);
        Time = time ?? TimeProvider.System;
        Recipients = new RecipientResolver(store, options.Postmaster);
        Logins = new LoginThrottle(options, Time);
        Audit = audit ?? NullAuditLog.Instance;
    }

    /// <summary>The 220 greeting, made once: every session sends the same one.</summary>
    internal SmtpReply Greeting
    {
        get
        {
            var cached = _greeting;
            if (cached is null || !ReferenceEquals(cached.Host, Options.HostName))
            {
                cached = new GreetingCache(Options.HostName, ReplyCatalogue.ServiceReady.Format(Options.HostName));
                _greeting = cached;
            }

            return cached.Reply;
        }
    }

    private GreetingCache? _greeting;

    private sealed record GreetingCache(string Host, SmtpReply Reply);

    /// <summary>Where audit events go; <see cref="NullAuditLog"/> when the audit log is off.</summary>
    public IAuditLog Audit { get; }

    public SmtpServerOptions Options { get; }

    public IMailStore Store { get; }

    public RecipientResolver Recipients { get; }

    public IReverseDns ReverseDns { get; }

    public ILogger Logger { get; }

    public TimeProvider Time { get; }

    /// <summary>Checks passwords; without one, AUTH and LOGN are not offered.</summary>
    public Authenticator? Authenticator { get; }

    internal LoginThrottle Logins { get; }

    /// <summary>The TLS certificate; without one, STARTTLS is not offered and implicit TLS listeners cannot start.</summary>
    public ServerCertificates? Certificates { get; }
}
