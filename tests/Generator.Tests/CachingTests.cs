using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kiln.Generator.Tests;

/// <summary>The pipeline must not redo work after edits that do not change a network, and must not hold compiler objects.</summary>
public class CachingTests
{
    private static readonly string[] Steps = [TrackingNames.Parse, TrackingNames.Infer, TrackingNames.Diagnostics, TrackingNames.Model];

    [Fact]
    public void Unrelated_edit_keeps_every_step_cached()
    {
        var compilation = GeneratorHarness.Compile(SampleNetworks.MnistCnn, "class Other { }");
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var other = compilation.SyntaxTrees.Last();
        var edited = compilation.ReplaceSyntaxTree(other, other.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From("class Other { int _field; }")));
        var run = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var step in Steps)
        {
            var outputs = run.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step} was {o.Reason}"));
        }
    }

    [Fact]
    public void Comment_edit_in_the_network_file_does_not_regenerate_code()
    {
        var compilation = GeneratorHarness.Compile(SampleNetworks.Iris);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From("// a comment that moves every attribute down a line\n" + SampleNetworks.Iris)));
        var run = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.All(run.TrackedSteps[TrackingNames.Model].SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"Model was {o.Reason}"));
    }

    [Fact]
    public void Changing_a_layer_regenerates_the_model()
    {
        var compilation = GeneratorHarness.Compile(SampleNetworks.Iris);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var tree = compilation.SyntaxTrees.Single();
        var edited = compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(SampleNetworks.Iris.Replace("[Dense(10, Activation.Relu)]\n[Dense(3", "[Dense(12, Activation.Relu)]\n[Dense(3"))));
        var run = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Contains(run.TrackedSteps[TrackingNames.Model].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void Pipeline_outputs_hold_no_symbols_syntax_or_compilations()
    {
        var compilation = GeneratorHarness.Compile(SampleNetworks.MnistCnn);
        var run = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();

        foreach (var step in Steps)
        {
            foreach (var (value, _) in run.TrackedSteps[step].SelectMany(s => s.Outputs))
            {
                AssertNoCompilerObjects(value, step, []);
            }
        }
    }

    private static void AssertNoCompilerObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }
        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or SyntaxTree or Location,
            $"{path} holds a {value.GetType().Name}");
        if (value.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(System.Collections.Immutable.ImmutableArray<>)
            && (bool)type.GetProperty("IsDefault")!.GetValue(value)!)
        {
            return;
        }
        if (value is IEnumerable items)
        {
            var i = 0;
            foreach (var item in items)
            {
                AssertNoCompilerObjects(item, $"{path}[{i++}]", seen);
            }
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            AssertNoCompilerObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
        }
    }
}
