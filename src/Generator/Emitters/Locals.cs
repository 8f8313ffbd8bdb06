using System.Collections.Generic;

namespace Kiln.Generator.Emitters;

/// <summary>
/// The locals a method body may use, declared only when the emitting code asks for them: a descriptor names a
/// local through <see cref="Use"/>, which also marks the local it is declared from.
/// </summary>
internal sealed class Locals
{
    private readonly List<(string Name, string Line, string? From)> _declarations = [];
    private readonly Dictionary<string, int> _index = new();
    private readonly HashSet<string> _used = [];

    public void Declare(string name, string line, string? from = null)
    {
        if (_index.ContainsKey(name))
        {
            return;
        }
        _index[name] = _declarations.Count;
        _declarations.Add((name, line, from));
    }

    /// <summary>Marks <paramref name="name"/> (and what it is declared from) as used and returns it.</summary>
    public string Use(string name)
    {
        for (var current = name; current is not null && _index.TryGetValue(current, out var i) && _used.Add(current);)
        {
            current = _declarations[i].From;
        }
        return name;
    }

    /// <summary>Writes the used declarations in declaration order.</summary>
    public void Write(IndentedWriter w)
    {
        foreach (var (name, line, _) in _declarations)
        {
            if (_used.Contains(name))
            {
                w.Line(line);
            }
        }
    }
}
