"""Phone photos to web images: checked, turned upright, stripped of every metadata field, resized.

Nothing from the uploaded file reaches the web as-is: every web file is a fresh encode of the
pixels only (no EXIF, GPS, XMP, ICC profile or comment), so an image that is also an HTML page
(a polyglot) comes out as a plain picture.
"""

import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, ImageOps
from pillow_heif import register_heif_opener

register_heif_opener()

# Only these decoders are ever run on an upload.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# A 12-megapixel phone photo is 4000×3000; panoramas are long but not huge.
MAX_PIXELS = 50_000_000
MAX_SIDE = 16_000
# Long side in pixels of each web size.
WEB_SIZES = {"large": 1600, "medium": 800, "thumb": 320}
WEBP_QUALITY = 80
# WebP effort 2 encodes 2–3× faster than Pillow's default 4, for files within a few per cent.
WEBP_METHOD = 2
JPEG_QUALITY = 82

_SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(ValueError):
    """The file is not a photo we can publish; the message says why, for the person uploading."""


@dataclass(frozen=True)
class WebImage:
    name: str
    width: int
    height: int
    webp: bytes
    jpeg: bytes


def image_open_checked(source: BinaryIO) -> Image.Image:
    """Open from the header only: refuse what is not a photo or is too large before decoding pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected(_("This image is far too large to be a photo.")) from None
    except (Image.UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRejected(
            _("This file is not a photo we can read: send JPEG, PNG, WebP or iPhone HEIC photos.")
        ) from None
    width, height = image.size
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageRejected(
            _(
                "This image is %(width)d×%(height)d pixels: photos up to %(megapixels)d megapixels are accepted."
            )
            % {"width": width, "height": height, "megapixels": MAX_PIXELS // 1_000_000}
        )
    return image


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _upright_srgb(image: Image.Image) -> Image.Image:
    """Decoded pixels, turned by their EXIF orientation, in sRGB, with no metadata attached."""
    try:
        # Reading the EXIF decodes a PNG whole: a cut-off one fails here.
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        # Let the JPEG decoder skip what the largest web size does not need (2–3× faster).
        target = _fit(image.size, max(WEB_SIZES.values()))
        if orientation in (5, 6, 7, 8):
            target = target[::-1]
        image.draft("RGB", target)
        image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejected(_("This photo is damaged or was not uploaded completely.")) from error
    image = ImageOps.exif_transpose(image)
    icc_profile = image.info.get("icc_profile")
    if image.mode in ("LA", "P", "PA"):
        image = image.convert("RGBA")
    if icc_profile and image.mode in ("RGB", "RGBA", "CMYK"):
        # Colours as the camera or the screenshot's display profile meant them (Display P3, Adobe RGB).
        try:
            image = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)),
                _SRGB,
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
        except ImageCms.PyCMSError:
            pass
    if image.mode == "RGBA":
        # Transparent areas on white, as on the website's background.
        rgba, image = image, Image.new("RGB", image.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.info = {}
    return image


def _encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def web_images_render(source: BinaryIO) -> list[WebImage]:
    """Every web size of the photo in `source`, largest first, as WebP and a JPEG fallback."""
    upright = _upright_srgb(image_open_checked(source))
    rendered = []
    current = upright
    for name, long_side in WEB_SIZES.items():
        size = _fit(current.size, long_side)
        # Each size is made from the previous one: far less work than from the original.
        if size != current.size:
            current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        current.info = {}
        rendered.append(
            WebImage(
                name=name,
                width=current.width,
                height=current.height,
                webp=_encode(current, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD),
                # Optimised Huffman tables: most of progressive's saving at a fraction of its cost.
                jpeg=_encode(current, "JPEG", quality=JPEG_QUALITY, optimize=True),
            )
        )
    return rendered
