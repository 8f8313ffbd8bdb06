using Kiln.Runtime.Cpu.Tests.Reference;

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
        Assert.Throws<ArgumentOutOfRangeException>(() => Activations.Forward(new float[1], (Epilogue)7));
}
