using Kiln.Execution;
using Kiln.Runtime.Cuda;
using Kiln.Tests.Layers;

namespace Kiln.Tests.Execution;

/// <summary>
/// What the CUDA adapter hands the CUDA runtime's engine, checked without a GPU: a wrong slot, clip or offset here
/// would only show as wrong numbers on a card.
/// </summary>
public class CudaExecutorTests
{
    public static TheoryData<Optimizer, string, bool[], float> Optimizers() => new()
    {
        { new Adam(), "kiln::adam", [true, true, false], 0f },
        { new AdamW(), "kiln::adam", [true, true, false], 0f },
        { new Sgd(), "kiln::sgd", [false, false, false], 0f },
        { new Sgd(momentum: 0.9f), "kiln::sgd", [true, false, false], 0f },
        { new RmsProp(), "kiln::rmsprop", [true, false, false], 0f },
        { new RmsProp(centered: true), "kiln::rmsprop", [true, false, true], 0f },
        { new RmsProp(momentum: 0.5f), "kiln::rmsprop", [true, true, false], 0f },
        { new Adagrad(initialAccumulatorValue: 0.25f), "kiln::adagrad", [true, false, false], 0.25f },
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Each_optimizer_becomes_its_kernel_slots_and_starting_value(Optimizer optimizer, string kernel, bool[] slots, float initial)
    {
        var update = CudaExecutor.UpdateFor(optimizer);

        Assert.Equal(kernel, update.Kernel);
        Assert.Equal(slots, update.Slots);
        Assert.Equal(initial, update.SlotInitialValue);
        Assert.Equal(GradientClip.None, update.Clip);
        Assert.Contains(update.Kernel, Layout().UpdateKernels);
    }

    [Fact]
    public void Each_clipping_option_becomes_its_clip_and_threshold()
    {
        Assert.Equal((GradientClip.Norm, 2f), Clip(new Sgd { ClipNorm = 2f }));
        Assert.Equal((GradientClip.GlobalNorm, 3f), Clip(new Adam { GlobalClipNorm = 3f }));
        Assert.Equal((GradientClip.Value, 0.5f), Clip(new RmsProp { ClipValue = 0.5f }));
    }

    [Fact]
    public void The_layout_has_the_sizes_and_the_trainable_tensors_but_not_the_moving_statistics()
    {
        // BatchNormProbe: gamma (3) at 0, beta (3) at 3, dense kernel (3×3) at 6, dense bias (3) at 15, then the
        // non-trainable moving mean and variance (3 each) at 18 and 21.
        var layout = Layout();

        Assert.Equal(7, layout.Ordinal);
        Assert.Equal("BatchNormProbe", layout.Name);
        Assert.Equal(["kiln::a<1>", "kiln::b<2>"], layout.Kernels);
        Assert.Equal(["kiln::adam", "kiln::sgd", "kiln::rmsprop", "kiln::adagrad"], layout.UpdateKernels);
        Assert.Equal(24, layout.ParameterCount);
        Assert.Equal(18, layout.TrainableParameterCount);
        Assert.Equal([0, 3, 6, 15], layout.TrainableTensorOffsets);
        Assert.Equal(3, layout.InputSize);
        Assert.Equal(3, layout.OutputSize);
        Assert.True(layout.ScalarCount >= 5, "RMSprop writes five numbers per step");
    }

    private static (GradientClip, float) Clip(Optimizer optimizer)
    {
        var update = CudaExecutor.UpdateFor(optimizer);
        return (update.Clip, update.ClipThreshold);
    }

    private static CudaNetworkLayout Layout()
    {
        using var net = new BatchNormProbe(seed: 1);
        return CudaExecutor.Layout(new ExecutorContext(net.Info, UseCuda: true, CudaOrdinal: 7, Seed: 1), ["kiln::a<1>", "kiln::b<2>"]);
    }
}
