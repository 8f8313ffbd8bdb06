using System.Collections.Generic;
using System.Text;

namespace Kiln.Generator.Emitters;

/// <summary>
/// The CUDA kernels a network launches, as NVRTC name expressions in first-use order; identical layers share one
/// instantiation. Each gets a named constant (<c>K.Conv2dForward1</c>), so launches say which kernel they run.
/// </summary>
internal sealed class KernelTable
{
    private readonly Dictionary<string, string> _constants = new();
    private readonly Dictionary<string, int> _perTemplate = new();

    public List<(string Constant, string Expression)> Kernels { get; } = [];

    /// <summary>The constant naming <paramref name="expression"/>, e.g. <c>K.DenseForward0</c>.</summary>
    public string Get(string expression)
    {
        if (!_constants.TryGetValue(expression, out var constant))
        {
            var template = expression.Substring(0, expression.IndexOf('<')).Replace("kiln::", "");
            _perTemplate.TryGetValue(template, out var n);
            _perTemplate[template] = n + 1;
            constant = Pascal(template) + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _constants[expression] = constant;
            Kernels.Add((constant, expression));
        }
        return "K." + constant;
    }

    private static string Pascal(string snake)
    {
        var text = new StringBuilder();
        foreach (var part in snake.Split('_'))
        {
            if (part.Length > 0)
            {
                text.Append(char.ToUpperInvariant(part[0])).Append(part, 1, part.Length - 1);
            }
        }
        return text.ToString();
    }
}
