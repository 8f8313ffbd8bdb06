using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Tests;

/// <summary>One test per diagnostic: its id, the exact text it points at, and its message.</summary>
public class DiagnosticTests
{
    private static Diagnostic Single(string source, string id)
    {
        var result = GeneratorHarness.Run("using Kiln;\n" + source);
        var matching = result.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.True(matching.Count == 1, $"expected one {id}, got: {string.Join("; ", result.GeneratorDiagnostics)}");
        return matching[0];
    }

    private static void AssertDiagnostic(string source, string id, string locatedText, string message, DiagnosticSeverity severity = DiagnosticSeverity.Error)
    {
        var diagnostic = Single(source, id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(locatedText, diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan));
        Assert.Equal(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void KLN0001_class_not_partial() => AssertDiagnostic(
        "[Network][Input(4)][Dense(3, Activation.Softmax)] public class Net { }",
        "KLN0001", "Net", "Network class 'Net' must be declared partial so that Kiln can generate its implementation");

    [Fact]
    public void KLN0002_no_input() => AssertDiagnostic(
        "[Network][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0002", "Net", "Network 'Net' has no [Input] layer; its first layer attribute must be [Input(...)]");

    [Fact]
    public void KLN0003_two_inputs() => AssertDiagnostic(
        "[Network][Input(4)][Dense(3)][Input(5)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0003", "Input(5)", "Network 'Net' declares more than one [Input]; only the first layer is an input");

    [Fact]
    public void KLN0004_input_not_first() => AssertDiagnostic(
        "[Network][Dense(3)][Input(4)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0004", "Input(4)", "[Input] must be the first layer attribute of 'Net', but it comes after 'Dense'");

    [Fact]
    public void KLN0005_dense_after_conv_without_flatten() => AssertDiagnostic(
        "[Network]\n[Input(28, 28, 1)]\n[Conv2D(8, 3)]\n[Dense(10, Activation.Softmax)]\npublic partial class Net;",
        "KLN0005", "Dense(10, Activation.Softmax)", "Layer 'dense' (Dense) needs a vector input but receives shape (26, 26, 8); add [Flatten] before it");

    [Fact]
    public void KLN0006_conv_on_a_vector() => AssertDiagnostic(
        "[Network][Input(16)][Conv2D(8, 3)][Flatten][Dense(2, Activation.Softmax)] public partial class Net;",
        "KLN0006", "Conv2D(8, 3)", "Layer 'conv2d' (Conv2D) needs a (height, width, channels) input but receives shape (16)");

    [Fact]
    public void KLN0007_kernel_larger_than_input() => AssertDiagnostic(
        "[Network][Input(3, 3, 1)][Conv2D(4, 5)][Flatten][Dense(2, Activation.Softmax)] public partial class Net;",
        "KLN0007", "Conv2D(4, 5)", "Layer 'conv2d' (Conv2D) turns input (3, 3, 1) into an empty output (0, 0, 4): a 5×5 valid kernel does not fit in 3×3");

    [Fact]
    public void KLN0008_non_positive_units() => AssertDiagnostic(
        "[Network][Input(4)][Dense(0)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0008", "Dense(0)", "Layer 'dense': units must be positive, but is 0");

    [Fact]
    public void KLN0008_non_positive_stride() => AssertDiagnostic(
        "[Network][Input(8, 8, 1)][Conv2D(4, 3, Stride = -1)][Flatten][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0008", "Conv2D(4, 3, Stride = -1)", "Layer 'conv2d': stride must be positive, but is -1");

    [Fact]
    public void KLN0009_dropout_rate_of_one() => AssertDiagnostic(
        "[Network][Input(4)][Dropout(1.0)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0009", "Dropout(1.0)", "Layer 'dropout': the dropout rate must be in [0, 1), but is 1");

    [Fact]
    public void KLN0010_softmax_before_the_end() => AssertDiagnostic(
        "[Network][Input(4)][Dense(5, Activation.Softmax)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0010", "Dense(5, Activation.Softmax)", "Layer 'dense' uses softmax, which Kiln supports only on the last layer (fused with the loss)");

    [Fact]
    public void KLN0011_crossentropy_without_softmax() => AssertDiagnostic(
        "[Network][Input(4)][Dense(3, Activation.Relu)] public partial class Net;",
        "KLN0011", "Dense(3, Activation.Relu)", "Loss SparseCategoricalCrossentropy needs a softmax output, but the last layer 'dense' has activation Relu; end the network with [Dense(3, Activation.Softmax)], or use Loss = Loss.MeanSquaredError for regression");

    [Fact]
    public void KLN0011_one_sigmoid_unit_is_told_what_to_use() => AssertDiagnostic(
        "[Network][Input(4)][Dense(1, Activation.Sigmoid)] public partial class Net;",
        "KLN0011", "Dense(1, Activation.Sigmoid)", "Loss SparseCategoricalCrossentropy needs a softmax output, but the last layer 'dense' has activation Sigmoid; for independent yes/no outputs with targets 0 and 1 use [Network(Loss = Loss.BinaryCrossentropy)]");

    [Fact]
    public void KLN0011_binary_crossentropy_on_a_linear_head_points_to_FromLogits() => AssertDiagnostic(
        "[Network(Loss = Loss.BinaryCrossentropy)][Input(4)][Dense(2)] public partial class Net;",
        "KLN0011", "Dense(2)", "Loss BinaryCrossentropy needs a sigmoid output, but the last layer 'dense' has activation Linear; end the network with [Dense(2, Activation.Sigmoid)], or set FromLogits = true to train on logits");

    [Fact]
    public void KLN0011_binary_crossentropy_on_a_softmax_head() => AssertDiagnostic(
        "[Network(Loss = Loss.BinaryCrossentropy)][Input(4)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0011", "Dense(3, Activation.Softmax)", "Loss BinaryCrossentropy needs a sigmoid output, but the last layer 'dense' has activation Softmax; end the network with [Dense(3, Activation.Sigmoid)] for independent yes/no outputs, or use a categorical loss with a softmax");

    [Fact]
    public void KLN0011_logits_with_a_sigmoid_head_would_apply_it_twice() => AssertDiagnostic(
        "[Network(Loss = Loss.BinaryCrossentropy, FromLogits = true)][Input(4)][Dense(1, Activation.Sigmoid)] public partial class Net;",
        "KLN0011", "Dense(1, Activation.Sigmoid)", "Loss BinaryCrossentropy needs a linear output (FromLogits = true), but the last layer 'dense' has activation Sigmoid; FromLogits = true means the loss applies the sigmoid itself: make the last layer linear, or remove FromLogits");

    [Fact]
    public void KLN0011_logits_with_a_softmax_head() => AssertDiagnostic(
        "[Network(FromLogits = true)][Input(4)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0011", "Dense(3, Activation.Softmax)", "Loss SparseCategoricalCrossentropy needs a linear output (FromLogits = true), but the last layer 'dense' has activation Softmax; FromLogits = true means the loss applies the softmax itself: make the last layer linear, or remove FromLogits");

    [Fact]
    public void KLN0011_mean_squared_error_has_no_logits() => AssertDiagnostic(
        "[Network(Loss = Loss.MeanSquaredError, FromLogits = true)][Input(4)][Dense(2)] public partial class Net;",
        "KLN0011", "Dense(2)", "Loss MeanSquaredError needs no FromLogits, but the last layer 'dense' has activation Linear; a regression loss compares the outputs themselves: remove FromLogits = true");

    [Fact]
    public void KLN0012_image_output() => AssertDiagnostic(
        "[Network(Loss = Loss.MeanSquaredError)][Input(8, 8, 1)][Conv2D(2, 3)] public partial class Net;",
        "KLN0012", "Conv2D(2, 3)", "The output of 'Net' has shape (6, 6, 2), but the loss MeanSquaredError needs a vector; add [Flatten] and a [Dense] head");

    [Fact]
    public void KLN0013_nothing_after_input() => AssertDiagnostic(
        "[Network][Input(4)] public partial class Net;",
        "KLN0013", "Net", "Network 'Net' has nothing after [Input]");

    [Fact]
    public void KLN0014_layers_on_two_declarations() => AssertDiagnostic(
        "[Network][Input(4)] public partial class Net;\n[Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0014", "Net", "Layer attributes of 'Net' are spread over more than one partial declaration, so their order is undefined; keep them on the declaration that has [Network]");

    [Fact]
    public void KLN0015_rank_two_input() => AssertDiagnostic(
        "[Network][Input(4, 4)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0015", "Input(4, 4)", "[Input] takes 1 dimension (features) or 3 (height, width, channels), all positive, but got (4, 4)");

    [Fact]
    public void KLN0016_nested_class() => AssertDiagnostic(
        "public partial class Outer { [Network][Input(4)][Dense(3, Activation.Softmax)] public partial class Net; }",
        "KLN0016", "Net", "Network class 'Net' must be a non-generic class that is not nested in another type");

    [Fact]
    public void KLN0017_duplicate_names() => AssertDiagnostic(
        "[Network][Input(4)][Dense(5, Name = \"dense\")][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0017", "Dense(3, Activation.Softmax)", "Layer name 'dense' is used more than once in 'Net'; saved tensors are named after their layers");

    [Fact]
    public void KLN0018_flatten_on_a_vector_warns() => AssertDiagnostic(
        "[Network][Input(4)][Flatten][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0018", "Flatten", "[Flatten] on 'flatten' receives a vector (4) and has no effect", DiagnosticSeverity.Warning);

    [Fact]
    public void KLN0019_dropout_last_warns() => AssertDiagnostic(
        "[Network(Loss = Loss.MeanSquaredError)][Input(4)][Dense(3)][Dropout(0.5)] public partial class Net;",
        "KLN0019", "Dropout(0.5)", "Dropout 'dropout' is the last layer, so training randomly zeroes the network's outputs", DiagnosticSeverity.Warning);

    [Fact]
    public void KLN0020_more_parameters_than_an_int_indexes() => AssertDiagnostic(
        "[Network(Loss = Loss.MeanSquaredError)][Input(50000)][Dense(50000)] public partial class Net;",
        "KLN0020", "Net", "Network 'Net' has 2,500,050,000 parameters, more than the 2,147,483,647 one flat buffer can index; make its layers smaller");

    [Fact]
    public void KLN0021_unknown_activation() => AssertDiagnostic(
        "[Network][Input(4)][Dense(3, (Activation)42)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0021", "Dense(3, (Activation)42)", "Layer 'dense': activation must be one of Kiln.Activation, but is 42");

    [Fact]
    public void KLN0021_batch_normalization_momentum_above_one() => AssertDiagnostic(
        "[Network][Input(4)][BatchNormalization(momentum: 1.5)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0021", "BatchNormalization(momentum: 1.5)", "Layer 'batch_normalization': momentum must be in [0, 1], but is 1.5");

    [Fact]
    public void KLN0021_negative_leaky_slope() => AssertDiagnostic(
        "[Network][Input(4)][Dense(4)][LeakyReLU(-0.1)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0021", "LeakyReLU(-0.1)", "Layer 'leaky_re_lu': negative slope must be non-negative and finite, but is -0.1");

    [Fact]
    public void KLN0006_global_pooling_of_a_vector() => AssertDiagnostic(
        "[Network][Input(16)][GlobalAveragePooling2D][Dense(2, Activation.Softmax)] public partial class Net;",
        "KLN0006", "GlobalAveragePooling2D", "Layer 'global_average_pooling2d' (GlobalAveragePooling2D) needs a (height, width, channels) input but receives shape (16)");

    [Fact]
    public void KLN0007_average_pool_larger_than_its_input() => AssertDiagnostic(
        "[Network][Input(3, 3, 1)][AveragePooling2D(4)][Flatten][Dense(2, Activation.Softmax)] public partial class Net;",
        "KLN0007", "AveragePooling2D(4)", "Layer 'average_pooling2d' (AveragePooling2D) turns input (3, 3, 1) into an empty output (0, 0, 1): a 4×4 valid pool window does not fit in 3×3");

    [Fact]
    public void KLN0010_softmax_activation_layer_before_the_end() => AssertDiagnostic(
        "[Network][Input(4)][Dense(5)][Activation(Activation.Softmax)][Dense(3, Activation.Softmax)] public partial class Net;",
        "KLN0010", "Activation(Activation.Softmax)", "Layer 'activation' uses softmax, which Kiln supports only on the last layer (fused with the loss)");

    [Fact]
    public void A_softmax_activation_layer_is_a_valid_head()
    {
        var result = GeneratorHarness.Run("using Kiln;\n[Network][Input(4)][Dense(3)][Activation(Activation.Softmax)] public partial class Net;");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilationProblems);
    }

    [Fact]
    public void Every_independent_error_is_reported_at_once()
    {
        var result = GeneratorHarness.Run("using Kiln;\n[Network][Input(4)][Dense(0)][Dropout(1.5)][Dense(3, Activation.Softmax)] public partial class Net;");
        Assert.Equal(["KLN0008", "KLN0009"], result.GeneratorDiagnostics.Select(d => d.Id).Order());
    }

    [Fact]
    public void An_invalid_network_still_has_its_public_surface()
    {
        // Only Kiln's error shows where the network is used: no CS0117 (Summary), CS1729 (constructor) or CS1061 (Predict).
        var result = GeneratorHarness.Run("""
            using Kiln;
            [Network][Input(4)][Dense(0)][Dense(3, Activation.Softmax)] public partial class Net;
            public static class User
            {
                public static float[] Use() { System.Console.WriteLine(Net.Summary); using var net = new Net(seed: 1); return net.Predict(new float[Net.InputSize]); }
            }
            """);
        Assert.Equal(["KLN0008"], result.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(result.CompilationProblems);
    }

    [Fact]
    public void Every_descriptor_links_to_its_section_of_the_catalogue()
    {
        var catalogue = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "diagnostics.md"));
        foreach (var (id, descriptor) in DiagnosticDescriptors.ById)
        {
            Assert.Equal(DiagnosticDescriptors.HelpBase + id.ToLowerInvariant(), descriptor.HelpLinkUri);
            Assert.Contains($"## {id}:", catalogue);
        }
    }

    [Fact]
    public void Every_descriptor_has_a_test_and_a_release_entry()
    {
        var tested = typeof(DiagnosticTests).GetMethods().Select(m => m.Name[..Math.Min(7, m.Name.Length)]).ToHashSet();
        var releases = File.ReadAllText(Path.Combine(RepoRoot(), "src", "Generator", "AnalyzerReleases.Unshipped.md"));
        foreach (var id in DiagnosticDescriptors.ById.Keys)
        {
            Assert.Contains(id, tested);
            Assert.Contains(id + " |", releases);
        }
    }

    internal static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string file = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, "..", ".."));
}
