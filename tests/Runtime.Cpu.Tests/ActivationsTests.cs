namespace Kiln.Runtime.Cpu.Tests;

public class ActivationsTests
{
    [Theory]
    [InlineData(Epilogue.Linear)]
    [InlineData(Epilogue.Relu)]
    [InlineData(Epilogue.Sigmoid)]
    [InlineData(Epilogue.Tanh)]
    public void Forward_MatchesReference(Epilogue act)
    {
        var z = TestData.Random(37, seed: 41, scale: 4f);
        var y = (float[])z.Clone();
        Activations.Forward(y, act);
        Approx.Equal(ActivationReference.Apply(TestData.ToDouble(z), act), y, $"{act}");
    }

    [Theory]
    [InlineData(Epilogue.Linear)]
    [InlineData(Epilogue.Relu)]
    [InlineData(Epilogue.Sigmoid)]
    [InlineData(Epilogue.Tanh)]
    public void Backward_FromOutput_MatchesFiniteDifferences(Epilogue act)
    {
        // L = Σ r·f(z): ∂L/∂z = r·f′(z); the kernel gets y = f(z) and dy = r.
        var z = TestData.Random(29, seed: 42, scale: 2f);
        var r = TestData.ToDouble(TestData.Random(z.Length, seed: 43));
        var y = (float[])z.Clone();
        Activations.Forward(y, act);
        var dy = r.Select(v => (float)v).ToArray();
        Activations.Backward(y, dy, act);
        var expected = FiniteDifference.Gradient(v => TestData.Dot(r, ActivationReference.Apply(v, act)), TestData.ToDouble(z), h: 1e-5);
        Approx.Equal(expected, dy, $"{act}'", Approx.FdAtol, Approx.FdRtol);
    }

    [Fact]
    public void UnknownActivation_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Forward(new float[1], (Epilogue)4));

    [Fact]
    public void Relu_VectorAndTailLanes_MatchTheScalarRule()
    {
        // y > 0 ? y : 0 for every length around the eight-lane vector, with NaN and −0 mapped to +0.
        for (var n = 1; n <= 19; n++)
        {
            var z = TestData.Random(n, seed: 44 + n);
            z[n / 2] = float.NaN;
            z[n - 1] = -0f;
            var y = (float[])z.Clone();
            Activations.Forward(y, Epilogue.Relu);
            TestData.BitwiseEqual(z.Select(v => v > 0f ? v : 0f).ToArray(), y, $"relu, n = {n}");

            var dy = TestData.Random(n, seed: 45 + n);
            var expected = dy.Select((d, i) => y[i] > 0f ? d : 0f).ToArray();
            Activations.Backward(y, dy, Epilogue.Relu);
            TestData.BitwiseEqual(expected, dy, $"relu', n = {n}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 10)]
    [InlineData(129, 35)]
    public void BiasBackward_SumsRowsInAscendingOrder(int rows, int n)
    {
        // 35 columns: one four-vector block, no single vector, three scalar columns; every column summed row by row.
        var dz = TestData.Random(rows * n, seed: 46);
        var db = TestData.Poisoned(n);
        Activations.BiasBackward(dz, db);
        var expected = new float[n];
        for (var r = 0; r < rows; r++)
        {
            for (var o = 0; o < n; o++)
            {
                expected[o] += dz[r * n + o];
            }
        }
        TestData.BitwiseEqual(expected, db, $"db {rows}×{n}");
    }
}
