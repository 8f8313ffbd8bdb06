using Kiln.Runtime.Cpu.Tests.Reference;

namespace Kiln.Runtime.Cpu.Tests;

/// <summary>
/// 5×5 stride-1 convolutions with channel counts in whole vectors take the Winograd F(4×4, 5×5) path from batch 16:
/// output sizes whose last tile has one, two or three rows and columns inside, same and valid padding, several 24-tile
/// blocks and padded chunks.
/// </summary>
[Collection(nameof(ThreadingTests))]
public class Conv2DWinogradTests
{
    public static TheoryData<string, int, Epilogue> Cases() => new()
    {
        { "mnist conv2 14x14x16→32 same", 16, Epilogue.Relu },
        { "mnist conv2 14x14x16→32 same", 129, Epilogue.Relu },
        { "13x11x8→16 valid", 17, Epilogue.Linear },
        { "9x10x24→8 same", 16, Epilogue.Tanh },
        { "5x5x8→40 same", 20, Epilogue.Relu },
    };

    private static ConvGeometry Geometry(string name) => name switch
    {
        "mnist conv2 14x14x16→32 same" => Geometries.ConvSame(14, 14, 16, 32, 5, 1),
        "13x11x8→16 valid" => Geometries.ConvValid(13, 11, 8, 16, 5, 1),
        "9x10x24→8 same" => Geometries.ConvSame(9, 10, 24, 8, 5, 1),
        "5x5x8→40 same" => Geometries.ConvSame(5, 5, 8, 40, 5, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_MatchesDoubleReference(string name, int batch, Epilogue act)
    {
        var g = Geometry(name);
        var x = TestData.Random(batch * g.InSize, seed: 41);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 42, scale: 0.2f);
        var bias = TestData.Random(g.OutC, seed: 43);
        var y = TestData.Poisoned(batch * g.OutSize);
        Conv2D.Forward(x, w, bias, y, batch, g, act, TestData.Poisoned(Conv2D.ScratchSize(batch, g)));
        var expected = Conv2DReference.Forward(TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(bias), batch, g, act);
        // Up to 25·InC terms; the transforms add a few roundings of values up to 5× the inputs.
        Approx.Equal(expected, y, $"{name} y", atol: 1e-4, rtol: 1e-4);
    }

    [Fact]
    public void Forward_IsDeterministicAndThreadIndependent()
    {
        var g = Geometry("mnist conv2 14x14x16→32 same");
        const int batch = 129;
        var x = TestData.Random(batch * g.InSize, seed: 44);
        var w = TestData.Random(g.PatchSize * g.OutC, seed: 45);
        var bias = TestData.Random(g.OutC, seed: 46);
        var scratch = new float[Conv2D.ScratchSize(batch, g)];
        float[] Run(bool serial)
        {
            Workers.Serial = serial;
            try
            {
                var y = new float[batch * g.OutSize];
                Conv2D.Forward(x, w, bias, y, batch, g, Epilogue.Relu, scratch);
                return y;
            }
            finally
            {
                Workers.Serial = false;
            }
        }
        var expected = Run(serial: true);
        TestData.BitwiseEqual(expected, Run(serial: false), "parallel");
        TestData.BitwiseEqual(expected, Run(serial: false), "parallel again");
    }
}
