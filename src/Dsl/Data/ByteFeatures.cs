namespace Kiln;

/// <summary>
/// Features kept as the bytes they were read as (an IDX file's grey levels): row r is
/// <c>Bytes[r·Length .. (r+1)·Length)</c>, and byte b stands for the float <c>Values[b]</c>. <see cref="Dataset.Batch"/>
/// writes the floats straight into each batch, the way the workshop's <c>map</c> normalises a batch, so 60,000 images
/// of 784 pixels cost their 47 MB of bytes instead of 188 MB of floats. A byte's float comes from the same table the
/// float copy was made from, so a batch holds the same bits either way. Immutable; safe to read concurrently.
/// </summary>
internal sealed class ByteFeatures
{
    private readonly byte[] _bytes;
    private readonly float[] _values;
    private ByteFeatures? _inverted;

    private ByteFeatures(byte[] bytes, int length, float[] values)
    {
        _bytes = bytes;
        _values = values;
        Length = length;
    }

    /// <summary>Features per row.</summary>
    public int Length { get; }

    /// <summary>Rows of <paramref name="length"/> grey levels, each byte b read as b / 255 (in [0, 1]).</summary>
    public static ByteFeatures Scaled(byte[] bytes, int length)
    {
        // A table rather than a division per pixel: exactly b / 255f, and cheaper.
        var values = new float[256];
        for (var b = 0; b < values.Length; b++)
        {
            values[b] = b / 255f;
        }
        return new(bytes, length, values);
    }

    /// <summary>The same bytes, each read as 1 − its value here (<see cref="Datasets.Invert"/>); made once and shared.</summary>
    public ByteFeatures Inverted
    {
        get
        {
            if (Volatile.Read(ref _inverted) is { } inverted)
            {
                return inverted;
            }
            var values = new float[256];
            for (var b = 0; b < values.Length; b++)
            {
                values[b] = 1f - _values[b];
            }
            Interlocked.CompareExchange(ref _inverted, new ByteFeatures(_bytes, Length, values), null);
            return _inverted;
        }
    }

    /// <summary>Writes row <paramref name="row"/>'s floats into the first <see cref="Length"/> elements of <paramref name="destination"/>.</summary>
    public void CopyTo(int row, Span<float> destination)
    {
        var bytes = _bytes.AsSpan(row * Length, Length);
        destination = destination[..bytes.Length];
        var values = _values;
        for (var i = 0; i < bytes.Length; i++)
        {
            destination[i] = values[bytes[i]];
        }
    }

    /// <summary>Row <paramref name="row"/> as a new float array.</summary>
    public float[] ToArray(int row)
    {
        var features = new float[Length];
        CopyTo(row, features);
        return features;
    }
}
