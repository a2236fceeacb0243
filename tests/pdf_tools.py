"""Reading our PDFs as a person and a scanner would: their text, their pages, and the QR codes printed on them."""
import io
import subprocess
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image
from pypdf import PdfReader

A6_POINTS = (297.6, 419.5)
A4_POINTS = (595.3, 841.9)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [(round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
            for p in PdfReader(io.BytesIO(pdf)).pages]


def qr_codes(pdf: bytes, dpi: int = 200) -> list[str]:
    """Renders every page with poppler and decodes every QR code on it with zxing-cpp."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(Path(folder) / "page")], check=True)
        texts = []
        for image_path in sorted(Path(folder).glob("page*.png")):
            with Image.open(image_path) as image:
                texts += [code.text for code in zxingcpp.read_barcodes(image.convert("L"))
                          if code.format == zxingcpp.BarcodeFormat.QRCode]
        return texts
