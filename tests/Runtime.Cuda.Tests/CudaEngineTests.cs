using Kiln.Runtime.Cuda;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>The engine's argument slots and layout checks (anywhere), and its update state on a device.</summary>
public sealed class CudaEngineTests
{
    [Fact]
    public void A_kernel_argument_holds_what_the_driver_reads()
    {
        Assert.Equal(0x0000_7F00_1234_5600UL, ((KernelArgument)0x0000_7F00_1234_5600UL).Bits);
        // A 4-byte value sits in the low half and the high half is zero, whatever its sign.
        Assert.Equal(0xFFFF_FFFFUL, ((KernelArgument)(-1)).Bits);
        Assert.Equal(0x8000_0000UL, ((KernelArgument)0x8000_0000u).Bits);
        Assert.Equal(0x3FC0_0000UL, ((KernelArgument)1.5f).Bits);
        Assert.Equal(0x8000_0000UL, ((KernelArgument)(-0f)).Bits);
    }

    public static TheoryData<string, Func<CudaNetworkLayout, CudaNetworkLayout>> BadLayouts() => new()
    {
        { "TrainableTensorOffsets", l => Copy(l, offsets: [3, 6]) },
        { "TrainableTensorOffsets", l => Copy(l, offsets: [0, 6, 3]) },
        { "TrainableTensorOffsets", l => Copy(l, offsets: [0, 10]) },
        { "ParameterCount", l => Copy(l, parameters: 9) },
        { "InputSize", l => Copy(l, input: 0) },
        { "Ordinal", l => Copy(l, ordinal: -1) },
    };

    [Theory]
    [MemberData(nameof(BadLayouts))]
    public void A_bad_layout_is_refused_naming_the_property_before_the_driver_is_touched(string property, Func<CudaNetworkLayout, CudaNetworkLayout> spoil)
    {
        // Thrown on any machine: a driver error (CudaException) would mean the check came too late.
        var e = Assert.ThrowsAny<ArgumentException>(() => new ProbeEngine(spoil(Layout())));
        Assert.Equal(property, e.ParamName);
    }

    [CudaFact]
    public void An_update_allocates_its_slots_filled_and_they_round_trip()
    {
        using var engine = new ProbeEngine(Layout());
        engine.SetUpdate(new CudaUpdate("kiln::adagrad", [true, false, true], 0.25f, GradientClip.None, 0f));
        var slots = engine.ReadSlots();
        Assert.Equal(Enumerable.Repeat(0.25f, 10), slots[0]);
        Assert.Empty(slots[1]);
        Assert.Equal(Enumerable.Repeat(0.25f, 10), slots[2]);

        float[] values = [.. Enumerable.Range(1, 10).Select(i => i * 0.5f)];
        engine.WriteSlots([values, [], values]);
        Assert.Equal(values, engine.ReadSlots()[2]);

        var e = Assert.Throws<ArgumentException>(() => engine.SetUpdate(new CudaUpdate("kiln::lion", [true, false, false], 0f, GradientClip.None, 0f)));
        Assert.Contains("kiln::lion", e.Message, StringComparison.Ordinal);
        Assert.Contains("kiln::adagrad", e.Message, StringComparison.Ordinal);
    }

    // Ten trainable parameters in two tensors, two non-trainable ones; no layers of its own.
    private static CudaNetworkLayout Layout() => new()
    {
        Ordinal = 0,
        Name = "Probe",
        Kernels = [],
        UpdateKernels = ["kiln::sgd", "kiln::adagrad"],
        ParameterCount = 12,
        TrainableParameterCount = 10,
        TrainableTensorOffsets = [0, 6],
        InputSize = 4,
        OutputSize = 2,
        ScalarCount = 8,
    };

    private static CudaNetworkLayout Copy(CudaNetworkLayout l, int[]? offsets = null, int? parameters = null, int? input = null, int? ordinal = null) => new()
    {
        Ordinal = ordinal ?? l.Ordinal,
        Name = l.Name,
        Kernels = l.Kernels,
        UpdateKernels = l.UpdateKernels,
        ParameterCount = parameters ?? l.ParameterCount,
        TrainableParameterCount = l.TrainableParameterCount,
        TrainableTensorOffsets = offsets ?? l.TrainableTensorOffsets,
        InputSize = input ?? l.InputSize,
        OutputSize = l.OutputSize,
        ScalarCount = l.ScalarCount,
    };

    private sealed class ProbeEngine(CudaNetworkLayout layout) : CudaEngine(layout)
    {
        protected override void Allocate(int batch)
        {
        }

        protected override void Forward(int batch, bool training)
        {
        }

        protected override void Loss(int batch)
        {
        }

        protected override void Backward(int batch)
        {
        }

        protected override DeviceBuffer<float> Outputs(int batch) => InputBuffer;
    }
}
