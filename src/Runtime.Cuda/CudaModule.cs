using System.Text;
using Kiln.Runtime.Cuda.Interop;

namespace Kiln.Runtime.Cuda;

/// <summary>A grid or block size.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    public static implicit operator Dim3(int x) => new(checked((uint)x));

    public static implicit operator Dim3((int X, int Y) d) => new(checked((uint)d.X), checked((uint)d.Y));

    public static implicit operator Dim3((int X, int Y, int Z) d) => new(checked((uint)d.X), checked((uint)d.Y), checked((uint)d.Z));

    /// <summary>⌈n / d⌉, for grid sizes.</summary>
    public static int CeilDiv(long n, int d) => checked((int)((n + d - 1) / d));
}

/// <summary>A kernel in a loaded module (CUfunction).</summary>
public readonly record struct CudaFunction(IntPtr Handle, string Name);

/// <summary>A loaded CUBIN or PTX image (cuModuleLoadData) and launches of its kernels.</summary>
public sealed class CudaModule : IDisposable
{
    private DriverHandle _handle;
    private readonly CompiledProgram? _program;

    /// <summary>Loads <paramref name="program"/>'s image into <paramref name="context"/>.</summary>
    public CudaModule(CudaContext context, CompiledProgram program)
        : this(context, program?.ImageArray ?? throw new ArgumentNullException(nameof(program)), program.IsCubin)
    {
        _program = program;
    }

    /// <summary>Loads a raw CUBIN or PTX image; PTX is NUL-terminated here if it is not already.</summary>
    public unsafe CudaModule(CudaContext context, ReadOnlySpan<byte> image, bool isCubin)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (image.IsEmpty)
        {
            throw new ArgumentException("The module image is empty.", nameof(image));
        }
        Context = context;
        byte[] bytes = !isCubin && image[^1] != 0 ? [.. image, (byte)0] : image.ToArray();
        context.MakeCurrent();
        IntPtr m;
        fixed (byte* p = bytes)
        {
            DriverApi.Check(DriverApi.Instance.cuModuleLoadData(&m, p), "cuModuleLoadData");
        }
        _handle = new DriverHandle(m);
    }

    public CudaContext Context { get; }

    private IntPtr Handle => _handle.Get(this);

    /// <summary>The kernel with mangled name <paramref name="loweredName"/> (cuModuleGetFunction).</summary>
    public unsafe CudaFunction GetFunction(string loweredName)
    {
        ArgumentNullException.ThrowIfNull(loweredName);
        Context.MakeCurrent();
        var name = new byte[Encoding.UTF8.GetByteCount(loweredName) + 1];
        Encoding.UTF8.GetBytes(loweredName, name);
        IntPtr f;
        fixed (byte* p = name)
        {
            int rc = DriverApi.Instance.cuModuleGetFunction(&f, Handle, p);
            if (rc != 0)
            {
                var e = DriverApi.Error(rc, "cuModuleGetFunction");
                throw new CudaException($"{e.Message} (kernel '{loweredName}')", e);
            }
        }
        return new CudaFunction(f, loweredName);
    }

    /// <summary>The kernel for a name expression of the program this module was loaded from, e.g. <c>kiln::dense_forward&lt;4,10,1&gt;</c>.</summary>
    public CudaFunction GetFunctionByExpression(string nameExpression)
    {
        if (_program is null)
        {
            throw new InvalidOperationException("This module was loaded from a raw image: look kernels up by lowered name with GetFunction.");
        }
        return GetFunction(_program.GetLoweredName(nameExpression));
    }

    /// <summary>
    /// Launches <paramref name="function"/> (cuLaunchKernel). <paramref name="args"/> holds one pointer per kernel
    /// parameter, each pointing at the argument's value (a <c>ulong</c> device pointer, an <c>int</c>, a <c>float</c>…),
    /// in the kernel's parameter order. A null <paramref name="stream"/> is the legacy default stream.
    /// </summary>
    public unsafe void Launch(CudaFunction function, Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, void** args)
    {
        if (function.Handle == IntPtr.Zero)
        {
            throw new ArgumentException("The function handle is null.", nameof(function));
        }
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0)
        {
            return; // an empty batch: nothing to launch
        }
        Context.MakeCurrent();
        int rc = DriverApi.Instance.cuLaunchKernel(function.Handle, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, (uint)sharedBytes, CudaStream.HandleOf(stream), args, null);
        if (rc != 0)
        {
            var e = DriverApi.Error(rc, "cuLaunchKernel");
            throw new CudaException($"{e.Message} (kernel '{function.Name}', grid {grid.X}×{grid.Y}×{grid.Z}, block {block.X}×{block.Y}×{block.Z})", e);
        }
    }

    /// <inheritdoc cref="Launch(CudaFunction, Dim3, Dim3, int, CudaStream?, void**)"/>
    public unsafe void Launch(CudaFunction function, Dim3 grid, Dim3 block, int sharedBytes, CudaStream? stream, ReadOnlySpan<IntPtr> args)
    {
        fixed (IntPtr* p = args)
        {
            Launch(function, grid, block, sharedBytes, stream, (void**)p);
        }
    }

    /// <summary>
    /// Launches <paramref name="function"/> with <paramref name="shape"/> (see <see cref="KernelGeometry"/>), no
    /// dynamic shared memory and <paramref name="arguments"/> in the kernel's parameter order. The driver copies the
    /// values during the call (also while a graph is being captured), so the span may be a temporary.
    /// </summary>
    public unsafe void Launch(CudaFunction function, LaunchShape shape, CudaStream? stream, params ReadOnlySpan<KernelArgument> arguments)
    {
        // cuLaunchKernel takes at most 4 KiB of parameters; more would only overflow the stack here.
        const int maxArguments = 4096 / sizeof(ulong);
        if (arguments.Length > maxArguments)
        {
            throw new ArgumentException($"A kernel takes at most {maxArguments} 8-byte arguments; {arguments.Length} were given for '{function.Name}'.", nameof(arguments));
        }
        var pointers = stackalloc void*[arguments.Length];
        fixed (KernelArgument* values = arguments)
        {
            for (var i = 0; i < arguments.Length; i++)
            {
                pointers[i] = values + i;
            }
            Launch(function, shape.Grid, shape.Block, 0, stream, pointers);
        }
    }

    public unsafe void Dispose() => _handle.Release(Context, DriverApi.Instance.cuModuleUnload, "cuModuleUnload");
}
