namespace Kiln.Runtime.Cuda;

/// <summary>A launch shape: grid and block.</summary>
public readonly record struct LaunchShape(Dim3 Grid, Dim3 Block);

/// <summary>
/// The grid and block each kernel of the Kiln library (Kernels/*.cu) expects, as a function of the batch and the
/// layer's shape. Kernels with a too-small grid leave outputs unwritten; these are the only supported shapes.
/// </summary>
public static class KernelGeometry
{
    /// <summary>TILE in 00_common.cu: GEMM-style kernels run (16, 16) blocks.</summary>
    public const int Tile = 16;

    /// <summary>THREADS in 00_common.cu: element-wise kernels and loss_accumulate run 256-thread blocks.</summary>
    public const int Threads = 256;

    /// <summary>ROWS_PER_BLOCK in 00_common.cu: row kernels run one warp per row, 4 rows per block.</summary>
    public const int RowsPerBlock = 4;

    /// <summary>One thread per output element of a rows × cols matrix (grid.x tiles rows, grid.y columns).</summary>
    public static LaunchShape Gemm(long rows, int cols) => new((Dim3.CeilDiv(rows, Tile), Dim3.CeilDiv(cols, Tile)), (Tile, Tile));

    /// <summary>As <see cref="Gemm"/> plus one block along x for the bias gradient.</summary>
    public static LaunchShape GemmWithBias(long rows, int cols) => new((Dim3.CeilDiv(rows, Tile) + 1, Dim3.CeilDiv(cols, Tile)), (Tile, Tile));

    /// <summary>One thread per element: activations, dropout, max-pool, adam, sgd.</summary>
    public static LaunchShape Elementwise(long count) => new(Dim3.CeilDiv(count, Threads), Threads);

    /// <summary>One warp per row: softmax_xent_sparse, softmax_xent_dense, softmax_forward, mse.</summary>
    public static LaunchShape Rows(int batch) => new(Dim3.CeilDiv(batch, RowsPerBlock), 32 * RowsPerBlock);

    /// <summary>loss_accumulate: one block of 256.</summary>
    public static LaunchShape Accumulate => new(1, Threads);

    public static LaunchShape DenseForward(int batch, int inFeatures, int outFeatures) => Gemm(batch, outFeatures);

    public static LaunchShape DenseBackwardData(int batch, int inFeatures, int outFeatures) => Gemm(batch, inFeatures);

    public static LaunchShape DenseBackwardWeights(int batch, int inFeatures, int outFeatures) => GemmWithBias(inFeatures, outFeatures);

    public static LaunchShape Conv2DForward(int batch, int outH, int outW, int outC) => Gemm((long)batch * outH * outW, outC);

    public static LaunchShape Conv2DBackwardData(int batch, int inH, int inW, int inC) => Gemm((long)batch * inH * inW, inC);

    public static LaunchShape Conv2DBackwardWeights(int kernel, int inC, int outC) => GemmWithBias((long)kernel * kernel * inC, outC);

    public static LaunchShape MaxPool2DForward(int batch, int outH, int outW, int channels) => Elementwise((long)batch * outH * outW * channels);

    public static LaunchShape MaxPool2DBackward(int batch, int inH, int inW, int channels) => Elementwise((long)batch * inH * inW * channels);
}
