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
        fixed (int* pargmax = argmax, ppixels = dz.Pixels, pstart = dz.Start)
        {
            var job = new SparseJob(pdy, py, pargmax, act, pstart, ppixels, pvalues, batch, g);
            var parts = Workers.PartsFor(batch, 8);
            // Counts into Start[slot + 1], prefix sums, then each fill advances Start[slot] to the slot's end, so a
            // shift by one restores the starts. Parts own whole samples, so they touch disjoint slots.
            Workers.Run(&CountPart, &job, parts);
            var slots = g.Channels * batch;
            pstart[0] = 0;
            for (var s = 1; s <= slots; s++)
            {
                pstart[s] += pstart[s - 1];
            }
            Workers.Run(&FillPart, &job, parts);
            for (var s = slots; s > 0; s--)
            {
                pstart[s] = pstart[s - 1];
            }
            pstart[0] = 0;
        }
    }

    private static unsafe void CountPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(SparseJob*)state;
        var c = job.Geometry.Channels;
        var windows = job.Geometry.OutH * job.Geometry.OutW;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            for (var ch = 0; ch < c; ch++)
            {
                job.Start[ch * job.Batch + b + 1] = 0;
            }
            var i = (long)b * windows * c;
            for (var o = 0; o < windows; o++)
            {
                for (var ch = 0; ch < c; ch++, i++)
                {
                    if (job.Argmax[i] >= 0 && Gradient(job.Act, job.Dy[i], job.Y[i]) != 0f)
                    {
                        job.Start[ch * job.Batch + b + 1]++;
                    }
                }
            }
        }
    }

    private static unsafe void FillPart(void* state, int part, int parts)
    {
        ref readonly var job = ref *(SparseJob*)state;
        var c = job.Geometry.Channels;
        var windows = job.Geometry.OutH * job.Geometry.OutW;
        // argmax = pixel·C + ch, so (argmax + ½)/C lies strictly inside (pixel, pixel + 1): the quotient without a division.
        var inverse = 1.0 / c;
        var (lo, hi) = Gemm.Range(job.Batch, 1, part, parts);
        for (var b = lo; b < hi; b++)
        {
            var i = (long)b * windows * c;
            for (var o = 0; o < windows; o++)
            {
                for (var ch = 0; ch < c; ch++, i++)
                {
                    var at = job.Argmax[i];
                    if (at < 0)
                    {
                        continue;
                    }
                    var v = Gradient(job.Act, job.Dy[i], job.Y[i]);
                    if (v != 0f)
                    {
                        var e = job.Start[ch * job.Batch + b]++;
                        job.Pixels[e] = (int)((at + 0.5) * inverse);
                        job.Values[e] = v;
                    }
                }
            }
        }
    }

    // dy·f′(y), the same expressions as Activations.Backward.
    private static float Gradient(Epilogue act, float dy, float y) => act switch
    {
        Epilogue.Relu => y > 0f ? dy : 0f,
        Epilogue.Sigmoid => dy * (y * (1f - y)),
        Epilogue.Tanh => dy * (1f - y * y),
        _ => dy,
    };

    private readonly unsafe struct SparseJob(float* dy, float* y, int* argmax, Epilogue act, int* start, int* pixels, float* values, int batch, PoolGeometry geometry)
    {
        public readonly float* Dy = dy, Y = y, Values = values;
        public readonly int* Argmax = argmax, Start = start, Pixels = pixels;
        public readonly Epilogue Act = act;
        public readonly int Batch = batch;
        public readonly PoolGeometry Geometry = geometry;
    }
}
