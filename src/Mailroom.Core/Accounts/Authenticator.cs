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
    private readonly string _dummyHash;

    public Authenticator(IDirectoryStore directory, PasswordHasher? hasher = null, int? concurrency = null)
    {
        _directory = directory;
        _dummyHash = (hasher ?? new PasswordHasher()).Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
        var slots = concurrency ?? Environment.ProcessorCount;
        _slots = new SemaphoreSlim(slots, slots);
    }

    /// <summary>The account, when the password is right; otherwise null, after the same work either way.</summary>
    public async Task<Account?> VerifyAsync(string user, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var account = await _directory.FindAccountAsync(user, cancellationToken).ConfigureAwait(false);
            var hash = account?.PasswordHash ?? _dummyHash;
            var matches = await Task.Run(() => PasswordHasher.Verify(password, hash), cancellationToken).ConfigureAwait(false);
            return matches ? account : null;
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
