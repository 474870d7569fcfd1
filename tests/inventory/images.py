"""Real image files made on the spot for the photo tests: phone-like JPEGs with EXIF, PNG, WebP,
HEIC, and the bad files people and attackers send."""

import io
import struct
import zlib

import pillow_heif
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, ImageCms

SECRET_COMMENT = b"owner-home-address-secret"
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def two_tone(width: int = 400, height: int = 200, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: easy to tell which way up it is."""
    image = Image.new(mode, (width, height), "blue")
    image.paste("red", (0, 0, width // 2, height))
    return image


def phone_jpeg(*, orientation: int = 6, width: int = 400, height: int = 200) -> bytes:
    """A JPEG as a phone writes it: stored sideways with an orientation tag, GPS position,
    camera make, an ICC profile, XMP and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 15"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (43.0, 38.0, 21.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (79.0, 25.0, 11.0),
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description GPSLatitude="43,38N"/></x:xmpmeta>'
    buffer = io.BytesIO()
    two_tone(width, height).save(
        buffer, "JPEG", exif=exif, icc_profile=icc, comment=SECRET_COMMENT, xmp=xmp, quality=90
    )
    return buffer.getvalue()


def encoded(format: str, image: Image.Image | None = None, **options) -> bytes:
    buffer = io.BytesIO()
    (image or two_tone()).save(buffer, format, **options)
    return buffer.getvalue()


def shot(n: int, format: str = "PNG") -> bytes:
    """The n-th of several different photos of a vehicle (a photo sent twice is kept once)."""
    return encoded(format, two_tone(400 + n, 200))


def heic() -> bytes:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(two_tone()).save(buffer, quality=80)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that announces these dimensions but holds almost no pixel data: decoding it would
    fail as damaged, so refusing it for its size proves only the header was read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def swapped_primaries_profile() -> bytes:
    """An RGB colour profile that is plainly not sRGB: sRGB with its red and green primaries
    swapped (their tags' places in the tag table exchanged), as a wide-gamut profile differs."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", data, 128)
    places = {}
    for entry in range(count):
        at = 132 + 12 * entry
        places[bytes(data[at : at + 4])] = at + 4
    red, green = places[b"rXYZ"], places[b"gXYZ"]
    data[red : red + 8], data[green : green + 8] = data[green : green + 8], data[red : red + 8]
    return bytes(data)


def polyglot_jpeg() -> bytes:
    """A valid JPEG that is also an HTML page: markup in its comment and after its end."""
    return encoded("JPEG", comment=HTML) + HTML


def truncated_jpeg() -> bytes:
    data = encoded("JPEG", two_tone(1200, 900), quality=95)
    return data[: len(data) // 2]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)
