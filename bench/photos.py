"""Photos processed per second by one worker, on 12-megapixel phone JPEGs.

Beside it, in the same run, plain Pillow doing the same job the obvious way with its defaults
(decode in full, turn upright, resize each web size from the full image, encode WebP and JPEG at
the same qualities). Prints both, the ratio, and the bytes each writes per photo. Run: .venv/bin/python bench/photos.py [photos] [rounds]
"""

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealership.settings.test")

import django  # noqa: E402

django.setup()

from PIL import ExifTags, Image, ImageOps  # noqa: E402

from inventory.imaging import JPEG_QUALITY, WEB_SIZES, WEBP_QUALITY, web_images_render  # noqa: E402


def phone_jpeg(seed: int) -> bytes:
    """4000×3000, sensor-like noise over a gradient, stored sideways with an orientation tag."""
    noise = Image.effect_noise((4000, 3000), 40 + seed)
    gradient = Image.linear_gradient("L").resize((4000, 3000))
    image = Image.merge("RGB", (noise, gradient, Image.blend(noise, gradient, 0.5)))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def plain_pillow(data: bytes) -> int:
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    written = 0
    for long_side in WEB_SIZES.values():
        resized = image.copy()
        resized.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        for format, options in (
            ("WEBP", {"quality": WEBP_QUALITY, "method": 4}),
            ("JPEG", {"quality": JPEG_QUALITY}),
        ):
            out = io.BytesIO()
            resized.save(out, format, **options)
            written += out.tell()
    return written


def ours(data: bytes) -> int:
    return sum(len(web.webp) + len(web.jpeg) for web in web_images_render(io.BytesIO(data)))


def rate(process, photos: list[bytes]) -> tuple[float, int]:
    started = time.perf_counter()
    written = sum(process(data) for data in photos)
    return len(photos) / (time.perf_counter() - started), written // len(photos)


def main(count: int = 4, rounds: int = 3) -> None:
    photos = [phone_jpeg(seed) for seed in range(count)]
    size_mb = sum(map(len, photos)) / len(photos) / 1e6
    print(f"{count} phone JPEGs of 4000×3000 ({size_mb:.1f} MB each), {rounds} rounds, best round kept")
    best_plain = best_ours = (0.0, 0)
    for _ in range(rounds):  # interleaved, so both see the same machine
        best_plain = max(best_plain, rate(plain_pillow, photos))
        best_ours = max(best_ours, rate(ours, photos))
    (best_plain, plain_bytes), (best_ours, our_bytes) = best_plain, best_ours
    print(
        f"plain Pillow : {best_plain:6.2f} photos/s per worker, {plain_bytes / 1e3:7.0f} kB written per photo"
    )
    print(f"inventory    : {best_ours:6.2f} photos/s per worker, {our_bytes / 1e3:7.0f} kB written per photo")
    print(f"ratio        : {best_ours / best_plain:6.2f}× plain Pillow")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
