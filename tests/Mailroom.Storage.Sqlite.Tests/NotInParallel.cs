namespace Mailroom.Storage.Sqlite.Tests;

/// <summary>
/// Tests that measure the whole process (allocated bytes, thread-pool latency) run alone, so
/// other tests running beside them cannot blur the measurement.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class NotInParallel;
