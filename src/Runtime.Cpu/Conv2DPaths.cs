namespace Kiln.Runtime.Cpu;

/// <summary>How a convolution's forward pass runs (<see cref="Conv2DPlan.ForwardPath"/>).</summary>
public enum Conv2DForwardPath
{
    /// <summary>The implicit GEMM over a zero-padded copy of the input (any geometry).</summary>
    ImplicitGemm,

    /// <summary>Winograd on 8×8 tiles: F(4×4, 5×5), or F(6×6, 3×3) where it measured faster; stride 1, channel counts in whole vectors, FMA.</summary>
    Winograd,
}

/// <summary>How a convolution's data gradient dx runs (<see cref="Conv2DPlan.DataPath"/>).</summary>
public enum Conv2DDataPath
{
    /// <summary>No data gradient (the first trainable layer).</summary>
    None,

    /// <summary>Winograd of dz with the kernel flipped and transposed (stride 1, where the forward Winograd serves those channels).</summary>
    Winograd,

    /// <summary>The forward implicit GEMM on the padded dz with the kernel flipped and transposed (stride 1, padding below the kernel).</summary>
    TransposedGemm,

    /// <summary>dz·wᵀ, then col2im (any stride).</summary>
    Col2Im,

    /// <summary>Under a max pool: each dx pixel gathers from the (pixel, value) lists of the windows whose patch covers it.</summary>
    SparseGather,

    /// <summary>Under a 2×2 max pool: Winograd of the pool's gradient, read window by window, where <see cref="Winograd"/> would serve.</summary>
    WinogradThroughPool,
}

/// <summary>How a convolution's weight gradient runs (<see cref="Conv2DPlan.WeightPath"/>).</summary>
public enum Conv2DWeightPath
{
    /// <summary>im2col(x)ᵀ·dz as the implicit GEMM, over a dense dz.</summary>
    ImplicitGemm,

    /// <summary>Over a dense dz, where the forward Winograd serves: the adjoint of its transforms, summed over tiles (Conv2D.Winograd.Weights.cs).</summary>
    Winograd,

    /// <summary>Over a dense dz, for 3×3 and 5×5 kernels on fewer than 8 input channels: dz a vector of output channels at a time against each input value broadcast (Conv2D.DirectWeights.cs).</summary>
    Direct,

    /// <summary>Under a max pool: value·patch per entry of the (pixel, value) lists, which are stored for the data gradient too.</summary>
    SparseLists,

    /// <summary>Under a max pool with non-overlapping windows and no data gradient: the same sums, each thread filling one sample's lists in cache, nothing stored.</summary>
    SparseThroughPool,
}

/// <summary>The three choices <see cref="Conv2DPlan.Choose"/> makes for one convolution.</summary>
public readonly record struct Conv2DPaths(Conv2DForwardPath Forward, Conv2DDataPath Data, Conv2DWeightPath Weights);
