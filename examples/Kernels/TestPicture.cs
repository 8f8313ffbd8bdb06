namespace Kernels;

/// <summary>A 256×256 grey-level picture made in code (so nothing is downloaded): a gradient sky, a disc, a square and stripes.</summary>
public static class TestPicture
{
    public const int Size = 256;

    public static float[] Create()
    {
        var pixels = new float[Size * Size];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var v = 0.15f + 0.35f * y / Size;
                if ((x - 80) * (x - 80) + (y - 90) * (y - 90) < 45 * 45)
                {
                    v = 0.9f;
                }
                if (x is > 140 and < 220 && y is > 130 and < 210)
                {
                    v = 0.05f + 0.6f * (x - 140) / 80f;
                }
                if (y > 225 && x / 8 % 2 == 0)
                {
                    v = 1f;
                }
                pixels[y * Size + x] = v;
            }
        }
        return pixels;
    }
}
