"""QR codes: certificates skip the search for the best mask, badges keep it; badge tokens are written in alphanumeric
mode with the strongest error correction their size allows; the inline SVG reads back and has no element ids."""

import base64
import io

import zxingcpp
from pdf_tools import qr_codes
from PIL import Image
from weasyprint import HTML

from attendance.documents.qr import FIXED_MASK, qr_png_uri, qr_svg
from attendance.tokens import new_badge_token

URL = "https://attendance.example.org/verify/09AA670B93816B1F270261F5"


def read(uri: str) -> list[zxingcpp.Barcode]:
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("L")
    image = image.resize((image.width * 8, image.height * 8), Image.NEAREST)
    return zxingcpp.read_barcodes(image)


def test_a_certificate_code_has_the_fixed_mask_and_a_badge_code_the_best_one():
    [fixed] = read(qr_png_uri(URL, fixed_mask=True))
    [best] = read(qr_png_uri(URL))
    assert fixed.text == best.text == URL
    assert fixed.extra["DataMask"] == FIXED_MASK
    assert best.extra["DataMask"] != FIXED_MASK  # this URL's best mask is another one, so the two calls differ
    assert fixed.extra["ECLevel"] == best.extra["ECLevel"] == "M"  # a level Q code would need version 5


def test_a_badge_token_is_alphanumeric_in_a_25_module_code_at_level_q():
    """26 characters of 0-9A-Z fit version 2 at level Q in alphanumeric mode; in byte mode they would need
    version 3 even at level M. The same code segno made before us (it raised M to Q as well)."""
    token = new_badge_token()
    [code] = read(qr_png_uri(token))
    assert code.text == token
    assert code.extra["Version"] == "2" and code.extra["ECLevel"] == "Q"
    assert code.content_type == zxingcpp.ContentType.Text


def test_inline_svg_codes_read_back_and_many_can_share_a_page():
    tokens = [new_badge_token() for _ in range(3)]
    svgs = [qr_svg(token, title='Badge <"x">') for token in tokens]
    assert all(" id=" not in svg for svg in svgs)  # no ids: nothing to collide when several share a page
    assert all("<title>Badge &lt;&#34;x&#34;&gt;</title>" in svg for svg in svgs)
    page = "<style>svg { width: 40mm; height: 40mm; display: block; }</style>" + "".join(svgs)
    assert sorted(qr_codes(HTML(string=page).write_pdf())) == sorted(tokens)
