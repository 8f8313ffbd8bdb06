using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Kiln.Generator.Layers;
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
            var fromLogits = false;
            foreach (var named in context.Attributes[0].NamedArguments)
            {
                if (named is { Key: "Loss", Value.Value: int value })
                {
                    loss = (LossKind)value;
                }
                else if (named is { Key: "FromLogits", Value.Value: bool logits })
                {
                    fromLogits = logits;
                }
            }

            var layers = new List<(int Position, LayerSpec Spec)>();
            var elsewhere = false;
            foreach (var attribute in symbol.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = attribute.AttributeClass?.ToDisplayString();
                if (name is null || !Registry.Attributes.TryGetValue(name, out var kind) || attribute.ApplicationSyntaxReference is not { } reference)
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
                layers.OrderBy(l => l.Position).Select(l => l.Spec).ToEquatableArray(), diagnostics.ToEquatableArray(), fromLogits);
        }

        private static LocationInfo? Identifier(ClassDeclarationSyntax node) =>
            new LocationInfo(node.SyntaxTree.FilePath, node.Identifier.Span, node.SyntaxTree.GetLineSpan(node.Identifier.Span).Span);

        /// <summary>Reads every argument by its parameter or property name, so a descriptor never depends on positions.</summary>
        private static LayerSpec ReadLayer(string kind, AttributeData attribute, LocationInfo? location)
        {
            var arguments = new List<LayerArgument>();
            string? name = null;
            var parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
            for (var i = 0; i < attribute.ConstructorArguments.Length && i < parameters.Length; i++)
            {
                arguments.Add(new LayerArgument(parameters[i].Name, Value(attribute.ConstructorArguments[i])));
            }
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "Name")
                {
                    name = named.Value.Value as string;
                    continue;
                }
                arguments.Add(new LayerArgument(char.ToLowerInvariant(named.Key[0]) + named.Key.Substring(1), Value(named.Value)));
            }
            return new LayerSpec(kind, name, location, arguments.ToEquatableArray());
        }

        /// <summary>A constant as equatable data: arrays become <see cref="EquatableArray{T}"/> of ints, enums their value.</summary>
        private static object? Value(TypedConstant constant) => constant.Kind == TypedConstantKind.Array
            ? constant.Values.Select(v => v.Value is int d ? d : 0).ToEquatableArray()
            : constant.Value;
    }
}
