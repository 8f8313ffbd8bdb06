namespace Kiln.Runtime.Cuda;

/// <summary>What NVRTC produced for one program: a CUBIN or PTX image and the mangled name of each requested name expression.</summary>
public sealed class CompiledProgram
{
    private readonly byte[] _image;
    private readonly Dictionary<string, string> _loweredNames;

    public CompiledProgram(byte[] image, bool isCubin, string arch, IReadOnlyDictionary<string, string> loweredNames, string log)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(loweredNames);
        _image = image;
        IsCubin = isCubin;
        Arch = arch;
        _loweredNames = new Dictionary<string, string>(loweredNames, StringComparer.Ordinal);
        Log = log ?? "";
    }

    /// <summary>The module image for cuModuleLoadData: CUBIN bytes, or NUL-terminated PTX text.</summary>
    public ReadOnlySpan<byte> Image => _image;

    /// <summary>True for a CUBIN (compiled for a real <c>sm_XX</c>), false for PTX (<c>compute_XX</c>, JIT-compiled by the driver).</summary>
    public bool IsCubin { get; }

    /// <summary>The architecture it was compiled for, e.g. <c>sm_90</c> or <c>compute_80</c>.</summary>
    public string Arch { get; }

    /// <summary>Name expression (as passed to <see cref="Nvrtc.Compile"/>) → lowered (mangled) kernel name.</summary>
    public IReadOnlyDictionary<string, string> LoweredNames => _loweredNames;

    /// <summary>NVRTC's log (warnings); usually empty.</summary>
    public string Log { get; }

    /// <summary>The lowered name of <paramref name="nameExpression"/>; throws naming the expressions that do exist.</summary>
    public string GetLoweredName(string nameExpression) =>
        _loweredNames.TryGetValue(nameExpression, out var lowered)
            ? lowered
            : throw new KeyNotFoundException($"'{nameExpression}' was not a name expression of this program; it has {_loweredNames.Count}: {string.Join(", ", _loweredNames.Keys.Take(8))}{(_loweredNames.Count > 8 ? ", …" : "")}");

    internal byte[] ImageArray => _image;
}
