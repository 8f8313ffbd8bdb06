using Kiln.Tests.IO;

namespace Kiln.Tests.Data;

/// <summary>The core's Iris CSV loader on files the tests write (the embedded copy: tests/Datasets.Tests).</summary>
public class IrisTests
{
    [Theory]
    [InlineData("5.1,3.5,1.4,0.2,setosa\n4.9,3,x,0.2,setosa", "line 3", "petal_length 'x'")]
    [InlineData("5.1,3.5,1.4,0.2,setosa\n4.9,3,1.4,setosa", "line 3", "found 4")]
    [InlineData("5.1,3.5,1.4,0.2,daisy", "line 2", "unknown species 'daisy'")]
    [InlineData("5,1;3,5;1,4;0,2;setosa", "line 2", "sepal_width '1;3' is not a number")]
    public void Iris_FromAFile_BadLinesNameTheirNumber(string body, string line, string problem)
    {
        using var directory = new TempDirectory();
        var path = directory.File("iris.csv");
        File.WriteAllText(path, "sepal_length,sepal_width,petal_length,petal_width,species\n" + body + "\n");

        var error = Assert.Throws<InvalidDataException>(() => Datasets.Iris(path));

        Assert.Contains(line + ":", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Iris_FromAFile_WrongHeader_IsRejected()
    {
        using var directory = new TempDirectory();
        var path = directory.File("iris.csv");
        File.WriteAllText(path, "5.1,3.5,1.4,0.2,setosa\n");

        var error = Assert.Throws<InvalidDataException>(() => Datasets.Iris(path));

        Assert.Contains("line 1", error.Message);
        Assert.Contains("header", error.Message);
    }

    [Fact]
    public void Iris_FromAFile_AcceptsCrLf_BlankLines_AndExponents()
    {
        using var directory = new TempDirectory();
        var path = directory.File("iris.csv");
        File.WriteAllText(path, "sepal_length,sepal_width,petal_length,petal_width,species\r\n6.25,3,1e0,0.5,virginica\r\n\r\n");

        var flower = Assert.Single(Datasets.Iris(path));

        Assert.Equal([6.25f, 3f, 1f, 0.5f], flower.Features);
        Assert.Equal(2, flower.Label);
    }
}
