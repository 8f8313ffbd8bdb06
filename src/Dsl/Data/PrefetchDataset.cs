using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Kiln;

internal sealed class PrefetchDataset<T>(Dataset<T> source, int bufferSize) : Dataset<T>
{
    public override bool IsInfinite => source.IsInfinite;

    public override long? Count => source.Count;

    public override IEnumerator<T> GetEnumerator() => Enumerate(compact: false);

    internal override IEnumerator<T> Enumerate(bool compact) => new Enumerator(source, bufferSize, compact);

    private sealed class Enumerator(Dataset<T> source, int bufferSize, bool compact) : IEnumerator<T>
    {
        private readonly BlockingCollection<T> _queue = new(bufferSize);
        private readonly CancellationTokenSource _stop = new();
        private Thread? _producer;
        private ExceptionDispatchInfo? _failure;
        private T _current = default!;

        public T Current => _current;

        object? System.Collections.IEnumerator.Current => _current;

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            // Started on first use, so an enumerator that is never advanced costs no thread.
            if (_producer is null)
            {
                _producer = new Thread(Produce) { IsBackground = true, Name = "Kiln dataset prefetch" };
                _producer.Start();
            }
            if (_queue.TryTake(out var item, Timeout.Infinite))
            {
                _current = item;
                return true;
            }
            // CompleteAdding happens after _failure is set, so the failure is visible once the queue is drained.
            _failure?.Throw();
            return false;
        }

        public void Reset() => throw new NotSupportedException();

        public void Dispose()
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }
            _stop.Cancel();
            // Waiting for the producer means the source's enumerator has been disposed (files closed) when this returns.
            _producer?.Join();
            _queue.Dispose();
            _stop.Dispose();
        }

        private void Produce()
        {
            try
            {
                foreach (var item in source.Read(compact))
                {
                    _queue.Add(item, _stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // The consumer went away; ending quietly is the point.
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                _queue.CompleteAdding();
            }
        }
    }
}
