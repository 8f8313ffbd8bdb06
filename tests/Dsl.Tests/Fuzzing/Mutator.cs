using System.Buffers.Binary;

namespace Kiln.Tests.Fuzzing;

/// <summary>
/// Seeded byte mutations of a valid file, in the spirit of AFL's havoc stage: bit flips, random and boundary bytes,
/// boundary 32- and 64-bit integers in both byte orders (IDX is big-endian, safetensors little-endian), and chunks
/// deleted, duplicated or cut off. The same seed gives the same cases, so a failure names a reproducible case.
/// </summary>
internal sealed class Mutator(int seed)
{
    private static readonly long[] Boundaries = [0, 1, -1, 2, 7, 8, 255, 256, 0x7FFF, 0xFFFF, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, long.MaxValue, 2_700_000];

    private readonly Random _random = new(seed);

    /// <summary>One to four stacked mutations of <paramref name="original"/>.</summary>
    public byte[] Mutate(ReadOnlySpan<byte> original)
    {
        var bytes = new List<byte>(original.ToArray());
        var rounds = 1 + _random.Next(4);
        for (var r = 0; r < rounds; r++)
        {
            MutateOnce(bytes);
        }
        return [.. bytes];
    }

    private void MutateOnce(List<byte> bytes)
    {
        if (bytes.Count == 0)
        {
            bytes.Add((byte)_random.Next(256));
            return;
        }
        var at = _random.Next(bytes.Count);
        switch (_random.Next(8))
        {
            case 0:
                bytes[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1:
                bytes[at] = (byte)_random.Next(256);
                break;
            case 2:
                bytes[at] = (byte)Boundaries[_random.Next(Boundaries.Length)];
                break;
            case 3:
                WriteInteger(bytes, at, 4);
                break;
            case 4:
                WriteInteger(bytes, at, 8);
                break;
            case 5:
                bytes.RemoveRange(at, _random.Next(1, Math.Min(bytes.Count - at, 64) + 1));
                break;
            case 6:
                var length = _random.Next(1, Math.Min(bytes.Count - at, 64) + 1);
                bytes.InsertRange(_random.Next(bytes.Count + 1), bytes.GetRange(at, length));
                break;
            default:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
        }
    }

    private void WriteInteger(List<byte> bytes, int at, int width)
    {
        Span<byte> value = stackalloc byte[8];
        var boundary = Boundaries[_random.Next(Boundaries.Length)];
        if (_random.Next(2) == 0)
        {
            BinaryPrimitives.WriteInt64BigEndian(value, boundary);
            value = value[(8 - width)..];
        }
        else
        {
            BinaryPrimitives.WriteInt64LittleEndian(value, boundary);
            value = value[..width];
        }
        for (var i = 0; i < width && at + i < bytes.Count; i++)
        {
            bytes[at + i] = value[i];
        }
    }
}
