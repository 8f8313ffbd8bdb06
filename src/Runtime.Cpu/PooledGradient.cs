namespace Kiln.Runtime.Cpu;

/// <summary>
/// The loss gradient of a convolution's output when a max pool reads that output. It is nonzero only at the pixel each
/// window picked (and, under ReLU, only where that pixel was positive), so at least 1 − 1/(pool²) of the dense tensor
/// would be zeros: for 2×2 windows the convolution's backward passes skip three quarters of their work or more by reading
/// it as (pixel, value) lists per channel and sample.
/// </summary>
/// <remarks>
/// <see cref="MaxPool2D.BackwardToConvolution"/> fills it; the <see cref="Conv2D"/> overloads of BackwardWeights and
/// BackwardData read it. One instance serves every batch up to the one it was created for; nothing is allocated per fill.
/// </remarks>
public sealed class PooledGradient
{
    /// <summary>Room for <paramref name="batch"/> samples of the pooling <paramref name="g"/> reads: one entry per window.</summary>
    public PooledGradient(int batch, in PoolGeometry g)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Geometry = g;
        Capacity = batch;
        Pixels = new int[(long)batch * g.OutSize];
        Values = new float[Pixels.Length];
        Start = new int[(long)g.Channels * batch + 1];
    }

    /// <summary>The pooling whose input this is the gradient of: pixels are of its input, [InH, InW, Channels].</summary>
    public PoolGeometry Geometry { get; }

    /// <summary>The largest batch it holds.</summary>
    public int Capacity { get; }

    /// <summary>Samples in the last fill.</summary>
    public int Batch { get; internal set; }

    /// <summary>Entries in the last fill.</summary>
    public int Count => Start[Geometry.Channels * Batch];

    /// <summary>Entry e: the pixel ih·InW + iw within its sample, and the gradient there.</summary>
    internal int[] Pixels { get; }

    internal float[] Values { get; }

    /// <summary>Channel-major: the entries of channel c and sample b are [Start[c·Batch + b], Start[c·Batch + b + 1]), pixels ascending.</summary>
    internal int[] Start { get; }

    /// <summary>The dense gradient [Batch, InH, InW, Channels] (overwritten), summing entries that share a pixel.</summary>
    public void CopyTo(Span<float> dense)
    {
        var g = Geometry;
        Check.Length(dense.Length, (long)Batch * g.InSize, nameof(dense));
        dense.Clear();
        for (var c = 0; c < g.Channels; c++)
        {
            for (var b = 0; b < Batch; b++)
            {
                var sample = dense.Slice(b * g.InSize, g.InSize);
                for (var e = Start[c * Batch + b]; e < Start[c * Batch + b + 1]; e++)
                {
                    sample[Pixels[e] * g.Channels + c] += Values[e];
                }
            }
        }
    }

    internal void CheckFor(int batch, int inH, int inW, int channels, string name)
    {
        var g = Geometry;
        if (Batch != batch || g.InH != inH || g.InW != inW || g.Channels != channels)
        {
            throw new ArgumentException(
                $"{name} holds {Batch} samples of {g.InH}×{g.InW}×{g.Channels}; expected {batch} of {inH}×{inW}×{channels}.", name);
        }
    }
}
