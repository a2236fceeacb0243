"""QR codes for PDFs: certificates skip segno's search for the best mask, badges keep it; both read back."""
import base64
import io

import segno
import zxingcpp
from PIL import Image

from attendance.qr import FIXED_MASK, qr_png_uri

URL = "https://attendance.example.org/verify/09AA670B93816B1F270261F6"


def decoded(uri: str) -> list[str]:
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("L")
    image = image.resize((image.width * 8, image.height * 8), Image.NEAREST)
    return [code.text for code in zxingcpp.read_barcodes(image)]


def test_a_certificate_code_has_the_fixed_mask_and_a_badge_code_the_best_one():
    fixed = segno.make(URL, error="m", mask=FIXED_MASK)
    assert qr_png_uri(URL, fixed_mask=True) == fixed.png_data_uri(scale=1, border=4)
    best = segno.make(URL, error="m")
    assert best.mask != FIXED_MASK  # this URL's best mask is another one, so the two calls differ
    assert qr_png_uri(URL) == best.png_data_uri(scale=1, border=4)


def test_both_read_back():
    assert decoded(qr_png_uri(URL, fixed_mask=True)) == [URL]
    assert decoded(qr_png_uri(URL)) == [URL]
