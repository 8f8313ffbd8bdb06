using System.Runtime.Intrinsics;

namespace Kiln.Runtime.Cpu;

public static partial class Conv2D
{
    private readonly partial struct Winograd
    {
        /// <summary>
        /// For the data gradient of a 5×5 stride-1 convolution g whose output a 2×2 pool reads: dx is the forward
        /// convolution of dz with w flipped and transposed, padded 4 − g's padding, so it runs as this Winograd with
        /// C = g.OutC and N = g.InC. dz comes straight from the pool (<see cref="TransformPoolInput"/>); even paddings
        /// (Keras' same and valid) make each tile's 8×8 of dz whole pool windows.
        /// </summary>
        public static Winograd? ForBackwardData(in ConvGeometry g, in PoolGeometry pool) =>
            g.Kernel == 5 && g.Stride == 1 && g.PadTop is 0 or 2 or 4 && g.PadLeft is 0 or 2 or 4 && Pools(pool) ? For(Transposed(g)) : null;

        private static ConvGeometry Transposed(in ConvGeometry g) => new(g.OutH, g.OutW, g.OutC, g.InH, g.InW, g.InC, 5, 1, 4 - g.PadTop, 4 - g.PadLeft);

        private int Flipped => ImplicitGemm.Aligned(25 * C * N);

        /// <summary>The flipped kernel, then <see cref="ScratchSize"/>.</summary>
        public int DataScratchSize(int batch) => Flipped + ImplicitGemm.Alignment + ScratchSize(batch);

        /// <summary>dx of convolution g from the gradient its pool sends down (the pool's dy, output and argmax, and g's activation).</summary>
        public unsafe void BackwardData(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<int> argmax, Epilogue act, ReadOnlySpan<float> w, Span<float> dx, int batch, in ConvGeometry g, in PoolGeometry pool, Span<float> scratch)
        {
            fixed (float* pdy = dy, py = y, pw = w, pscratch = scratch)
            fixed (int* pargmax = argmax)
            {
                // w'[k, c, n] = w[24 − k, n, c]: the kernel as the transposed convolution reads it, c an out channel of g.
                var flipped = ImplicitGemm.Align(pscratch);
                for (var k = 0; k < 25; k++)
                {
                    for (var n = 0; n < N; n++)
                    {
                        var from = pw + ((long)(24 - k) * N + n) * C;
                        var to = flipped + (long)k * C * N + n;
                        for (var c = 0; c < C; c++)
                        {
                            to[(long)c * N] = from[c];
                        }
                    }
                }
                var lists = new MaxPool2D.Lists(pdy, py, pargmax, act, pool);
                Run(default, new ReadOnlySpan<float>(flipped, 25 * C * N), default, Epilogue.Linear, dx, default, pooled: false, batch, Transposed(g), default,
                    scratch[(Flipped + ImplicitGemm.Alignment)..], transformed: null, &lists);
            }
        }

        // V = B^T d B for tile t of the gradient the pool sends down: d is dy·f′(y) at each window's argmax and zero at
        // its other pixels. Tiles start on even rows and columns, so a tile holds 4×4 whole windows: each window's
        // gradient and argmax are read once and compared with its four pixels.
        private unsafe void TransformPoolInput(in MaxPool2D.Lists pool, int t, float* dst, int pointStride)
        {
            var (sample, rest) = Math.DivRem(t, _tilesH * _tilesW);
            var (th, tw) = Math.DivRem(rest, _tilesW);
            var (g, p) = (_plan, pool.Geometry);
            var (y0, x0) = (Out * th - g.PadTop, Out * tw - g.PadLeft);
            var d = stackalloc Vector256<float>[Points];
            var rowsT = stackalloc Vector256<float>[Points];
            var v = stackalloc Vector256<float>[Tile];
            var (right, down) = (Vector256.Create(C), Vector256.Create(g.SrcW * C));
            for (var ch = 0; ch < C; ch += 8)
            {
                for (var a = 0; a < Tile; a += 2)
                {
                    var y = y0 + a;
                    var rowInside = y >= 0 && y / 2 < p.OutH;
                    for (var b = 0; b < Tile; b += 2)
                    {
                        var cell = d + a * Tile + b;
                        var x = x0 + b;
                        if (!rowInside || x < 0 || x / 2 >= p.OutW)
                        {
                            cell[0] = cell[1] = cell[Tile] = cell[Tile + 1] = Vector256<float>.Zero;
                            continue;
                        }
                        var (gradient, at) = pool.Window((((long)sample * p.OutH + y / 2) * p.OutW + x / 2) * C + ch);
                        var first = Vector256.Create((y * g.SrcW + x) * C + ch) + Vector256<int>.Indices;
                        cell[0] = gradient & Vector256.Equals(at, first).AsSingle();
                        cell[Tile] = gradient & Vector256.Equals(at, first + down).AsSingle();
                        // A column past the input would number as the next row's first pixel, which this window holds
                        // when the input is one column wide. (A row past it numbers past every pixel.)
                        var rightInside = (x + 1 < g.SrcW ? Vector256<int>.AllBitsSet : Vector256<int>.Zero).AsSingle();
                        cell[1] = gradient & rightInside & Vector256.Equals(at, first + right).AsSingle();
                        cell[Tile + 1] = gradient & rightInside & Vector256.Equals(at, first + down + right).AsSingle();
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
    }
}
