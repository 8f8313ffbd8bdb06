namespace Kiln.Oracles;

/// <summary>Seeded test inputs. Never zero: a kernel that ignores an input, or writes zeros, must show.</summary>
public static class RandomData
{
    /// <summary>Uniform in [−scale, scale] without 0.</summary>
    public static float[] Uniform(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            float v;
            do
            {
                v = (float)(random.NextDouble() * 2 - 1) * scale;
            }
            while (v == 0);
            values[i] = v;
        }
        return values;
    }

    /// <summary>Uniform in (0, scale].</summary>
    public static float[] Positive(int count, int seed, float scale = 1f)
    {
        var values = Uniform(count, seed, scale);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Math.Abs(values[i]);
        }
        return values;
    }

    /// <summary>Integers in [0, bound).</summary>
    public static int[] Integers(int count, int seed, int bound)
    {
        var random = new Random(seed);
        var values = new int[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = random.Next(bound);
        }
        return values;
    }

    /// <summary>Element-wise |v|, for the magnitude of a sum of products.</summary>
    public static float[] Abs(ReadOnlySpan<float> values)
    {
        var result = new float[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = Math.Abs(values[i]);
        }
        return result;
    }
}
