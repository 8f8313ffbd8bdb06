namespace Kiln.Runtime.Cpu;

/// <summary>
/// The loss gradient of a convolution's output when a max pool reads that output. It is nonzero only at the pixel each
/// window picked, so with non-overlapping windows at least 1 − 1/(pool²) of the dense tensor would be zeros: for 2×2
/// windows the convolution's backward passes skip three quarters of their work by reading it as (pixel, value) lists
/// per channel and sample, one entry per window.
/// </summary>
/// <remarks>
/// <see cref="MaxPool2D.BackwardToConvolution"/> fills it; the <see cref="Conv2D"/> overloads of BackwardWeights and
/// BackwardData read it. One instance serves every batch up to the one it was created for; nothing is allocated per fill.
/// <para>Every window keeps its entry, even where the gradient is zero (ReLU off, or dy exactly zero): on MNIST under
/// ReLU that is 2–4 % of them, and skipping them would cost the fill a compaction, one scalar store per entry, that
/// takes longer than the zeros cost the two readers.</para>
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
    }

    /// <summary>The pooling whose input this is the gradient of: pixels are of its input, [InH, InW, Channels].</summary>
    public PoolGeometry Geometry { get; }

    /// <summary>The largest batch it holds.</summary>
    public int Capacity { get; }

    /// <summary>Samples in the last fill.</summary>
    public int Batch { get; internal set; }

    /// <summary>
    /// Entry e: the pixel ih·InW + iw within its sample, and the gradient there. The list of channel c and sample b
    /// (slot b·Channels + c) is entries [slot·Windows, (slot + 1)·Windows), in window order; a window with no valid cell
    /// (argmax −1) has pixel 0 and value 0.
    /// </summary>
    internal int[] Pixels { get; }

    internal float[] Values { get; }

    /// <summary>Windows per sample and channel: the entries of one slot.</summary>
    internal int Windows => Geometry.OutH * Geometry.OutW;

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
                var slot = b * g.Channels + c;
                for (var e = slot * Windows; e < (slot + 1) * Windows; e++)
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
