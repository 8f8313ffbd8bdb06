using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator;

public sealed partial class NetworkGenerator
{
    /// <summary>Reads a <c>[Network]</c> class into a <see cref="NetworkSpec"/>; keeps no symbol or syntax node.</summary>
    internal static class Parser
    {
        private static readonly Dictionary<string, LayerKind> LayerAttributes = new()
        {
            ["Kiln.InputAttribute"] = LayerKind.Input,
            ["Kiln.DenseAttribute"] = LayerKind.Dense,
            ["Kiln.Conv2DAttribute"] = LayerKind.Conv2D,
            ["Kiln.MaxPool2DAttribute"] = LayerKind.MaxPool2D,
            ["Kiln.FlattenAttribute"] = LayerKind.Flatten,
            ["Kiln.DropoutAttribute"] = LayerKind.Dropout,
        };

        public static NetworkSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            var node = (ClassDeclarationSyntax)context.TargetNode;
            var diagnostics = new List<DiagnosticInfo>();

            if (!node.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ClassNotPartial.Id, Identifier(node), symbol.Name));
            }
            if (symbol.ContainingType is not null || symbol.IsGenericType)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NestedOrGeneric.Id, Identifier(node), symbol.Name));
            }

            var loss = LossKind.SparseCategoricalCrossentropy;
            foreach (var named in context.Attributes[0].NamedArguments)
            {
                if (named is { Key: "Loss", Value.Value: int value })
                {
                    loss = (LossKind)value;
                }
            }

            var layers = new List<(int Position, LayerSpec Spec)>();
            var elsewhere = false;
            foreach (var attribute in symbol.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = attribute.AttributeClass?.ToDisplayString();
                if (name is null || !LayerAttributes.TryGetValue(name, out var kind) || attribute.ApplicationSyntaxReference is not { } reference)
                {
                    continue;
                }
                if (reference.SyntaxTree != node.SyntaxTree || !node.Span.Contains(reference.Span))
                {
                    elsewhere = true;
                    continue;
                }
                layers.Add((reference.Span.Start, ReadLayer(kind, attribute, LocationInfo.From(reference.GetSyntax(cancellationToken)))));
            }
            if (elsewhere)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.SplitDeclaration.Id, Identifier(node), symbol.Name));
            }

            var ns = symbol.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
            var accessibility = symbol.DeclaredAccessibility == Accessibility.Public ? "public" : "internal";
            var metadataName = ns.Length == 0 ? symbol.MetadataName : $"{ns}.{symbol.MetadataName}";
            return new NetworkSpec(ns, symbol.Name, metadataName, accessibility, loss, Identifier(node),
                layers.OrderBy(l => l.Position).Select(l => l.Spec).ToEquatableArray(), diagnostics.ToEquatableArray());
        }

        private static LocationInfo? Identifier(ClassDeclarationSyntax node) =>
            new LocationInfo(node.SyntaxTree.FilePath, node.Identifier.Span, node.SyntaxTree.GetLineSpan(node.Identifier.Span).Span);

        private static LayerSpec ReadLayer(LayerKind kind, AttributeData attribute, LocationInfo? location)
        {
            var args = attribute.ConstructorArguments;
            int Int(int i, int fallback = 0) => i < args.Length && args[i].Value is int v ? v : fallback;

            string? name = null;
            var stride = 1;
            foreach (var named in attribute.NamedArguments)
            {
                switch (named.Key)
                {
                    case "Name":
                        name = named.Value.Value as string;
                        break;
                    case "Stride":
                        stride = named.Value.Value is int s ? s : stride;
                        break;
                }
            }

            return kind switch
            {
                LayerKind.Input => new LayerSpec(kind, name, location,
                    Shape: args.Length == 1 && args[0].Kind == TypedConstantKind.Array
                        ? args[0].Values.Select(v => v.Value is int d ? d : 0).ToEquatableArray()
                        : args.Select(a => a.Value is int d ? d : 0).ToEquatableArray()),
                LayerKind.Dense => new LayerSpec(kind, name, location, Units: Int(0), Activation: (Activation)Int(1)),
                LayerKind.Conv2D => new LayerSpec(kind, name, location, Filters: Int(0), KernelSize: Int(1),
                    Padding: (Padding)Int(2), Activation: (Activation)Int(3), Stride: stride),
                LayerKind.MaxPool2D => new LayerSpec(kind, name, location, PoolSize: Int(0), Stride: Int(1), Padding: (Padding)Int(2)),
                LayerKind.Dropout => new LayerSpec(kind, name, location, Rate: args.Length > 0 && args[0].Value is double r ? r : 0),
                _ => new LayerSpec(kind, name, location),
            };
        }
    }
}
