using System.Buffers.Binary;
using SkiaSharp;

namespace Kiln.Images.Tests;

/// <summary>
/// Small images with known pixels, encoded in each format: PNG, JPEG and WebP by SkiaSharp, BMP and GIF (which
/// SkiaSharp decodes but does not encode) by the minimal writers below.
/// </summary>
internal static class TestImages
{
    /// <summary>A width × height RGBA image whose every pixel differs: red rises along x, green along y, blue with both.</summary>
    public static byte[] Pattern(int width, int height)
    {
        var rgba = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var p = (y * width + x) * 4;
                rgba[p] = (byte)(x * 255 / Math.Max(width - 1, 1));
                rgba[p + 1] = (byte)(y * 255 / Math.Max(height - 1, 1));
                rgba[p + 2] = (byte)((x * 7 + y * 13) % 256);
                rgba[p + 3] = 255;
            }
        }
        return rgba;
    }

    public static byte[] Encode(byte[] rgba, int width, int height, SKEncodedImageFormat format, int quality = 100)
    {
        using var bitmap = Bitmap(rgba, width, height);
        using var pixmap = bitmap.PeekPixels();
        using var data = format == SKEncodedImageFormat.Webp
            ? pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100))
            : pixmap.Encode(format, quality);
        return data?.ToArray() ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
    }

    public static SKBitmap Bitmap(byte[] rgba, int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    /// <summary>An uncompressed 24-bit bottom-up BMP (BITMAPINFOHEADER).</summary>
    public static byte[] Bmp(byte[] rgba, int width, int height)
    {
        var stride = (width * 3 + 3) / 4 * 4;
        var bytes = new byte[54 + stride * height];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), stride * height);
        for (var y = 0; y < height; y++)
        {
            var row = 54 + (height - 1 - y) * stride;
            for (var x = 0; x < width; x++)
            {
                var p = (y * width + x) * 4;
                bytes[row + x * 3] = rgba[p + 2];
                bytes[row + x * 3 + 1] = rgba[p + 1];
                bytes[row + x * 3 + 2] = rgba[p];
            }
        }
        return bytes;
    }

    /// <summary>
    /// A GIF89a of at most 256 distinct colours, LZW-coded with literals only: a clear code every 200 pixels keeps the
    /// codes at 9 bits, so no dictionary is needed.
    /// </summary>
    public static byte[] Gif(byte[] rgba, int width, int height)
    {
        var palette = new List<int>();
        var indices = new byte[width * height];
        for (var p = 0; p < indices.Length; p++)
        {
            var colour = rgba[4 * p] << 16 | rgba[4 * p + 1] << 8 | rgba[4 * p + 2];
            var index = palette.IndexOf(colour);
            if (index < 0)
            {
                index = palette.Count;
                palette.Add(colour);
            }
            indices[p] = (byte)index;
        }
        if (palette.Count > 256)
        {
            throw new ArgumentException("A GIF holds at most 256 colours.", nameof(rgba));
        }
        using var output = new MemoryStream();
        output.Write("GIF89a"u8);
        WriteUInt16(output, width);
        WriteUInt16(output, height);
        output.WriteByte(0xF7); // global colour table of 2^(7+1) = 256 entries
        output.WriteByte(0);
        output.WriteByte(0);
        for (var i = 0; i < 256; i++)
        {
            var colour = i < palette.Count ? palette[i] : 0;
            output.WriteByte((byte)(colour >> 16));
            output.WriteByte((byte)(colour >> 8));
            output.WriteByte((byte)colour);
        }
        output.WriteByte(0x2C);
        WriteUInt16(output, 0);
        WriteUInt16(output, 0);
        WriteUInt16(output, width);
        WriteUInt16(output, height);
        output.WriteByte(0);
        output.WriteByte(8); // LZW minimum code size: clear = 256, end = 257, codes of 9 bits

        var codes = new List<int> { 256 };
        for (var p = 0; p < indices.Length; p++)
        {
            if (p > 0 && p % 200 == 0)
            {
                codes.Add(256);
            }
            codes.Add(indices[p]);
        }
        codes.Add(257);
        var packed = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var code in codes)
        {
            buffer |= code << bits;
            bits += 9;
            while (bits >= 8)
            {
                packed.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }
        if (bits > 0)
        {
            packed.Add((byte)buffer);
        }
        for (var i = 0; i < packed.Count; i += 255)
        {
            var length = Math.Min(255, packed.Count - i);
            output.WriteByte((byte)length);
            output.Write(packed.GetRange(i, length).ToArray());
        }
        output.WriteByte(0);
        output.WriteByte(0x3B);
        return output.ToArray();
    }

    /// <summary>A PNG whose header claims <paramref name="width"/> × <paramref name="height"/> but whose data is a 1×1 image's.</summary>
    public static byte[] PngClaiming(int width, int height)
    {
        var png = Encode(Pattern(1, 1), 1, 1, SKEncodedImageFormat.Png);
        // Signature (8), then IHDR: length (4), "IHDR" (4), width (4), height (4), 5 more bytes, CRC over type and data.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }
        return ~crc;
    }

    private static void WriteUInt16(Stream stream, int value)
    {
        stream.WriteByte((byte)value);
        stream.WriteByte((byte)(value >> 8));
    }
}
