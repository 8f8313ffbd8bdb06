namespace Kiln.Runtime.Cpu;

/// <summary>Cheap argument checks shared by the kernels; messages name the argument, the expected and the actual value.</summary>
internal static class Check
{
    public static void Length(int actual, long expected, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has length {actual}; expected {expected}.", name);
        }
    }

    public static void AtLeast(int actual, long expected, string name)
    {
        if (actual < expected)
        {
            throw new ArgumentException($"{name} has length {actual}; expected at least {expected}.", name);
        }
    }

    public static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }

    public static void NonNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");
        }
    }
}
