using Kiln.Runtime.Cuda;

namespace Kiln.Execution;

/// <summary>Turns a requested <see cref="Device"/> into the one the network will use.</summary>
internal static class DeviceSelection
{
    public static Device Resolve(Device requested, TextWriter notices)
    {
        switch (requested.Kind)
        {
            case DeviceKind.Cpu:
                return requested;
            case DeviceKind.Cuda:
                if (!CudaProbe.IsUsable(requested.Ordinal, out var reason))
                {
                    throw new InvalidOperationException($"Device.Cuda was requested, but CUDA is not usable: {reason}");
                }
                return requested;
            default:
                if (CudaProbe.IsUsable(0, out var why))
                {
                    return Device.Cuda;
                }
                notices.WriteLine($"Kiln: running on the CPU ({why}).");
                return Device.Cpu;
        }
    }
}
