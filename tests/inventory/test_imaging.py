"""The photo pipeline on real files: upright, no metadata, every format, bad files refused clearly."""

import io

import pytest
from PIL import Image

from inventory.imaging import ImageRejected, image_open_checked, web_images_render
from tests.inventory import images

LEAKS = [b"Exif", b"GPS", b"PhoneMaker", images.SECRET_COMMENT, b"xmpmeta", b"ICC_PROFILE", b"<script"]


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _assert_clean(data: bytes):
    for leak in LEAKS:
        assert leak not in data, leak
    image = _open(data)
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"} & set(image.info)


def test_phone_jpeg_comes_out_upright_in_every_size_with_no_metadata():
    rendered = web_images_render(io.BytesIO(images.phone_jpeg(orientation=6)))
    assert [r.name for r in rendered] == ["large", "medium", "thumb"]
    for web in rendered:
        for data, format in ((web.webp, "WEBP"), (web.jpeg, "JPEG")):
            _assert_clean(data)
            image = _open(data).convert("RGB")
            # Stored 400×200 lying on its side; shown 200×400 with the red half on top.
            assert image.height > image.width
            red, _green, blue = image.getpixel((image.width // 2, image.height // 4))
            assert red > 200 and blue < 60
            red, _green, blue = image.getpixel((image.width // 2, 3 * image.height // 4))
            assert blue > 200 and red < 60
            assert _open(data).format == format


def test_large_photos_are_resized_to_the_web_sizes():
    data = images.encoded("JPEG", images.two_tone(4000, 3000), quality=85)
    sizes = {web.name: (web.width, web.height) for web in web_images_render(io.BytesIO(data))}
    assert sizes == {"large": (1600, 1200), "medium": (800, 600), "thumb": (320, 240)}


@pytest.mark.parametrize(
    "data",
    [
        images.encoded("PNG", images.two_tone(mode="RGBA")),
        images.encoded("PNG", images.two_tone().convert("P")),
        images.encoded("WEBP", quality=90),
        images.heic(),
    ],
    ids=["png-transparent", "png-palette", "webp", "heic"],
)
def test_png_webp_and_iphone_heic_convert(data):
    rendered = web_images_render(io.BytesIO(data))
    large = _open(rendered[0].jpeg).convert("RGB")
    assert large.size == (400, 200)
    assert large.getpixel((50, 100))[0] > 200  # red on the left
    for web in rendered:
        _assert_clean(web.webp)


def test_polyglot_is_re_encoded_as_a_plain_picture():
    rendered = web_images_render(io.BytesIO(images.polyglot_jpeg()))
    for web in rendered:
        assert b"<script" not in web.webp and b"<html" not in web.jpeg
        _assert_clean(web.jpeg)


@pytest.mark.parametrize(("width", "height"), [(9000, 9000), (100_000, 100_000), (20_000, 10)])
def test_huge_dimensions_are_refused_from_the_header(width, height):
    # The file holds almost no pixels: had it been decoded, the error would say "damaged".
    with pytest.raises(ImageRejected) as error:
        image_open_checked(io.BytesIO(images.png_header_only(width, height)))
    assert "far too large" in str(error.value) or f"{width}×{height}" in str(error.value)


def test_truncated_photo_is_reported_as_damaged():
    data = images.truncated_jpeg()
    image_open_checked(io.BytesIO(data))  # the header is fine
    with pytest.raises(ImageRejected, match="damaged or was not uploaded completely"):
        web_images_render(io.BytesIO(data))


def test_a_cut_off_png_screenshot_is_reported_as_damaged():
    data = images.encoded("PNG", images.two_tone(1200, 900))
    with pytest.raises(ImageRejected, match="damaged or was not uploaded completely"):
        web_images_render(io.BytesIO(data[: len(data) // 2]))


def test_a_transparent_screenshot_with_a_wide_gamut_profile_keeps_its_colours():
    from PIL import Image

    # Phone and Mac screenshots carry a wide-gamut profile (Display P3): their colours are read
    # through it, with or without transparency.
    profile = images.swapped_primaries_profile()
    opaque = Image.new("RGB", (400, 200), (40, 160, 60))
    transparent = opaque.convert("RGBA")
    colours = []
    for image in (opaque, transparent):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", icc_profile=profile)
        large = next(
            render for render in web_images_render(io.BytesIO(buffer.getvalue())) if render.name == "large"
        )
        colours.append(Image.open(io.BytesIO(large.jpeg)).convert("RGB").getpixel((200, 100)))
    assert colours[0] != (40, 160, 60)  # the profile was applied
    assert all(abs(a - b) <= 3 for a, b in zip(colours[0], colours[1], strict=True)), colours


@pytest.mark.parametrize(
    "data",
    [images.PDF, b"just some text", images.HTML, b"", images.encoded("GIF"), images.encoded("BMP")],
    ids=["pdf-renamed", "text", "html", "empty", "gif", "bmp"],
)
def test_files_that_are_not_accepted_photos_get_a_clear_message(data):
    with pytest.raises(ImageRejected, match="not a photo we can read: send JPEG, PNG, WebP or iPhone HEIC"):
        image_open_checked(io.BytesIO(data))


def test_refusals_in_french():
    from django.utils import translation

    with (
        translation.override("fr"),
        pytest.raises(ImageRejected, match="n’est pas une photo que nous pouvons lire"),
    ):
        image_open_checked(io.BytesIO(images.PDF))
