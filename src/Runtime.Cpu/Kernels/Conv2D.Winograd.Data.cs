using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    private readonly partial struct Winograd
    {
        /// <summary>
        /// For the data gradient of a stride-1 convolution g that <see cref="For"/> serves: dx is the forward convolution
        /// of dz with w flipped and transposed, padded K − 1 − g's padding, so it runs as this Winograd with C = g.OutC
        /// and N = g.InC (and the choice is the forward's for those channels). Null where that padding would be negative.
        /// </summary>
        public static Winograd? ForBackwardData(in ConvGeometry g) =>
            g.Stride == 1 && g.PadTop < g.Kernel && g.PadLeft < g.Kernel && For(g) is not null ? For(Transposed(g)) : null;

        /// <summary>
        /// As <see cref="ForBackwardData(in ConvGeometry)"/> for a convolution whose output a 2×2 pool reads; dz then comes
        /// straight from the pool (<see cref="TransformPoolInput"/>).
        /// </summary>
        public static Winograd? ForBackwardData(in ConvGeometry g, in PoolGeometry pool) => Pools(pool) ? ForBackwardData(g) : null;

        private static ConvGeometry Transposed(in ConvGeometry g) =>
            new(g.OutH, g.OutW, g.OutC, g.InH, g.InW, g.InC, g.Kernel, 1, g.Kernel - 1 - g.PadTop, g.Kernel - 1 - g.PadLeft);

        private int Taps => _plan.K * _plan.K;
        private int Flipped => ImplicitGemm.Aligned(Taps * C * N);

        /// <summary>The flipped kernel, then <see cref="ScratchSize"/>.</summary>
        public int DataScratchSize(int batch) => Flipped + ImplicitGemm.Alignment + ScratchSize(batch);

        /// <summary>dx of convolution g from dz, overwritten; this is <see cref="ForBackwardData(in ConvGeometry)"/>'s.</summary>
        public unsafe void BackwardData(ReadOnlySpan<float> dz, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, Span<float> scratch)
        {
            fixed (float* pw = w, pscratch = scratch)
            {
                var flipped = Flip(pw, ImplicitGemm.Align(pscratch));
                Run(dz, flipped, default, Epilogue.Linear, dx, default, pooled: false, batch, Transposed(g), default, scratch[(Flipped + ImplicitGemm.Alignment)..], transformed: null);
            }
        }

        // w'[k, c, n] = w[K² − 1 − k, n, c]: the kernel as the transposed convolution reads it, c an out channel of g.
        private unsafe ReadOnlySpan<float> Flip(float* w, float* flipped)
        {
            var taps = Taps;
            for (var k = 0; k < taps; k++)
            {
                for (var n = 0; n < N; n++)
                {
                    var from = w + ((long)(taps - 1 - k) * N + n) * C;
                    var to = flipped + (long)k * C * N + n;
                    for (var c = 0; c < C; c++)
                    {
                        to[(long)c * N] = from[c];
                    }
                }
            }
            return new ReadOnlySpan<float>(flipped, taps * C * N);
        }

        /// <summary>dx of convolution g from the gradient its pool sends down (the pool's dy, output and argmax, and g's activation).</summary>
        public unsafe void BackwardData(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch)
        {
            fixed (float* pdy = dy, py = y, pw = w, pscratch = scratch)
            fixed (int* pargmax = argmax)
            {
                var flipped = Flip(pw, ImplicitGemm.Align(pscratch));
                var lists = new MaxPool2D.Lists(pdy, py, pargmax, act, pool);
                Run(default, flipped, default, Epilogue.Linear, dx, default, pooled: false, batch, Transposed(g), default,
                    scratch[(Flipped + ImplicitGemm.Alignment)..], transformed: null, &lists);
            }
        }

        // V = B^T d B for tile t of the gradient the pool sends down: d is dy·f′(y) at each window's argmax and zero at
        // its other pixels. Each window's gradient and argmax are read once and compared with its four pixels. A tile
        // that starts on an even row and column holds 4×4 whole windows; one that starts on an odd one (3×3 same: the
        // transposed padding is 1) cuts the windows along its edges, and keeps the pixels of theirs inside it.
        private unsafe void TransformPoolInput(in MaxPool2D.Lists pool, int t, float* dst, int pointStride)
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var (g, p) = (_plan, pool.Geometry);
            var (y0, x0) = (_out * th - g.PadTop, _out * tw - g.PadLeft);
            // Where the first window starts in the tile: row and column 0, or −1 for an odd start (−1 & 1 is 1 as well).
            var (a0, b0) = (-(y0 & 1), -(x0 & 1));
            var cut = (a0 | b0) != 0;
            var d = stackalloc Vector256<float>[Points];
            var rowsT = stackalloc Vector256<float>[Points];
            var v = stackalloc Vector256<float>[Tile];
            var (right, down) = (Vector256.Create(C), Vector256.Create(g.SrcW * C));
            for (var ch = 0; ch < C; ch += 8)
            {
                if (cut)
                {
                    new Span<Vector256<float>>(d, Points).Clear();
                }
                for (var a = a0; a < Tile; a += 2)
                {
                    var y = y0 + a;
                    var rowInside = y >= 0 && y / 2 < p.OutH;
                    for (var b = b0; b < Tile; b += 2)
                    {
                        var x = x0 + b;
                        if (!rowInside || x < 0 || x / 2 >= p.OutW)
                        {
                            if (!cut)
                            {
                                var zero = d + a * Tile + b;
                                zero[0] = zero[1] = zero[Tile] = zero[Tile + 1] = Vector256<float>.Zero;
                            }
                            continue;
                        }
                        var (gradient, at) = pool.Window((((long)sample * p.OutH + y / 2) * p.OutW + x / 2) * C + ch);
                        var first = Vector256.Create((y * g.SrcW + x) * C + ch) + Vector256<int>.Indices;
                        // A column past the input would number as the next row's first pixel, which this window holds
                        // when the input is one column wide. (A row past it numbers past every pixel.)
                        var rightInside = (x + 1 < g.SrcW ? Vector256<int>.AllBitsSet : Vector256<int>.Zero).AsSingle();
                        var (topLeft, bottomLeft) = (gradient & Vector256.Equals(at, first).AsSingle(), gradient & Vector256.Equals(at, first + down).AsSingle());
                        var topRight = gradient & rightInside & Vector256.Equals(at, first + right).AsSingle();
                        var bottomRight = gradient & rightInside & Vector256.Equals(at, first + down + right).AsSingle();
                        if (!cut)
                        {
                            var cell = d + a * Tile + b;
                            (cell[0], cell[1], cell[Tile], cell[Tile + 1]) = (topLeft, topRight, bottomLeft, bottomRight);
                            continue;
                        }
                        Put(d, a, b, topLeft);
                        Put(d, a, b + 1, topRight);
                        Put(d, a + 1, b, bottomLeft);
                        Put(d, a + 1, b + 1, bottomRight);
                    }
                }
                for (var col = 0; col < Tile; col++)
                {
                    var c = d + col;
                    BT(c[0], c[Tile], c[2 * Tile], c[3 * Tile], c[4 * Tile], c[5 * Tile], c[6 * Tile], c[7 * Tile], rowsT + col, Tile);
                }
                TransformRows(rowsT, v, dst + ch, pointStride);
            }
        }

        private static unsafe void Put(Vector256<float>* d, int row, int col, Vector256<float> value)
        {
            if ((uint)row < Tile && (uint)col < Tile)
            {
                d[row * Tile + col] = value;
            }
        }
    }
}
