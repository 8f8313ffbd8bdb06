using System.Globalization;
using System.Text;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// KILN_CUDA_PROFILE=1: device time of every launch, from an event pair around it, summed per kernel and written to
/// standard error when the network is disposed. Each training step then ends synchronised and runs without a graph,
/// so the totals describe the kernels, not the training speed.
/// </summary>
internal sealed class KernelProfile : IDisposable
{
    private readonly CudaContext _context;
    private readonly string[] _names;
    private readonly double[] _milliseconds;
    private readonly long[] _calls;
    private readonly List<(int Kernel, CudaEvent Start, CudaEvent End)> _pending = [];
    private readonly Stack<CudaEvent> _free = new();
    private CudaEvent? _start;
    private long _steps;

    private KernelProfile(CudaContext context, string[] names)
    {
        _context = context;
        _names = names;
        _milliseconds = new double[names.Length];
        _calls = new long[names.Length];
    }

    public static KernelProfile? FromEnvironment(CudaContext context, string[] names) =>
        Environment.GetEnvironmentVariable("KILN_CUDA_PROFILE") == "1" ? new KernelProfile(context, names) : null;

    public void Before(CudaStream stream)
    {
        _start = Take();
        _start.Record(stream);
    }

    public void After(int kernel, CudaStream stream)
    {
        var end = Take();
        end.Record(stream);
        _pending.Add((kernel, _start!, end));
        _start = null;
    }

    /// <summary>Waits for the step's launches and adds their times.</summary>
    public void Collect(CudaStream stream)
    {
        stream.Synchronize();
        foreach (var (kernel, start, end) in _pending)
        {
            _milliseconds[kernel] += CudaEvent.ElapsedMilliseconds(start, end);
            _calls[kernel]++;
            _free.Push(start);
            _free.Push(end);
        }
        _pending.Clear();
        _steps++;
    }

    /// <summary>The table, slowest kernel first, on standard error.</summary>
    public void Report(string network)
    {
        var total = _milliseconds.Sum();
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"Kiln CUDA profile of {network}: {_steps} training steps, {total * 1000 / Math.Max(1, _steps):0.0} µs of kernel time per step");
        text.AppendLine("| kernel | calls | total ms | µs per call | share |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var i in Enumerable.Range(0, _names.Length).Where(i => _calls[i] > 0).OrderByDescending(i => _milliseconds[i]))
        {
            text.AppendLine(c, $"| {_names[i]} | {_calls[i]} | {_milliseconds[i]:0.000} | {_milliseconds[i] * 1000 / _calls[i]:0.0} | {_milliseconds[i] / total:0.0%} |");
        }
        Console.Error.Write(text.ToString());
    }

    public void Dispose()
    {
        foreach (var e in _free.Concat(_pending.SelectMany(p => new[] { p.Start, p.End })))
        {
            e.Dispose();
        }
        _free.Clear();
        _pending.Clear();
    }

    private CudaEvent Take() => _free.Count > 0 ? _free.Pop() : _context.CreateEvent(timing: true);
}
