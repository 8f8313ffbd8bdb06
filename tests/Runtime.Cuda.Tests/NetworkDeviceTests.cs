using Kiln.Runtime.Cuda.Interop;
using Samples;
using Samples.Odd;

namespace Kiln.Runtime.Cuda.Tests;

/// <summary>Console.Error is process-wide: the tests that capture it run alone.</summary>
[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture;

/// <summary>Choosing a device at the Network level, where there is no GPU.</summary>
[Collection(nameof(ConsoleCapture))]
public sealed class NetworkDeviceTests
{
    [NoCudaFact]
    public void Cuda_without_a_driver_throws_and_names_libcuda()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new IrisNet(device: Device.Cuda));
        Assert.StartsWith("Device.Cuda was requested, but CUDA is not usable: ", e.Message, StringComparison.Ordinal);
        if (!DriverApi.TryGet(out _, out _))
        {
            Assert.Contains("libcuda.so.1", e.Message, StringComparison.Ordinal);
        }
    }

    [NoCudaFact]
    public void Auto_falls_back_to_the_cpu_with_a_one_line_notice()
    {
        var notices = new StringWriter();
        var saved = Console.Error;
        Console.SetError(notices);
        try
        {
            using var net = new IrisNet(device: Device.Auto);
            Assert.Equal(Device.Cpu, net.Device);
            Assert.StartsWith("CPU", net.DeviceName, StringComparison.Ordinal);
        }
        finally
        {
            Console.SetError(saved);
        }
        var line = Assert.Single(notices.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Kiln: running on the CPU (", line, StringComparison.Ordinal);
        if (!DriverApi.TryGet(out _, out _))
        {
            Assert.Contains("libcuda.so.1", line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Cpu_writes_no_notice()
    {
        var notices = new StringWriter();
        var saved = Console.Error;
        Console.SetError(notices);
        try
        {
            using var net = new IrisNet(device: Device.Cpu);
        }
        finally
        {
            Console.SetError(saved);
        }
        Assert.Empty(notices.ToString());
    }

    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData("CPU", DeviceKind.Cpu, 0)]
    [InlineData("cuda", DeviceKind.Cuda, 0)]
    [InlineData(" Cuda ", DeviceKind.Cuda, 0)]
    [InlineData("cuda:0", DeviceKind.Cuda, 0)]
    [InlineData("cuda:1", DeviceKind.Cuda, 1)]
    [InlineData("auto", DeviceKind.Auto, 0)]
    public void Parse_accepts_the_documented_names(string text, DeviceKind kind, int ordinal)
    {
        Assert.Equal(new Device(kind, ordinal), Device.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:x")]
    [InlineData("cpu:0")]
    public void Parse_rejects_junk_and_says_what_it_expected(string text)
    {
        var e = Assert.Throws<FormatException>(() => Device.Parse(text));
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains("expected cpu, cuda, cuda:N or auto", e.Message, StringComparison.Ordinal);
    }
}
