using System;
using System.Linq;

namespace Kiln.Generator.Model;

/// <summary>A per-sample tensor shape: (features) or (height, width, channels).</summary>
internal readonly record struct Shape(int D0, int D1 = 0, int D2 = 0)
{
    public static Shape Vector(int n) => new(n);
    public static Shape Image(int h, int w, int c) => new(h, w, c);

    public int Rank => D2 != 0 || D1 != 0 ? 3 : 1;
    public int Size => Rank == 1 ? D0 : D0 * D1 * D2;
    public int Height => D0;
    public int Width => D1;
    public int Channels => D2;

    /// <summary>Keras' notation with the batch axis: <c>(None, 28, 28, 16)</c>.</summary>
    public string ToKeras() => Rank == 1 ? $"(None, {D0})" : $"(None, {D0}, {D1}, {D2})";

    public override string ToString() => Rank == 1 ? $"({D0})" : $"({D0}, {D1}, {D2})";

    public static string Format(int[] dims) => "(" + string.Join(", ", dims.Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")";
}
