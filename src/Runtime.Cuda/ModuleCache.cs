using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Kiln.Runtime.Cuda;

/// <summary>
/// Compiles each distinct (source, name expressions, NVRTC version, arch, options) once per process, and keeps the
/// result on disk so later processes skip NVRTC. The directory is <c>$KILN_CACHE_DIR</c> when set, else
/// <c>$XDG_CACHE_HOME/kiln/cuda</c>, else <c>~/.cache/kiln/cuda</c>. Entries are written atomically (a temporary file
/// in the same directory, then a rename) and carry a header (magic, format version, key) and a SHA-256 checksum: a
/// corrupt, truncated or foreign entry is ignored and rebuilt. Disk errors never fail a compilation. Thread-safe.
/// </summary>
public sealed class ModuleCache
{
    private const int FormatVersion = 1;
    private static readonly byte[] s_magic = "KILNCUDA"u8.ToArray();
    private static readonly Lazy<ModuleCache> s_shared = new(() => new ModuleCache(DefaultDirectory()));

    private readonly ConcurrentDictionary<string, Lazy<CompiledProgram>> _memory = new(StringComparer.Ordinal);
    private long _compilations;
    private long _memoryHits;
    private long _diskHits;

    /// <param name="directory">Where entries live; null keeps them in memory only.</param>
    public ModuleCache(string? directory)
    {
        Directory = directory;
    }

    /// <summary>The process-wide cache over <see cref="DefaultDirectory"/>.</summary>
    public static ModuleCache Shared => s_shared.Value;

    public string? Directory { get; }

    /// <summary>NVRTC compilations this cache ran (each miss in memory and on disk).</summary>
    public long Compilations => Interlocked.Read(ref _compilations);

    public long MemoryHits => Interlocked.Read(ref _memoryHits);

    public long DiskHits => Interlocked.Read(ref _diskHits);

