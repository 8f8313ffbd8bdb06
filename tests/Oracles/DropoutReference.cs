namespace Kiln.Oracles;

/// <summary>The dropout mask's counter-based hash as 00_common.cu and Kiln.Runtime.Cpu define it, written out again.</summary>
public static class DropoutReference
{
    public static uint Mix32(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    public static uint Hash(uint seed, uint step, uint index) => Mix32(Mix32(Mix32(seed ^ 0x9E3779B9u) ^ step) ^ index);

    /// <summary>Element <paramref name="index"/> survives at <paramref name="rate"/>: (hash &gt;&gt; 8)·2⁻²⁴ ≥ rate.</summary>
    public static bool Keep(uint seed, uint step, uint index, float rate) => (Hash(seed, step, index) >> 8) * (1f / 16777216f) >= rate;
}
