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

    /// <summary>ROW_TILE in 00_common.cu: convolution blocks cover 64 rows (four per thread) and 16 columns.</summary>
    public const int RowTile = 64;

    /// <summary>MAX_SPLITS in 00_common.cu: the most ranges a weight gradient's sum is split into.</summary>
    public const int MaxSplits = 256;

    /// <summary>The fewest rows (examples × output pixels) one split of a weight gradient sums, unless there is only one.</summary>
    public const int RowsPerSplit = 256;

    /// <summary>One thread per output element of a rows × cols matrix (grid.x tiles rows, grid.y columns).</summary>
    public static LaunchShape Gemm(long rows, int cols) => new((Dim3.CeilDiv(rows, Tile), Dim3.CeilDiv(cols, Tile)), (Tile, Tile));

    /// <summary>As <see cref="Gemm"/> plus one block along x for the bias gradient.</summary>
    public static LaunchShape GemmWithBias(long rows, int cols) => new((Dim3.CeilDiv(rows, Tile) + 1, Dim3.CeilDiv(cols, Tile)), (Tile, Tile));

    /// <summary>Four output rows per thread: 64 rows × 16 columns per (16, 16) block (tile_gemm_rows4).</summary>
    public static LaunchShape Rows4(long rows, int cols) => new((Dim3.CeilDiv(rows, RowTile), Dim3.CeilDiv(cols, Tile)), (Tile, Tile));

    /// <summary>One thread per element: activations, dropout, max-pool, clip_value and the optimizers.</summary>
    public static LaunchShape Elementwise(long count) => new(Dim3.CeilDiv(count, Threads), Threads);

    /// <summary>One warp per row: softmax_xent_sparse, softmax_xent_dense, softmax_forward, sigmoid_bce, mse, mae.</summary>
    public static LaunchShape Rows(int batch) => new(Dim3.CeilDiv(batch, RowsPerBlock), 32 * RowsPerBlock);

    /// <summary>loss_accumulate: one block of 256.</summary>
    public static LaunchShape Accumulate => new(1, Threads);

    /// <summary>clip_norm: one block of 256 per tensor.</summary>
    public static LaunchShape PerTensor(int tensors) => new(tensors, Threads);

    /// <summary>clip_global_norm: one block of 256 over every tensor.</summary>
    public static LaunchShape GlobalNorm => new(1, Threads);

    public static LaunchShape DenseForward(int batch, int inFeatures, int outFeatures) => Gemm(batch, outFeatures);

    public static LaunchShape DenseBackwardData(int batch, int inFeatures, int outFeatures) => Gemm(batch, inFeatures);

    public static LaunchShape DenseBackwardWeights(int batch, int inFeatures, int outFeatures) => GemmWithBias(inFeatures, outFeatures);

    public static LaunchShape Conv2DForward(int batch, int outH, int outW, int outC) => Rows4((long)batch * outH * outW, outC);

    public static LaunchShape Conv2DBackwardData(int batch, int inH, int inW, int inC) => Rows4((long)batch * inH * inW, inC);

    /// <summary>
    /// conv2d_backward_weights: (kh, kw, ic) rows in 64-row tiles plus one block for the bias, output channels in
    /// 16s, and <see cref="WeightSplits"/> ranges of the batch's output pixels along z.
    /// </summary>
    public static LaunchShape Conv2DBackwardWeights(int batch, int outH, int outW, int kernel, int inC, int outC) =>
        new((Dim3.CeilDiv((long)kernel * kernel * inC, RowTile) + 1, Dim3.CeilDiv(outC, Tile), WeightSplits(batch, outH, outW)), (Tile, Tile));

    /// <summary>
    /// How many partial sums the weight gradient of a convolution with <paramref name="outH"/> × <paramref name="outW"/>
    /// outputs splits into at this batch: one per <see cref="RowsPerSplit"/> output pixels, at most <see cref="MaxSplits"/>.
    /// Enough blocks to fill a large GPU, few enough that the reduction stays small.
    /// </summary>
    public static int WeightSplits(int batch, int outH, int outW) =>
        (int)Math.Clamp(((long)batch * outH * outW + RowsPerSplit - 1) / RowsPerSplit, 1, MaxSplits);

    /// <summary>Floats of the partial-sum workspace conv2d_backward_weights needs at this batch.</summary>
    public static long Conv2DWeightWorkspace(int batch, int outH, int outW, int kernel, int inC, int outC) =>
        (long)WeightSplits(batch, outH, outW) * ((long)kernel * kernel * inC * outC + outC);

    /// <summary>conv2d_weight_grad_reduce: one thread per weight and bias.</summary>
    public static LaunchShape Conv2DWeightGradReduce(int kernel, int inC, int outC) => Elementwise((long)kernel * kernel * inC * outC + outC);

    public static LaunchShape MaxPool2DForward(int batch, int outH, int outW, int channels) => Elementwise((long)batch * outH * outW * channels);

    public static LaunchShape MaxPool2DBackward(int batch, int inH, int inW, int channels) => Elementwise((long)batch * inH * inW * channels);

    /// <summary>BN_CHANNELS × BN_LANES in batchnorm.cu: the row reductions run (32, 8) blocks, 32 channels per block.</summary>
    public const int BatchNormChannels = 32, BatchNormLanes = 8;

    /// <summary>The fewest rows one split of a batch-norm reduction sums, unless there is only one.</summary>
    public const int BatchNormRowsPerSplit = 1024;

    /// <summary>
    /// How many ranges batch norm's sums over <paramref name="rows"/> rows (batch, or batch·H·W) split into: one per
    /// <see cref="BatchNormRowsPerSplit"/> rows, at most <see cref="MaxSplits"/>. A function of the rows only, so a
    /// batch size always gives the same bits.
    /// </summary>
    public static int BatchNormSplits(long rows) => (int)Math.Clamp((rows + BatchNormRowsPerSplit - 1) / BatchNormRowsPerSplit, 1, MaxSplits);

    /// <summary>Floats of workspace the batch-norm reductions need: 2 · splits · channels.</summary>
    public static long BatchNormWorkspace(long rows, int channels) => 2L * BatchNormSplits(rows) * channels;

    /// <summary>batchnorm_sums, batchnorm_square_sums, batchnorm_backward_sums: (32, 8) blocks over channels × splits.</summary>
    public static LaunchShape BatchNormReduce(long rows, int channels) =>
        new((Dim3.CeilDiv(channels, BatchNormChannels), BatchNormSplits(rows)), (BatchNormChannels, BatchNormLanes));

    /// <summary>batchnorm_variance, batchnorm_backward_params: one thread per channel.</summary>
    public static LaunchShape BatchNormPerChannel(int channels) => Elementwise(channels);

    /// <summary>avgpool2d_forward (one thread per output) and avgpool2d_backward (one per input element).</summary>
    public static LaunchShape AvgPool2DForward(int batch, int outH, int outW, int channels) => Elementwise((long)batch * outH * outW * channels);

    public static LaunchShape AvgPool2DBackward(int batch, int inH, int inW, int channels) => Elementwise((long)batch * inH * inW * channels);

    /// <summary>global_avgpool2d_forward, global_maxpool2d_forward: one thread per (sample, channel).</summary>
    public static LaunchShape GlobalPool2DForward(int batch, int channels) => Elementwise((long)batch * channels);

    /// <summary>global_avgpool2d_backward, global_maxpool2d_backward: one thread per input element.</summary>
    public static LaunchShape GlobalPool2DBackward(int batch, int pixels, int channels) => Elementwise((long)batch * pixels * channels);
}