    /// <summary><c>$KILN_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/kiln/cuda</c>, else <c>~/.cache/kiln/cuda</c>.</summary>
    public static string DefaultDirectory()
    {
        var kiln = Environment.GetEnvironmentVariable("KILN_CACHE_DIR");
        if (!string.IsNullOrWhiteSpace(kiln))
        {
            return kiln;
        }
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "kiln", "cuda");
        }
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "kiln", "cuda");
    }

    /// <summary>Compiles for the arch <see cref="CudaArch.Select(CudaDevice)"/> picks for <paramref name="device"/>.</summary>
    public CompiledProgram GetOrCompile(string source, string programName, IReadOnlyList<string> nameExpressions, CudaDevice device, IReadOnlyList<string>? extraOptions = null) =>
        GetOrCompile(source, programName, nameExpressions, CudaArch.Select(device).Arch, extraOptions);

    /// <summary>The program from memory, else from disk, else from <see cref="Nvrtc.Compile"/> (then stored in both).</summary>
    public CompiledProgram GetOrCompile(string source, string programName, IReadOnlyList<string> nameExpressions, string arch, IReadOnlyList<string>? extraOptions = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(nameExpressions);
        ArgumentNullException.ThrowIfNull(arch);
        var v = Nvrtc.Version;
        var key = ComputeKey(source, nameExpressions, $"{v.Major}.{v.Minor}", arch, extraOptions ?? []);
        bool created = false;
        var lazy = _memory.GetOrAdd(key, k => new Lazy<CompiledProgram>(() =>
        {
            created = true;
            return Load(k, source, programName, nameExpressions, arch, extraOptions);
        }, LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            var program = lazy.Value;
            if (!created)
            {
                Interlocked.Increment(ref _memoryHits);
            }
            return program;
        }
        catch
        {
            _memory.TryRemove(new KeyValuePair<string, Lazy<CompiledProgram>>(key, lazy));
            throw;
        }
    }

    private CompiledProgram Load(string key, string source, string programName, IReadOnlyList<string> names, string arch, IReadOnlyList<string>? options)
    {
        var path = PathFor(key);
        if (path is not null && TryRead(path, key) is { } cached)
        {
            Interlocked.Increment(ref _diskHits);
            return cached;
        }
        Interlocked.Increment(ref _compilations);
        var program = Nvrtc.Compile(source, programName, names, arch, options);
        if (path is not null)
        {
            TryWrite(path, key, program);
        }
        return program;
    }

    /// <summary>The file an entry with <paramref name="key"/> lives in, or null for a memory-only cache.</summary>
    public string? PathFor(string key) => Directory is null ? null : Path.Combine(Directory, key + ".kcubin");

    /// <summary>The cache key: SHA-256 (hex) over the source, the name expressions, the NVRTC version, the arch and the options.</summary>
    public static string ComputeKey(string source, IReadOnlyList<string> nameExpressions, string nvrtcVersion, string arch, IReadOnlyList<string> extraOptions)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        Add($"kiln-cuda-module/{FormatVersion}");
        Add(source);
        Add(nameExpressions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var n in nameExpressions)
        {
            Add(n);
        }
        Add(nvrtcVersion);
        Add(arch);
        Add(string.Join("\u0001", Nvrtc.DefaultOptions));
        Add(extraOptions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var o in extraOptions)
        {
            Add(o);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    // File layout (little-endian): "KILNCUDA" | int32 format | 32-byte key | byte isCubin | str arch | int32 n |
    // n × (str expression, str lowered) | str log | int32 imageLength | image | SHA-256 of everything before it.
    // str = int32 byte length + UTF-8 bytes.
    internal static byte[] Serialize(string key, CompiledProgram program)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(s_magic);
            w.Write(FormatVersion);
            w.Write(Convert.FromHexString(key));
            w.Write(program.IsCubin ? (byte)1 : (byte)0);
            WriteString(w, program.Arch);
            w.Write(program.LoweredNames.Count);
            foreach (var (expression, lowered) in program.LoweredNames.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                WriteString(w, expression);
                WriteString(w, lowered);
            }
            WriteString(w, program.Log);
            w.Write(program.ImageArray.Length);
            w.Write(program.ImageArray);
        }
        var body = ms.ToArray();
        return [.. body, .. SHA256.HashData(body)];
    }

    internal static CompiledProgram? Deserialize(ReadOnlySpan<byte> data, string key)
    {
        const int Checksum = 32;
        if (data.Length < s_magic.Length + 4 + 32 + Checksum)
        {
            return null;
        }
        var body = data[..^Checksum];
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(data[^Checksum..]))
        {
            return null;
        }
        try
        {
            using var r = new BinaryReader(new MemoryStream(body.ToArray()), Encoding.UTF8);
            if (!r.ReadBytes(s_magic.Length).AsSpan().SequenceEqual(s_magic) || r.ReadInt32() != FormatVersion)
            {
                return null;
            }
            if (!r.ReadBytes(32).AsSpan().SequenceEqual(Convert.FromHexString(key)))
            {
                return null;
            }
            bool cubin = r.ReadByte() == 1;
            var arch = ReadString(r);
            int count = r.ReadInt32();
            if (count < 0 || count > 1_000_000)
            {
                return null;
            }
            var names = new Dictionary<string, string>(count, StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                var expression = ReadString(r);
                names[expression] = ReadString(r);
            }
            var log = ReadString(r);
            int length = r.ReadInt32();
            if (length <= 0 || length != r.BaseStream.Length - r.BaseStream.Position)
            {
                return null;
            }
            return new CompiledProgram(r.ReadBytes(length), cubin, arch, names, log);
        }
        catch (EndOfStreamException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static string ReadString(BinaryReader r)
    {
        int length = r.ReadInt32();
        if (length < 0 || length > r.BaseStream.Length - r.BaseStream.Position)
        {
            throw new EndOfStreamException();
        }
        return Encoding.UTF8.GetString(r.ReadBytes(length));
    }

    private static CompiledProgram? TryRead(string path, string key)
    {
        try
        {
            return File.Exists(path) ? Deserialize(File.ReadAllBytes(path), key) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWrite(string path, string key, CompiledProgram program)
    {
        string? temp = null;
        try
        {
            var directory = Path.GetDirectoryName(path)!;
            System.IO.Directory.CreateDirectory(directory);
            temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                f.Write(Serialize(key, program));
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            temp = null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only or full disk costs a recompilation next time, nothing more.
        }
        finally
        {
            if (temp is not null)
            {
                try
                {
                    File.Delete(temp);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
    }
}
