namespace Kiln.Runtime.Cpu.Tests;

public class RngTests
{
    [Fact]
    public void SplitMix64_MatchesThePublishedStream()
    {
        // The reference SplitMix64 from seed 0 (Vigna's splitmix64.c) begins with these three outputs.
        var rng = new Rng(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }

    [Fact]
    public void NextFloat_IsTheTop24BitsInUnitInterval()
    {
        var a = new Rng(0);
        // 0xE220A8397B1DCDAF >> 40 = 0xE220A8 = 14819496; / 2^24 = 0.88331699...
        Assert.Equal(14819496f / 16777216f, a.NextFloat());
        var b = new Rng(42);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.InRange(b.NextFloat(), 0f, 0.99999994f);
        }
    }

    [Fact]
    public void NextInt_IsInRangeAndRoughlyUniform()
    {
        var rng = new Rng(7);
        var counts = new int[3];
        for (var i = 0; i < 30_000; i++)
        {
            counts[rng.NextInt(3)]++;
        }
        Assert.All(counts, c => Assert.InRange(c, 9_700, 10_300)); // σ ≈ 82
        Assert.Equal(0, rng.NextInt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
    }

    [Fact]
    public void SameSeed_SameStream()
    {
        var a = new Rng(123);
        var b = new Rng(123);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(a.NextUInt64(), b.NextUInt64());
        }
    }
}
