namespace Kiln.Runtime.Cpu;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a fixed, platform-independent stream, so a seed gives the same weights
/// everywhere and forever. A mutable struct: pass it by <c>ref</c>.
/// </summary>
public struct Rng
{
    private ulong _state;

    public Rng(ulong seed) => _state = seed;

    /// <summary>state += 0x9E3779B97F4A7C15; z = state; z = (z ^ z≫30)·0xBF58476D1CE4E5B9; z = (z ^ z≫27)·0x94D049BB133111EB; z ^ z≫31.</summary>
    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1): the top 24 bits times 2⁻²⁴ (every value exactly representable).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / 16777216f);

    /// <summary>Uniform in [0, <paramref name="exclusiveMax"/>), unbiased (Lemire's multiply-and-reject on 32 bits).</summary>
    public int NextInt(int exclusiveMax)
    {
        Check.Positive(exclusiveMax, nameof(exclusiveMax));
        var range = (uint)exclusiveMax;
        var product = (ulong)(uint)(NextUInt64() >> 32) * range;
        if ((uint)product < range)
        {
            // Reject the low products that would over-represent some results: there are 2³² mod range of them.
            var threshold = (0u - range) % range;
            while ((uint)product < threshold)
            {
                product = (ulong)(uint)(NextUInt64() >> 32) * range;
            }
        }
        return (int)(product >> 32);
    }
}
