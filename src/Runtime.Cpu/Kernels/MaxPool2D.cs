namespace Kiln.Runtime.Cpu;

/// <summary>
/// 2-D max pooling; mirror of Runtime.Cuda/Kernels/maxpool2d.cu. x [batch, InH, InW, C] → y [batch, OutH, OutW, C].
/// </summary>
public static class MaxPool2D
{
    /// <summary>
    /// y = the window maximum; argmax[b·OutH·OutW·C + (oh·OutW + ow)·C + c] = (ih·InW + iw)·C + c, the index within
    /// the sample of the FIRST maximum in row-major window order (kh, then kw). Padded cells are never selected; a
    /// window lying wholly in the padding gives y = 0 and argmax = −1.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, int batch, in PoolGeometry g)
    {
        CheckShapes(batch, g, x.Length, nameof(x), y.Length, nameof(y));
        Check.Length(argmax.Length, y.Length, nameof(argmax));
        var c = g.Channels;
        for (var b = 0; b < batch; b++)
        {
            var xs = x.Slice(b * g.InSize, g.InSize);
            for (var oh = 0; oh < g.OutH; oh++)
            {
                for (var ow = 0; ow < g.OutW; ow++)
                {
                    var o = ((b * g.OutH + oh) * g.OutW + ow) * c;
                    var best = y.Slice(o, c);
                    var index = argmax.Slice(o, c);
                    best.Clear();
                    index.Fill(-1);
                    // Window cells outer, channels inner: reads stay contiguous; per channel the order is still row-major.
                    for (var kh = 0; kh < g.Pool; kh++)
                    {
                        var ih = oh * g.Stride + kh - g.PadTop;
                        if (ih < 0 || ih >= g.InH)
                        {
                            continue;
                        }
                        for (var kw = 0; kw < g.Pool; kw++)
                        {
                            var iw = ow * g.Stride + kw - g.PadLeft;
                            if (iw < 0 || iw >= g.InW)
                            {
                                continue;
                            }
                            var at = (ih * g.InW + iw) * c;
                            for (var ch = 0; ch < c; ch++)
                            {
                                var v = xs[at + ch];
                                // Strict '>' keeps the first maximum on ties.
                                if (index[ch] < 0 || v > best[ch])
                                {
                                    best[ch] = v;
                                    index[ch] = at + ch;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// dx zeroed, then dx[b, argmax] += dy for every output in row-major order, so overlapping windows accumulate in a
    /// fixed order (the CUDA gather sums in the same order). Outputs with argmax −1 contribute nothing.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, int batch, in PoolGeometry g)
    {
        CheckShapes(batch, g, dx.Length, nameof(dx), dy.Length, nameof(dy));
        Check.Length(argmax.Length, dy.Length, nameof(argmax));
        dx.Clear();
        var outSize = g.OutSize;
        for (var b = 0; b < batch; b++)
        {
            var dxs = dx.Slice(b * g.InSize, g.InSize);
            for (var i = b * outSize; i < (b + 1) * outSize; i++)
            {
                if (argmax[i] >= 0)
                {
                    dxs[argmax[i]] += dy[i];
                }
            }
        }
    }

    private static void CheckShapes(int batch, in PoolGeometry g, int inLength, string inName, int outLength, string outName)
    {
        Check.Positive(batch, nameof(batch));
        g.Validate();
        Check.Length(inLength, (long)batch * g.InSize, inName);
        Check.Length(outLength, (long)batch * g.OutSize, outName);
    }
}
