namespace Kiln.Images.Tests;

/// <summary>A fact about text in pictures: skipped where no typeface with glyphs exists, since text is then left out.</summary>
public sealed class FontFactAttribute : FactAttribute
{
    public FontFactAttribute()
    {
        if (Typefaces.Text is null)
        {
            Skip = "no font with glyphs on this machine: pictures are drawn without text";
        }
    }
}
