namespace Kiln.Tests.Training;

internal static class Data
{
    public static (Dataset<Example> Train, Dataset<Example> Test) Iris(int seed = 1) => Datasets.Iris().Split(0.25, seed);

    public static Dataset<Example> Xor()
    {
        float[][] x = [[0, 0], [0, 1], [1, 0], [1, 1]];
        return Dataset.FromArrays(x, [.. x.Select(p => new[] { p[0] == p[1] ? 0f : 1f })]);
    }

    public static Dataset<Example> OneHot(Dataset<Example> labelled) =>
        labelled.Map(e => e with { Target = [.. Enumerable.Range(0, 3).Select(c => c == e.Label ? 1f : 0f)] });

    public static FitOptions Quiet => new() { Verbose = false };
}
