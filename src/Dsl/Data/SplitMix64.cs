namespace Kiln;

/// <summary>
/// A tiny counter-based generator: the same seed gives the same sequence on every runtime and platform,
/// which <see cref="Random"/> does not promise.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>A seed for pass <paramref name="epoch"/> of a pipeline seeded with <paramref name="seed"/>.</summary>
    public static ulong Mix(int seed, long epoch) => Next(unchecked((ulong)(uint)seed ^ ((ulong)epoch * 0xD1B54A32D192ED03UL)));

    /// <summary>The stream of example <paramref name="index"/> in pass <paramref name="epoch"/>: independent of every other example's, so the order in which examples are processed never matters.</summary>
    public static ulong ForExample(int seed, long epoch, long index) => Next(Mix(seed, epoch) ^ Next(unchecked((ulong)index + 0x632BE59BD9B4E019UL)));

    public ulong NextUInt64()
    {
        _state = unchecked(_state + 0x9E3779B97F4A7C15UL);
        return Next(_state);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>), by Lemire's multiply-and-reject, so without modulo bias.</summary>
    public int NextInt(int bound)
    {
        var limit = (ulong)bound;
        while (true)
        {
            var product = Math.BigMul(NextUInt64(), limit, out var low);
            if (low >= (0UL - limit) % limit)
            {
                return (int)product;
            }
        }
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="lower"/>, <paramref name="upper"/>).</summary>
    public double NextDouble(double lower, double upper) => lower + (upper - lower) * NextDouble();

    /// <summary>Standard normal, by Box–Muller (one of the pair, so every call consumes two draws).</summary>
    public double NextGaussian()
    {
        var u = 1.0 - NextDouble();
        var v = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }

    /// <summary>Fisher–Yates, uniform over all orders.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Next(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
