using System.Security.Cryptography;
using Mailroom.Core.Storage;

namespace Mailroom.Core.Accounts;

/// <summary>
/// Checks a user name and password against the stored hash. An unknown user costs the same as a
/// known one (a dummy hash of the same cost is checked), so timing says nothing about which
/// accounts exist. Checks are deliberately slow, so they run on the thread pool, at most one per
/// core at once: many sessions logging in together cannot stall the others.
/// </summary>
public sealed class Authenticator : IDisposable
{
    private readonly IDirectoryStore _directory;
    private readonly SemaphoreSlim _slots;
    private readonly PasswordHasher _hasher;
    private readonly string _dummyHash;
    private readonly Lock _fakeSaltKeyGate = new();
    private Task<byte[]>? _fakeSaltKey;
    private readonly int _iterations;

    public Authenticator(IDirectoryStore directory, PasswordHasher? hasher = null, int? concurrency = null)
    {
        _directory = directory;
        hasher ??= new PasswordHasher();
        _hasher = hasher;
        _iterations = hasher.Iterations;
        _dummyHash = hasher.Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
        var slots = concurrency ?? Environment.ProcessorCount;
        _slots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>How long a check waits for a free slot before it gives up (<see cref="TimeoutException"/>).</summary>
    public TimeSpan SlotTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The account, when the password is right (its hash brought up to the current format and
    /// cost if need be); otherwise null, after the same work either way.
    /// Throws <see cref="TimeoutException"/> when no slot frees up in time.
    /// </summary>
    public async Task<Account?> VerifyAsync(string user, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        if (!await _slots.WaitAsync(SlotTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw new TimeoutException("Every password-checking slot stayed busy.");
        }

        try
        {
            var account = await _directory.FindAccountAsync(user, cancellationToken).ConfigureAwait(false);
            var hash = account?.PasswordHash ?? _dummyHash;
            var matches = await Task.Run(() => PasswordHasher.Verify(password, hash), cancellationToken).ConfigureAwait(false);
            if (!matches || account is null)
            {
                return null;
            }

            // A hash of an older format or a lower cost is replaced now that the password is known,
            // so every account reaches the current format (and SCRAM) by logging in once.
            if (_hasher.NeedsRehash(account.PasswordHash))
            {
                var upgraded = await Task.Run(() => _hasher.Hash(password), cancellationToken).ConfigureAwait(false);
                try
                {
                    await _directory.SetPasswordHashAsync(account.Address, upgraded, cancellationToken).ConfigureAwait(false);
                    account = account with { PasswordHash = upgraded };
                }
                catch (StorageException)
                {
                    // The log-in stands; the upgrade is tried again at the next one.
                }
            }

            return account;
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// What SCRAM-SHA-256 needs to check a user's proof: the stored keys, never the salted
    /// password. An unknown user (or one whose hash predates SCRAM) gets a salt derived from the
    /// name with a key the store keeps, and random keys, so the exchange looks the same and simply
    /// fails at the proof. The key is the same on every node and after a restart, as a real
    /// account's salt is: otherwise asking twice, across nodes or restarts, would tell the two apart.
    /// </summary>
    public async Task<ScramCredential> FindScramCredentialAsync(string user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);

        // Fetched for every user, known or not, so the first exchange after a start costs the same either way.
        var fakeSaltKey = await FakeSaltKeyAsync(cancellationToken).ConfigureAwait(false);
        var account = await _directory.FindAccountAsync(user, cancellationToken).ConfigureAwait(false);
        if (account is not null && PasswordHasher.TryGetScramKeys(account.PasswordHash, out var keys))
        {
            return new ScramCredential(account, keys!);
        }

        var fakeSalt = HMACSHA256.HashData(fakeSaltKey, System.Text.Encoding.UTF8.GetBytes(user.ToLowerInvariant()))[..16];
        return new ScramCredential(null, new ScramKeys(fakeSalt, _iterations, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32)));
    }

    /// <summary>The store's key for unknown users' salts: read once, and read again after a failure.</summary>
    private Task<byte[]> FakeSaltKeyAsync(CancellationToken cancellationToken)
    {
        Task<byte[]> current;
        lock (_fakeSaltKeyGate)
        {
            // One read at a time: sessions arriving together share it. Started on the pool, so
            // no store work runs under the lock. Not the caller's token: one session giving up
            // must not fail the read for the others.
            if (_fakeSaltKey is null || _fakeSaltKey.IsFaulted || _fakeSaltKey.IsCanceled)
            {
                var candidate = RandomNumberGenerator.GetBytes(32);
                _fakeSaltKey = Task.Run(() => _directory.GetOrAddSecretAsync(FakeSaltSecret, candidate, CancellationToken.None));
            }

            current = _fakeSaltKey;
        }

        return current.WaitAsync(cancellationToken);
    }

    /// <summary>The name of the store's secret behind <see cref="FindScramCredentialAsync"/>'s salts for unknown users.</summary>
    public const string FakeSaltSecret = "scram-unknown-user-salt";

    public void Dispose() => _slots.Dispose();
}

/// <summary>A SCRAM credential; <see cref="Account"/> is null when the exchange can only fail.</summary>
public sealed record ScramCredential(Account? Account, ScramKeys Keys);
