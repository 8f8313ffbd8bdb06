namespace Kiln.Runtime.Cpu.Tests.Reference;

internal static class ActivationReference
{
    public static double Apply(double z, Epilogue act) => act switch
    {
        Epilogue.Relu => z > 0 ? z : 0,
        Epilogue.Sigmoid => 1 / (1 + Math.Exp(-z)),
        Epilogue.Tanh => Math.Tanh(z),
        _ => z,
    };

    public static double[] Apply(double[] z, Epilogue act) => z.Select(v => Apply(v, act)).ToArray();
}
