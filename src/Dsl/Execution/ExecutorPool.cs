using System.Buffers;
using System.Collections.Concurrent;

namespace Kiln.Execution;

/// <summary>
/// A network's executors: the master, which owns the parameters and the optimizer state and runs training, and a
/// pool of inference executors, one per concurrent caller, each with its own layer buffers and its own copy of the
/// parameters.
/// </summary>
/// <remarks>
/// <para>Why a pool rather than a lock or per-call buffers: an executor's buffers are sized once and reused, so a
/// caller that rents one allocates nothing, and callers never wait for each other. The pool grows to the largest
/// number of concurrent callers seen; <see cref="Trim"/> gives the idle ones back.</para>
/// <para>Every change to the master's parameters (a training step, <c>SetParameters</c>, <c>Load</c>) runs inside
/// <see cref="BeginWrite"/> and bumps a version. A rented executor whose copy is older copies the parameters under the
/// read lock, so a copy never overlaps a step: it sees the parameters as they were between two steps, never half an
/// update. Callers holding an executor whose copy is current run without any lock, even while training goes on.</para>
/// <para>Thread safety: every member may be called from any thread at any time, except <see cref="Dispose"/>, after
/// which <see cref="Rent"/> throws <see cref="ObjectDisposedException"/> (executors rented before are disposed when
/// returned).</para>
/// </remarks>
internal sealed class ExecutorPool : IDisposable
{
    private readonly Func<ExecutorContext, IExecutor> _create;
    private readonly ExecutorContext _context;
    private readonly ReaderWriterLockSlim _parameters = new(LockRecursionPolicy.NoRecursion);
    private readonly ConcurrentBag<Pooled> _idle = [];
    private readonly object _creating = new();
    private long _version = 1;
    private volatile bool _disposed;

    public ExecutorPool(Func<ExecutorContext, IExecutor> create, ExecutorContext context)
    {
        _create = create;
        _context = context;
        Master = create(context);
    }

    /// <summary>Owns the parameters; only code inside <see cref="BeginWrite"/> may change them.</summary>
    public IExecutor Master { get; }

    /// <summary>Excludes parameter copies until disposed; disposing marks every inference copy stale.</summary>
    public WriteScope BeginWrite()
    {
        _parameters.EnterWriteLock();
        if (_disposed)
        {
            _parameters.ExitWriteLock();
            throw new ObjectDisposedException(nameof(Network));
        }
        return new WriteScope(this);
    }

    /// <summary>Lets the caller read the master's parameters while no write runs.</summary>
    public ReadScope BeginRead()
    {
        _parameters.EnterReadLock();
        if (_disposed)
        {
            _parameters.ExitReadLock();
            throw new ObjectDisposedException(nameof(Network));
        }
        return new ReadScope(_parameters);
    }

    /// <summary>An inference executor holding the parameters of the latest completed write, for this caller alone.</summary>
    public Lease Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, typeof(Network));
        if (!_idle.TryTake(out var pooled))
        {
            // Creation is serialised: a CUDA executor compiles (or looks up) its module and allocates device memory.
            lock (_creating)
            {
                pooled = new Pooled(_create(_context));
            }
        }
        try
        {
            if (pooled.Version != Volatile.Read(ref _version))
            {
                Refresh(pooled);
            }
        }
        catch
        {
            pooled.Executor.Dispose();
            throw;
        }
        return new Lease(this, pooled);
    }

    /// <summary>Disposes the idle inference executors and shrinks the master's per-batch buffers to one example.</summary>
    public void Trim()
    {
        DrainIdle();
        using (BeginWrite())
        {
            Master.ReleaseBuffers();
        }
    }

    public void Dispose()
    {
        _parameters.EnterWriteLock();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            Master.Dispose();
        }
        finally
        {
            _parameters.ExitWriteLock();
        }
        DrainIdle();
    }

    private void Refresh(Pooled pooled)
    {
        var count = _context.Info.ParameterCount;
        var buffer = ArrayPool<float>.Shared.Rent(count);
        try
        {
            using (BeginRead())
            {
                // Stable here: writers bump the version before they release the write lock.
                var version = _version;
                Master.ReadParameters(buffer.AsSpan(0, count));
                pooled.Executor.WriteParameters(buffer.AsSpan(0, count));
                pooled.Version = version;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private void Return(Pooled pooled)
    {
        _idle.Add(pooled);
        // Dispose may have drained the bag between the caller's check and this Add.
        if (_disposed)
        {
            DrainIdle();
        }
    }

    private void DrainIdle()
    {
        while (_idle.TryTake(out var pooled))
        {
            pooled.Executor.Dispose();
        }
    }

    internal sealed class Pooled(IExecutor executor)
    {
        public IExecutor Executor { get; } = executor;

        // The master's version this executor's parameters were copied at; 0 = never.
        public long Version { get; set; }
    }

    /// <summary>An inference executor rented by one caller; disposing returns it to the pool.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly ExecutorPool _pool;
        private readonly Pooled _pooled;

        internal Lease(ExecutorPool pool, Pooled pooled) => (_pool, _pooled) = (pool, pooled);

        public IExecutor Executor => _pooled.Executor;

        public void Dispose() => _pool.Return(_pooled);
    }

    public readonly struct WriteScope : IDisposable
    {
        private readonly ExecutorPool _pool;

        internal WriteScope(ExecutorPool pool) => _pool = pool;

        public void Dispose()
        {
            // Bumped even when the write threw: the parameters may have changed part way.
            Interlocked.Increment(ref _pool._version);
            _pool._parameters.ExitWriteLock();
        }
    }

    public readonly struct ReadScope : IDisposable
    {
        private readonly ReaderWriterLockSlim _lock;

        internal ReadScope(ReaderWriterLockSlim @lock) => _lock = @lock;

        public void Dispose() => _lock.ExitReadLock();
    }
}
