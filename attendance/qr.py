"""QR codes: inline SVG for pages, and for PDFs a one-pixel-per-module PNG that is printed without smoothing."""
from functools import lru_cache

import segno
from markupsafe import Markup


def qr_svg(data: str, *, title: str = "QR code", scale: int = 4) -> Markup:
    code = segno.make(data, error="m")
    # omitsize + a viewBox lets CSS size the code; segno escapes the title.
    return Markup(code.svg_inline(scale=scale, border=4, title=title, omitsize=True, svgclass="qr"))


#: The mask of the QR codes made with `fixed_mask=True`: for our verification URLs (version 4, level M) the one
#: that the penalty rules choose most often (42 % of 300 random ids).
FIXED_MASK = 2


@lru_cache(maxsize=4096)
def qr_png_uri(data: str, *, fixed_mask: bool = False) -> str:
    """For WeasyPrint: drawn with `image-rendering: pixelated`, each module stays a sharp square at any size,
    and the PDF embeds a few hundred bytes instead of a path WeasyPrint takes ~13 ms to parse and draw.

    Remembered (a few hundred bytes each): making the code costs ~4 ms, half of serving a stored badge. Of that,
    ~3.8 ms is segno trying all eight masks and scoring each by the standard's penalty rules; `fixed_mask` skips
    that (~1 ms in all), for certificates, thousands of which a bulk export makes. Any mask is valid to every
    reader; the penalty only avoids patterns that might confuse one. zxing-cpp read degraded (noisy, blurred,
    half-size) renderings of 300 certificate codes about as often with FIXED_MASK as with the best mask (blur:
    227 and 222 of 300; noise: 190 and 208). Badges, scanned at a busy door, keep the best mask."""
    code = segno.make(data, error="m", mask=FIXED_MASK if fixed_mask else None)
    return code.png_data_uri(scale=1, border=4)
