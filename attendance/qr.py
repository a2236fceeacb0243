"""QR codes: inline SVG for pages, and for PDFs a one-pixel-per-module PNG that is printed without smoothing."""
from functools import lru_cache

import segno
from markupsafe import Markup


def qr_svg(data: str, *, title: str = "QR code", scale: int = 4) -> Markup:
    code = segno.make(data, error="m")
    # omitsize + a viewBox lets CSS size the code; segno escapes the title.
    return Markup(code.svg_inline(scale=scale, border=4, title=title, omitsize=True, svgclass="qr"))


@lru_cache(maxsize=4096)
def qr_png_uri(data: str) -> str:
    """For WeasyPrint: drawn with `image-rendering: pixelated`, each module stays a sharp square at any size,
    and the PDF embeds a few hundred bytes instead of a path WeasyPrint takes ~13 ms to parse and draw.

    Remembered (a few hundred bytes each): making the code costs ~4 ms, half of serving a stored badge."""
    return segno.make(data, error="m").png_data_uri(scale=1, border=4)
