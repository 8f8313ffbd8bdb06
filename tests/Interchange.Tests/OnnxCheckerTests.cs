namespace Kiln.Interchange.Tests;

/// <summary>ONNX's own checker (python3-onnx, with shape inference) on every exported test model.</summary>
public sealed class OnnxCheckerTests
{
    private const string Check = """
        import sys, onnx
        for path in sys.argv[1:]:
            try:
                onnx.checker.check_model(onnx.load(path), full_check=True)
                print("ok", path)
            except Exception as e:
                print("FAIL", path, str(e).replace("\n", " "))
        """;

    [PythonFact("onnx")]
    public void EverySampleAndLayerKindPassesTheChecker()
    {
        var directory = Directory.CreateTempSubdirectory("kiln-onnx-check-");
        try
        {
            var paths = new List<string>();
            foreach (var name in SampleNetworkTests.Networks.Cast<object[]>().Select(row => (string)row[0]))
            {
                using var network = SampleNetworkTests.Create(name);
                paths.Add(Path.Combine(directory.FullName, $"{name}.onnx"));
                network.ExportOnnx(paths[^1]);
            }
            foreach (var name in LayerKindTests.CaseNames().Cast<object[]>().Select(row => (string)row[0]))
            {
                var info = LayerKindTests.Info(name);
                paths.Add(Path.Combine(directory.FullName, $"{paths.Count}.onnx"));
                OnnxExport.Save(paths[^1], info, LayerKindTests.Parameters(info, seed: 1));
            }
            var lines = Python.Run(Check, [.. paths]).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(paths.Count, lines.Length);
            Assert.All(lines, line => Assert.StartsWith("ok ", line));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
