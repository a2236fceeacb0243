"""Reading our PDFs as a person and a scanner would: their text and where it lies, their pages, their images, and
the QR codes printed on them."""

import io
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import zxingcpp
from PIL import Image
from pypdf import PdfReader

A6_POINTS = (297.6, 419.5)
A4_POINTS = (595.3, 841.9)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width), 1), round(float(p.mediabox.height), 1))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


@contextmanager
def _on_disk(pdf: bytes) -> Iterator[Path]:
    """The PDF as a file in a temporary folder, for poppler's tools (which may write beside it)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "doc.pdf"
        source.write_bytes(pdf)
        yield source


def qr_codes(pdf: bytes, dpi: int = 200) -> list[str]:
    """Renders every page with poppler and decodes every QR code on it with zxing-cpp."""
    with _on_disk(pdf) as source:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(source.parent / "page")], check=True)
        texts = []
        for image_path in sorted(source.parent.glob("page*.png")):
            with Image.open(image_path) as image:
                texts += [
                    code.text
                    for code in zxingcpp.read_barcodes(image.convert("L"))
                    if code.format == zxingcpp.BarcodeFormat.QRCode
                ]
        return texts


class Box(NamedTuple):
    """A rectangle on a page in points, from its top-left corner as a reader sees it."""

    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: "Box") -> bool:
        return (
            self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom
        )


def words(pdf: bytes) -> list[list[tuple[str, Box]]]:
    """Per page, each word with the box poppler gives it (its glyphs' advance, its font's ascent and descent)."""
    with _on_disk(pdf) as source:
        xhtml = subprocess.run(["pdftotext", "-bbox", str(source), "-"], check=True, capture_output=True).stdout
    pages = ET.fromstring(xhtml).iter("{http://www.w3.org/1999/xhtml}page")
    return [
        [
            (word.text or "", Box(*(float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))))
            for word in page.iter("{http://www.w3.org/1999/xhtml}word")
        ]
        for page in pages
    ]


def image_boxes(pdf: bytes) -> list[list[Box]]:
    """Per page, where each image is drawn: the unit square through the transformation current at its `Do`."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        height = float(page.mediabox.top)
        xobjects = page["/Resources"].get_object().get("/XObject", {})
        forms = {name for name, xobject in xobjects.items() if xobject.get_object()["/Subtype"] == "/Form"}
        boxes = []

        def before(operator, operands, cm, _tm, boxes=boxes, height=height, forms=forms):
            if operator == b"Do" and operands[0] not in forms:
                xs = (cm[4], cm[4] + cm[0])
                ys = (height - cm[5], height - cm[5] - cm[3])
                boxes.append(Box(min(xs), min(ys), max(xs), max(ys)))

        page.extract_text(visitor_operand_before=before)
        pages.append(boxes)
    return pages


def words_under_images(pdf: bytes) -> list[str]:
    """The words that an image drawn on their page covers, wholly or in part (images are drawn over text)."""
    return [
        text
        for page_words, images in zip(words(pdf), image_boxes(pdf), strict=True)
        for text, box in page_words
        if any(box.overlaps(image) for image in images)
    ]


def words_across_cells(pdf: bytes, cell: tuple[float, float]) -> list[str]:
    """The words that leave their cell, in a grid of `cell`-sized rectangles (width, height in points) laid from
    each page's top-left corner, or leave the page: on a badge sheet, a badge's words that leave their badge."""
    width, height = cell

    def cell_of(x: float, y: float) -> tuple[int, int]:
        return int(x // width), int(y // height)

    return [
        text
        for page_words, (page_width, page_height) in zip(words(pdf), page_sizes(pdf), strict=True)
        for text, box in page_words
        if box.left < 0
        or box.top < 0
        or box.right > page_width
        or box.bottom > page_height
        or cell_of(box.left, box.top) != cell_of(box.right - 0.01, box.bottom - 0.01)
    ]
