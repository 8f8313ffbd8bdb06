using System.Runtime.CompilerServices;

namespace Kiln.EmbeddedData.Tests;

/// <summary>The embedded Iris of Kiln.Datasets: its content, and that it is data/iris/iris.csv read by the core's loader.</summary>
public class IrisTests
{
    [Fact]
    public void Iris_Has150Flowers_50PerSpecies_FourFeatures()
    {
        var iris = Datasets.Iris().ToList();

        Assert.Equal(150, iris.Count);
        Assert.Equal(150, Datasets.Iris().Count);
        Assert.All(iris, e => Assert.Equal(4, e.Features.Length));
        Assert.Equal([50, 50, 50], iris.GroupBy(e => e.Label).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.Equal(["setosa", "versicolor", "virginica"], Datasets.IrisClassNames);
    }

    [Fact]
    public void Iris_FirstAndLastRows_MatchTheFile()
    {
        var iris = Datasets.Iris().ToList();

        Assert.Equal([5.1f, 3.5f, 1.4f, 0.2f], iris[0].Features);
        Assert.Equal(0, iris[0].Label);
        Assert.Equal([5.9f, 3.0f, 5.1f, 1.8f], iris[^1].Features);
        Assert.Equal(2, iris[^1].Label);
    }

    [Fact]
    public void Iris_Embedded_IsTheRepositorysFile()
    {
        var embedded = Datasets.Iris().ToList();
        var file = Datasets.Iris(Path.Combine(RepoRoot(), "data", "iris", "iris.csv")).ToList();

        Assert.Equal(file.Count, embedded.Count);
        Assert.All(file.Zip(embedded), pair =>
        {
            Assert.Equal(pair.First.Features, pair.Second.Features);
            Assert.Equal(pair.First.Label, pair.Second.Label);
        });
    }

    internal static string RepoRoot([CallerFilePath] string file = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
