using System.Text.Json;
using System.Text.Json.Serialization;
using Mailroom.Core.Audit;

namespace Mailroom.Server.Tests.Fakes;

/// <summary>
/// An audit log that keeps its entries in memory for tests, in the order they came, noting which
/// were written durably. It can be made unwritable, made to fail durable writes, made to throw
/// from <see cref="Record"/>, and held inside <see cref="RecordDurableAsync"/> so a test can look
/// at the session while it waits.
/// </summary>
public sealed class RecordingAuditLog : IAuditLog
{
    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };
    private readonly Lock _lock = new();
    private readonly List<(AuditEvent Entry, bool Durable)> _entries = [];
    private readonly List<(Func<IReadOnlyList<AuditEvent>, bool> Condition, TaskCompletionSource Met)> _waiters = [];
    private volatile bool _writable = true;
    private volatile bool _recordThrows;

    public bool IsWritable
    {
        get => _writable;
        set => _writable = value;
    }

    /// <summary>Makes <see cref="Record"/> throw, as a broken log might though the contract says it does not.</summary>
    public bool RecordThrows
    {
        get => _recordThrows;
        set => _recordThrows = value;
    }

    /// <summary>When set, <see cref="RecordDurableAsync"/> throws it instead of keeping the entry.</summary>
    public Exception? DurableFailure { get; set; }

    /// <summary>Awaited inside <see cref="RecordDurableAsync"/> before the entry is kept: a test holds the session here.</summary>
    public Func<AuditEvent, Task>? BeforeDurable { get; set; }

    public IReadOnlyList<AuditEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries.Select(e => e.Entry)];
            }
        }
    }

    /// <summary>The entries written with <see cref="RecordDurableAsync"/>.</summary>
    public IReadOnlyList<AuditEvent> DurableEvents
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries.Where(e => e.Durable).Select(e => e.Entry)];
            }
        }
    }

    public IReadOnlyList<AuditEvent> OfKind(string kind) => [.. Events.Where(e => e.Kind == kind)];

    /// <summary>The command entries, in order.</summary>
    public IReadOnlyList<AuditEvent> Commands => OfKind(AuditKinds.Command);

    /// <summary>Every entry as JSON, the way a log file would hold it, for searching for what must never be there.</summary>
    public string Serialised() => JsonSerializer.Serialize(Events, Json);

    /// <summary>The first entry, recorded already or later, that <paramref name="match"/> accepts.</summary>
    public async Task<AuditEvent> WaitForAsync(Func<AuditEvent, bool> match)
    {
        await WaitUntilAsync(events => events.Any(match));
        return Events.First(match);
    }

    /// <summary>Completes once the entries recorded so far satisfy <paramref name="condition"/> (20 seconds at most).</summary>
    public Task WaitUntilAsync(Func<IReadOnlyList<AuditEvent>, bool> condition)
    {
        lock (_lock)
        {
            if (condition([.. _entries.Select(e => e.Entry)]))
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, waiter));
            return waiter.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    public void Record(AuditEvent entry)
    {
        if (RecordThrows)
        {
            throw new InvalidOperationException("injected audit failure");
        }

        Keep(entry, durable: false);
    }

    public async ValueTask RecordDurableAsync(AuditEvent entry, CancellationToken cancellationToken)
    {
        if (BeforeDurable is { } hold)
        {
            await hold(entry).WaitAsync(cancellationToken);
        }

        if (DurableFailure is { } failure)
        {
            throw failure;
        }

        Keep(entry, durable: true);
    }

    private void Keep(AuditEvent entry, bool durable)
    {
        lock (_lock)
        {
            _entries.Add((entry, durable));
            IReadOnlyList<AuditEvent> all = [.. _entries.Select(e => e.Entry)];
            foreach (var waiter in _waiters.Where(w => w.Condition(all)).ToArray())
            {
                _waiters.Remove(waiter);
                waiter.Met.TrySetResult();
            }
        }
    }
}
