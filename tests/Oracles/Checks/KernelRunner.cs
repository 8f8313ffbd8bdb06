using Kiln.Runtime.Cuda;

namespace Kiln.Oracles;

/// <summary>
/// One context and one module holding every instantiation a check needs. Each <see cref="Run"/> synchronises, so an
/// error surfaces at the kernel that caused it.
/// </summary>
public sealed class KernelRunner : IDisposable
{
    /// <summary>A quiet NaN in every 32-bit word: an element a kernel forgets to write fails any comparison.</summary>
    public const uint NaNBits = 0x7FC00000;

    public KernelRunner(int ordinal, string programName, IEnumerable<string> nameExpressions)
    {
        ArgumentNullException.ThrowIfNull(nameExpressions);
        Context = new CudaContext(ordinal);
        Program = ModuleCache.Shared.GetOrCompile(KernelSources.All, programName, [.. nameExpressions.Distinct()], Context.Device);
        Module = Context.LoadModule(Program);
    }

    public CudaContext Context { get; }

    public CompiledProgram Program { get; }

    public CudaModule Module { get; }

    public DeviceBuffer<T> Upload<T>(T[] values) where T : unmanaged
    {
        var buffer = Context.Allocate<T>(values.Length);
        buffer.Upload(values);
        return buffer;
    }

    public DeviceBuffer<T> Poisoned<T>(long count) where T : unmanaged
    {
        var buffer = Context.Allocate<T>(count);
        buffer.Fill32(NaNBits);
        return buffer;
    }

    /// <summary>Launches <paramref name="expression"/> with device buffers, ints, uints, floats or null pointers, and waits for it.</summary>
    public void Run(string expression, LaunchShape shape, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var list = new KernelArgument[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            // Each arm converts on its own: a common type for the arms would be float, which ulong and int convert to.
            list[i] = args[i] switch
            {
                null => (KernelArgument)0UL,
                DeviceBuffer<float> f => (KernelArgument)f.Pointer,
                DeviceBuffer<int> n => (KernelArgument)n.Pointer,
                DeviceBuffer<double> d => (KernelArgument)d.Pointer,
                int n => (KernelArgument)n,
                uint u => (KernelArgument)u,
                float f => (KernelArgument)f,
                _ => throw new ArgumentException($"Unsupported kernel argument {args[i]!.GetType()} for {expression}.", nameof(args)),
            };
        }
        Module.Launch(Module.GetFunctionByExpression(expression), shape, null, list);
        Context.Synchronize();
    }

    public void Dispose()
    {
        Module.Dispose();
        Context.Dispose();
    }
}
