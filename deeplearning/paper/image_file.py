"""Open an image file safely: its size checked from the header before anything is decoded.

Pillow reads the header alone first, so that a decompression bomb (a small file that decodes
to billions of pixels) is refused in a millisecond, and a JPEG is decoded straight at the
scale it is read at (a 12-megapixel photo at half its size, faster). A
truncated or damaged file is an error naming it, never a half-grey page.
"""

import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from deeplearning.core.errors import InputError

# Larger images are refused unread: a 64-megapixel phone photo is read, a bomb is not.
MAX_PIXELS = 64_000_000


class ImageFileError(InputError):
    """An image file that cannot be read: not an image, damaged, or too large."""


def load_rgb(path, longest=None):
    """The image in `path` as uint8 RGB (height, width, 3), upright as its EXIF says,
    transparency laid on white paper, and the scale it was decoded at. With `longest`, a JPEG
    is decoded at the smallest of its reduced scales whose longer side is still at least
    `longest` px (the caller resizes): the scale is then under 1."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageFileError(
                        f"{path}: {width} x {height} pixels, more than the "
                        f"{MAX_PIXELS // 1_000_000} megapixels that are read"
                    )
                if longest is not None and max(width, height) > longest:
                    ratio = longest / max(width, height)
                    image.draft("RGB", (round(width * ratio), round(height * ratio)))
                scale = image.size[0] / width
                return np.asarray(_on_white(ImageOps.exif_transpose(image))), scale
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageFileError(
            f"{path}: more than the {MAX_PIXELS // 1_000_000} megapixels that are read"
        ) from None
    except UnidentifiedImageError:
        raise ImageFileError(f"{path}: not an image file (or of a kind that is not read)") from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's kinds for a damaged file
        raise ImageFileError(f"{path}: the image cannot be read ({error})") from None


def _on_white(image):
    """An RGB copy of the image, any transparency laid on white (paper, not black)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
        paper = Image.new("RGBA", image.size, "white")
        return Image.alpha_composite(paper, image).convert("RGB")
    return image.convert("RGB")
