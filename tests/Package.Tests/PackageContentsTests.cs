using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Kiln.Package.Tests;

/// <summary>What a NuGet user finds inside the two packages: the files, the metadata, the symbols.</summary>
[Collection(nameof(Feed))]
public sealed class PackageContentsTests(Feed feed)
{
    // The SourceLink JSON's kind in a portable PDB's custom debug information (the Portable PDB specification).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    [Fact]
    public void Kiln_carries_the_three_assemblies_with_docs_the_generator_and_the_build_logic_and_no_data()
    {
        using var package = Open("Kiln");

        Assert.Equal(
            [
                "README.md", "analyzers/dotnet/cs/Kiln.Generator.dll", "buildTransitive/Kiln.targets",
                "lib/net10.0/Kiln.Runtime.Cpu.dll", "lib/net10.0/Kiln.Runtime.Cpu.xml",
                "lib/net10.0/Kiln.Runtime.Cuda.dll", "lib/net10.0/Kiln.Runtime.Cuda.xml",
                "lib/net10.0/Kiln.dll", "lib/net10.0/Kiln.xml",
            ],
            Payload(package));
        Assert.True(package.GetEntry("lib/net10.0/Kiln.dll")!.Length < 512 * 1024, "Kiln.dll should hold no dataset");
    }

    [Fact]
    public void Kiln_Datasets_carries_the_data_with_its_notice_and_depends_on_all_of_Kiln()
    {
        using var package = Open("Kiln.Datasets");

        Assert.Equal(["README.md", "THIRD-PARTY-NOTICES.md", "lib/net10.0/Kiln.Datasets.dll", "lib/net10.0/Kiln.Datasets.xml"], Payload(package));
        var notice = Read(package, "THIRD-PARTY-NOTICES.md");
        Assert.Contains("CC BY 4.0", notice);
        Assert.Contains("CC BY-SA 3.0", notice);
        Assert.Contains("Copyright (c) 2015 Juan Cazala", notice);
        var dependency = Assert.Single(Nuspec(package).Descendants(), e => e.Name.LocalName == "dependency");
        Assert.Equal("Kiln", (string?)dependency.Attribute("id"));
        // No exclude: the generator and the build logic reach a project that references only Kiln.Datasets.
        Assert.Null(dependency.Attribute("exclude"));
    }

    [Theory]
    [InlineData("Kiln", "MIT")]
    [InlineData("Kiln.Datasets", "MIT AND CC-BY-4.0 AND CC-BY-SA-3.0")]
    public void Metadata_names_a_licence_a_readme_a_repository_and_a_prerelease_version(string id, string licence)
    {
        using var package = Open(id);
        var metadata = Child(Nuspec(package), "metadata");

        Assert.Equal(licence, Child(metadata, "license").Value);
        Assert.Equal("expression", (string?)Child(metadata, "license").Attribute("type"));
        Assert.Equal("README.md", Child(metadata, "readme").Value);
        Assert.Equal("Kiln contributors", Child(metadata, "authors").Value);
        Assert.StartsWith("https://github.com/", (string?)Child(metadata, "repository").Attribute("url"));
        Assert.Matches(@"^\d+\.\d+\.\d+-[0-9A-Za-z.]+$", Child(metadata, "version").Value);
        Assert.False(string.IsNullOrWhiteSpace(Read(package, "README.md")));
    }

    [Theory]
    [InlineData("Kiln", "lib/net10.0/Kiln.dll")]
    [InlineData("Kiln", "lib/net10.0/Kiln.Runtime.Cpu.dll")]
    [InlineData("Kiln", "lib/net10.0/Kiln.Runtime.Cuda.dll")]
    [InlineData("Kiln", "analyzers/dotnet/cs/Kiln.Generator.dll")]
    [InlineData("Kiln.Datasets", "lib/net10.0/Kiln.Datasets.dll")]
    public void Every_assembly_embeds_its_pdb_with_a_source_link(string id, string path)
    {
        using var package = Open(id);
        using var bytes = new MemoryStream();
        using (var entry = package.GetEntry(path)!.Open())
        {
            entry.CopyTo(bytes);
        }
        bytes.Position = 0;
        using var pe = new PEReader(bytes);

        var embedded = Assert.Single(pe.ReadDebugDirectory(), d => d.Type == DebugDirectoryEntryType.EmbeddedPortablePdb);
        using var provider = pe.ReadEmbeddedPortablePdbDebugDirectoryData(embedded);
        var pdb = provider.GetMetadataReader();
        var sourceLink = pdb.CustomDebugInformation.Select(pdb.GetCustomDebugInformation).Single(c => pdb.GetGuid(c.Kind) == SourceLinkKind);
        var json = System.Text.Encoding.UTF8.GetString(pdb.GetBlobBytes(sourceLink.Value));
        Assert.Contains("https://raw.githubusercontent.com/", json);
    }

    private ZipArchive Open(string id) =>
        ZipFile.OpenRead(Assert.Single(Directory.GetFiles(feed.Packages, $"{id}.*.nupkg"), f => char.IsDigit(Path.GetFileName(f)[id.Length + 1])));

    // The files a user sees: the packaging's own bookkeeping (nuspec, OPC parts) left out.
    private static string[] Payload(ZipArchive package) =>
        [.. package.Entries.Select(e => e.FullName)
            .Where(n => !n.EndsWith(".nuspec", StringComparison.Ordinal) && !n.StartsWith("_rels/", StringComparison.Ordinal)
                && !n.StartsWith("package/", StringComparison.Ordinal) && n != "[Content_Types].xml")
            .Order(StringComparer.Ordinal)];

    private static XElement Nuspec(ZipArchive package) =>
        XDocument.Parse(Read(package, package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).FullName)).Root!;

    // Matched by local name: the nuspec's namespace changes with the features a package uses.
    private static XElement Child(XElement parent, string name) => parent.Elements().Single(e => e.Name.LocalName == name);

    private static string Read(ZipArchive package, string path)
    {
        using var reader = new StreamReader(package.GetEntry(path)!.Open());
        return reader.ReadToEnd();
    }
}
