"""QR codes as inline SVG: vector, so they stay sharp on screen and in print."""
import segno
from markupsafe import Markup


def qr_svg(data: str, *, title: str = "QR code", scale: int = 4) -> Markup:
    code = segno.make(data, error="m")
    # omitsize + a viewBox lets CSS size the code; segno escapes the title.
    return Markup(code.svg_inline(scale=scale, border=4, title=title, omitsize=True, svgclass="qr"))
