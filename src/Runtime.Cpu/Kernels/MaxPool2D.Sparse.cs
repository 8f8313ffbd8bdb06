using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

public static partial class MaxPool2D
{
    /// <summary>
    /// The backward pass of a max pool into the convolution that feeds it, fused with that convolution's activation:
    /// for every window whose maximum x[argmax] = y is selected, the gradient dy·f′(y) lands on that pixel (f′ from the
    /// output, as in <see cref="Activations.Backward"/>, so ReLU keeps dy where y &gt; 0). Exact zeros are dropped; what is
    /// left is written to <paramref name="dz"/> as per-(channel, sample) lists in window order.
    /// </summary>
    public static unsafe void BackwardToConvolution(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, PooledGradient dz, int batch, in PoolGeometry g)
    {
        ArgumentNullException.ThrowIfNull(dz);
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(dy.Length, (long)batch * g.OutSize, nameof(dy));
        Check.Length(y.Length, dy.Length, nameof(y));
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        if (dz.Geometry != g || batch > dz.Capacity)
        {
            throw new ArgumentException($"dz was made for {dz.Capacity} samples of {dz.Geometry}; this call has {batch} of {g}.", nameof(dz));
        }
        if (act is < Epilogue.Linear or > Epilogue.Tanh)
        {
            throw new ArgumentOutOfRangeException(nameof(act), act, "Unknown activation.");
        }
        dz.Batch = batch;
        fixed (float* pdy = dy, py = y, pvalues = dz.Values)
        fixed (int* pargmax = argmax, ppixels = dz.Pixels, plengths = dz.Lengths)
        {
            var job = new SparseJob(pdy, py, pargmax, act, plengths, ppixels, pvalues, batch, g);
            Workers.Run(&FillPart, &job, Workers.PartsFor(batch, 8));
        }
        var count = 0;
        foreach (var length in dz.Lengths.AsSpan(0, batch * g.Channels))
        {
            count += length;
        }
        dz.Count = count;
    }

    // Samples [lo, hi), one pass: every window writes its entry to the end of its slot's list and advances the end only
    // if the entry is kept, so there is no data-dependent branch (a skipped entry is overwritten by the next, or never
    // read; a slot has room for every window).
    private static unsafe void FillPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(SparseJob*)state;
        float* dyAll = job.Dy, yAll = job.Y, values = job.Values;
        int* argmaxAll = job.Argmax, lengths = job.Lengths, pixels = job.Pixels;
        var (act, batch, c) = (job.Act, job.Batch, job.Geometry.Channels);
        var windows = job.Geometry.OutH * job.Geometry.OutW;
        // argmax = pixel·C + ch: with both below 2²⁴, (argmax − ch)/C in float is exact.
        var vectors = job.Geometry.InSize <= 1 << 24 ? c / 8 * 8 : 0;
        var lanes = Vector256<int>.Indices;
        var inverse = 1.0 / c;
        var kept = stackalloc int[8];
        var pixel = stackalloc int[8];
        var value = stackalloc float[8];
        var (lo, hi) = Gemm.Range(batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            new Span<int>(lengths + (long)b * c, c).Clear();
            var i = (long)b * windows * c;
            for (var o = 0; o < windows; o++, i += c)
            {
                var ch = 0;
                for (; ch < vectors; ch += 8)
                {
                    var at = Vector256.Load(argmaxAll + i + ch);
                    var v = Gradient(act, Vector256.Load(dyAll + i + ch), Vector256.Load(yAll + i + ch));
                    var keep = Vector256.GreaterThanOrEqual(at, Vector256<int>.Zero) & ~Vector256.Equals(v, Vector256<float>.Zero).AsInt32();
                    keep.Store(kept);
                    v.Store(value);
                    Vector256.ConvertToInt32(Vector256.ConvertToSingle(at - (lanes + Vector256.Create(ch))) / Vector256.Create((float)c)).Store(pixel);
                    for (var j = 0; j < 8; j++)
                    {
                        var slot = b * c + ch + j;
                        var e = (long)slot * windows + lengths[slot];
                        pixels[e] = pixel[j];
                        values[e] = value[j];
                        lengths[slot] -= kept[j];
                    }
                }
                for (; ch < c; ch++)
                {
                    var at = argmaxAll[i + ch];
                    var v = Gradient(act, dyAll[i + ch], yAll[i + ch]);
                    var slot = b * c + ch;
                    var e = (long)slot * windows + lengths[slot];
                    pixels[e] = (int)((at + 0.5) * inverse);
                    values[e] = v;
                    lengths[slot] += (at >= 0) & (v != 0f) ? 1 : 0;
                }
            }
        }
    }

    // dy·f′(y), the same expressions as Activations.Backward; ReLU selects without a branch (which y would defeat).
    private static float Gradient(Epilogue act, float dy, float y) => act switch
    {
        Epilogue.Relu => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(dy) & -(y > 0f ? 1 : 0)),
        Epilogue.Sigmoid => dy * (y * (1f - y)),
        Epilogue.Tanh => dy * (1f - y * y),
        _ => dy,
    };

    private static Vector256<float> Gradient(Epilogue act, Vector256<float> dy, Vector256<float> y) => act switch
    {
        Epilogue.Relu => Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), dy, Vector256<float>.Zero),
        Epilogue.Sigmoid => dy * (y * (Vector256<float>.One - y)),
        Epilogue.Tanh => dy * (Vector256<float>.One - y * y),
        _ => dy,
    };

    private readonly unsafe struct SparseJob(float* dy, float* y, int* argmax, Epilogue act, int* lengths, int* pixels, float* values, int batch, PoolGeometry geometry)
    {
        public readonly float* Dy = dy, Y = y, Values = values;
        public readonly int* Argmax = argmax, Lengths = lengths, Pixels = pixels;
        public readonly Epilogue Act = act;
        public readonly int Batch = batch;
        public readonly PoolGeometry Geometry = geometry;
    }
}
