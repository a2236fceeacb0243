"""QR codes: inline SVG for pages, and for PDFs a one-pixel-per-module PNG that is printed without smoothing."""

import base64
import io
from functools import lru_cache

import qrcode
from markupsafe import Markup, escape
from PIL import Image
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M, ERROR_CORRECT_Q

#: The quiet zone the standard asks for, in modules.
BORDER = 4

#: The mask of the QR codes made with `fixed_mask=True`: for our verification URLs (version 4, level M) the one
#: that the penalty rules choose most often (56 of 100 random ids with qrcode, 127 of 300 with segno before it).
FIXED_MASK = 2


def qr_code(data: str, *, fixed_mask: bool = False) -> qrcode.QRCode:
    """The smallest code that holds `data` at level M, with the strongest error correction that still fits that
    size (a badge token fits level Q at the same 25x25 modules: more of it may be scuffed and still read).

    `data` made of 0-9 and A-Z only (a badge token) is written in alphanumeric mode, 5.5 bits a character; qrcode
    chooses the mode per run of characters. Without `fixed_mask`, qrcode tries all eight masks and keeps the one
    the standard's penalty rules prefer."""
    smallest = _fitted(data, ERROR_CORRECT_M)
    for level in (ERROR_CORRECT_H, ERROR_CORRECT_Q):
        stronger = _fitted(data, level)
        if stronger.version == smallest.version:
            smallest = stronger
            break
    smallest.mask_pattern = FIXED_MASK if fixed_mask else None
    smallest.make(fit=False)
    return smallest


def _fitted(data: str, level: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=level, border=BORDER)
    code.add_data(data, optimize=0)  # one mode for the whole text: alphanumeric for a badge token
    code.best_fit()
    return code


def qr_svg(data: str, *, title: str = "QR code") -> Markup:
    """The code as inline SVG sized by CSS (a viewBox, no width or height). It has no element ids, so any number
    of codes can share a page."""
    matrix = qr_code(data).get_matrix()
    runs = []  # each horizontal run of dark modules as one rectangle
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h{start - x}z")
    size = len(matrix)
    return Markup(
        f'<svg viewBox="0 0 {size} {size}" class="qr" role="img" shape-rendering="crispEdges">'
        f'<title>{escape(title)}</title><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


@lru_cache(maxsize=4096)
def qr_png_uri(data: str, *, fixed_mask: bool = False) -> str:
    """For WeasyPrint: drawn with `image-rendering: pixelated`, each module stays a sharp square at any size,
    and the PDF embeds a few hundred bytes instead of a path WeasyPrint takes ~13 ms to parse and draw.

    Remembered (a few hundred bytes each): making the code is most of serving a stored badge, and most of that
    is trying all eight masks and scoring each by the standard's penalty rules; `fixed_mask` skips that, for
    certificates, thousands of which a bulk export makes. Measured interleaved with segno, which made them before
    (40 codes a round, median of 5 rounds, PNG included, on a 2-core machine at load 8, so slow for both): a badge
    token with the best mask 20.9 ms (segno 19.0), a verification URL with the fixed mask 9.5 ms (segno 10.6).
    Any mask is valid to every reader; the penalty only avoids patterns that might confuse one. zxing-cpp read
    degraded (noisy, blurred, half-size) renderings of 300 certificate codes about as often with FIXED_MASK as with
    the best mask (blur: 227 and 222 of 300; noise: 190 and 208). Badges, scanned at a busy door, keep the best
    mask."""
    matrix = qr_code(data, fixed_mask=fixed_mask).get_matrix()
    image = Image.new("1", (len(matrix), len(matrix)))
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    png = io.BytesIO()
    image.save(png, format="PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
