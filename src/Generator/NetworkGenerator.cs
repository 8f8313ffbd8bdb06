using Kiln.Generator.Emitters;
using Kiln.Generator.Model;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator;

/// <summary>
/// Turns every <c>[Network]</c> partial class into a specialised network:
/// parse (symbols → <see cref="NetworkSpec"/>) → infer shapes (pure) → emit C# and CUDA text.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class NetworkGenerator : IIncrementalGenerator
{
    public const string NetworkAttributeName = "Kiln.NetworkAttribute";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(NetworkAttributeName, static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.ClassDeclarationSyntax, Parser.Parse)
            .WithTrackingName(TrackingNames.Parse);

        var inferred = specs
            .Select(static (spec, _) => ShapeInference.Infer(spec))
            .WithTrackingName(TrackingNames.Infer);

        // Diagnostics and code travel apart, so that moving an attribute re-reports without re-emitting.
        var diagnostics = inferred.Select(static (r, _) => r.Diagnostics).WithTrackingName(TrackingNames.Diagnostics);
        var models = inferred.Select(static (r, _) => r.Model).WithTrackingName(TrackingNames.Model);
        var invalid = inferred.Select(static (r, _) => r.Invalid).WithTrackingName(TrackingNames.Invalid);

        // Only the reporting step sees the compilation: it maps each location back to its syntax tree, so that
        // #pragma warning disable works on Kiln's diagnostics. The cached steps above hold no tree.
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (spc, pair) =>
        {
            var (items, compilation) = pair;
            foreach (var item in items)
            {
                spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ById[item.Id], item.Location?.ToLocation(compilation), [.. item.Arguments]));
            }
        });

        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            if (model is null)
            {
                return;
            }
            spc.AddSource($"{model.MetadataName}.g.cs", NetworkEmitter.Emit(model));
            spc.AddSource($"{model.MetadataName}.Cuda.g.cs", CudaEmitter.Emit(model));
        });

        // An invalid network still gets its public surface, so only Kiln's errors show where it is used.
        context.RegisterSourceOutput(invalid, static (spc, network) =>
        {
            if (network is not null)
            {
                spc.AddSource($"{network.MetadataName}.g.cs", InvalidNetworkEmitter.Emit(network));
            }
        });
    }
}

/// <summary>Names of the pipeline steps, so tests can check what was cached.</summary>
public static class TrackingNames
{
    public const string Parse = nameof(Parse);
    public const string Infer = nameof(Infer);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Model = nameof(Model);
    public const string Invalid = nameof(Invalid);
}
