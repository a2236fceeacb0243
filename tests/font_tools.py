"""Which characters the fonts embedded in a PDF can really draw: read with pypdf and fontTools.

Text extraction is not enough: a name printed as empty boxes still extracts fine, because WeasyPrint writes
each character into the PDF's /ToUnicode map whatever glyph it drew. So this module looks at the glyphs.

WeasyPrint 70 embeds every font as a Type0 font whose descendant is a CIDFont with /CIDToGIDMap /Identity (the
codes in the page are glyph ids), subset by HarfBuzz with the glyph ids kept: TrueType outlines come as
/FontFile2, CFF ones (Noto CJK) as /FontFile3 /OpenType. The subset keeps a `cmap`, but only for glyph ids below
the highest one drawn, and the glyphs not drawn are left empty; the /ToUnicode map lists exactly the glyphs
drawn, with the text each one stands for. A character with no glyph in any installed font is drawn with a glyph
id past the end of the font (WeasyPrint's "unused glyph id", shown as the .notdef box) or with glyph 0.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field

from fontTools.ttLib import TTFont
from pypdf import PdfReader


@dataclass
class EmbeddedFont:
    base_font: str  # "ABCDEF+Noto-Sans-CJK-SC"
    family: str  # /FontDescriptor /FontFamily, as Pango named it: "Noto Sans CJK SC"
    font: TTFont
    #: glyph id -> the text it stands for, for every glyph drawn with this font
    to_unicode: dict[int, str] = field(default_factory=dict)

    @property
    def glyph_count(self) -> int:
        return len(self.font.getGlyphOrder())

    def has_outline(self, gid: int) -> bool:
        """Whether glyph `gid` exists in the embedded font and draws something (not .notdef, not emptied)."""
        if gid <= 0 or gid >= self.glyph_count:
            return False
        name = self.font.getGlyphOrder()[gid]
        if "glyf" in self.font:
            glyph = self.font["glyf"][name]
            return glyph.numberOfContours != 0
        if "CFF " in self.font:
            charstrings = self.font["CFF "].cff.topDictIndex[0].CharStrings
            return charstrings[name].calcBounds(charstrings) is not None
        if "CFF2" in self.font:
            charstrings = self.font["CFF2"].cff.topDictIndex[0].CharStrings
            return charstrings[name].calcBounds(charstrings) is not None
        raise AssertionError(f"{self.base_font}: neither glyf nor CFF outlines")

    def cmap_glyph(self, char: str) -> int | None:
        """The glyph id the font's own cmap gives the character, when it has an outline."""
        cmap = self.font.getBestCmap() or {}
        name = cmap.get(ord(char))
        if name is None:
            return None
        gid = self.font.getGlyphID(name)
        return gid if self.has_outline(gid) else None

    def drawn_for(self, char: str) -> dict[int, bool]:
        """Every glyph drawn for text containing `char`, with whether it is a real glyph."""
        return {gid: self.has_outline(gid) for gid, text in self.to_unicode.items() if char in text}


def _to_unicode(data: bytes) -> dict[int, str]:
    """Parses a ToUnicode CMap's bfchar and bfrange entries (what WeasyPrint writes: bfchar only)."""

    def text(hex_string: bytes) -> str:
        return bytes.fromhex(hex_string.decode()).decode("utf-16-be")

    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, value in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            mapping[int(code, 16)] = text(value)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for first, last, value in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(value, 16)
            for offset, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def embedded_fonts(pdf: bytes) -> list[EmbeddedFont]:
    """Every font embedded in the PDF, read by fontTools, with its /ToUnicode map."""
    fonts, seen = [], set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else {}
        for reference in (resources.get("/Font") or {}).values():
            if getattr(reference, "idnum", None) in seen:
                continue
            seen.add(getattr(reference, "idnum", None))
            font = reference.get_object()
            assert font["/Subtype"] == "/Type0", f"unexpected font type {font['/Subtype']} ({font['/BaseFont']})"
            to_unicode = _to_unicode(font["/ToUnicode"].get_object().get_data()) if "/ToUnicode" in font else {}
            for descendant in font["/DescendantFonts"]:
                descendant = descendant.get_object()
                assert descendant.get("/CIDToGIDMap", "/Identity") == "/Identity", "glyph ids are not the codes"
                descriptor = descendant["/FontDescriptor"].get_object()
                stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
                assert stream is not None, f"{font['/BaseFont']} is not embedded"
                fonts.append(
                    EmbeddedFont(
                        base_font=str(font["/BaseFont"]).lstrip("/"),
                        family=str(descriptor.get("/FontFamily", "")),
                        font=TTFont(io.BytesIO(stream.get_object().get_data())),
                        to_unicode=to_unicode,
                    )
                )
    return fonts


@dataclass
class Coverage:
    #: character -> the families that draw it with a real glyph
    drawn_by: dict[str, set[str]]
    #: characters with no real glyph in any embedded font
    missing: set[str]
    #: characters some glyph of which was drawn as .notdef or an empty box
    boxes: dict[str, set[str]]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.boxes


def coverage(pdf: bytes, text: str, fonts: list[EmbeddedFont] | None = None) -> Coverage:
    """For each character of `text` but spaces and marks of direction: is it drawn with a real glyph?

    A character counts as covered when an embedded font's cmap maps it to a glyph with an outline, or (where the
    glyph drawn is a contextual form, as in joined Arabic) a glyph with an outline is mapped to it by /ToUnicode.
    And no glyph drawn for it anywhere may be a box: .notdef, an empty glyph or an id past the font's end.
    """
    fonts = embedded_fonts(pdf) if fonts is None else fonts
    drawn_by, missing, boxes = {}, set(), {}
    for char in dict.fromkeys(text):
        if char.isspace() or unicodedata.category(char) in ("Cf", "Zs"):
            continue
        families = set()
        for font in fonts:
            drawn = font.drawn_for(char)
            if font.cmap_glyph(char) is not None or any(drawn.values()):
                families.add(font.family)
            if not all(drawn.values()):
                boxes.setdefault(char, set()).add(font.family)
        drawn_by[char] = families
        if not families:
            missing.add(char)
    return Coverage(drawn_by=drawn_by, missing=missing, boxes=boxes)


def families_for(pdf: bytes, text: str) -> set[str]:
    """The families whose glyphs draw `text` (for reports and sanity checks)."""
    return set().union(*coverage(pdf, text).drawn_by.values())


def contextual_forms(pdf: bytes, text: str) -> int:
    """How many glyphs drawn for letters of `text` are not the letter's own (isolated) glyph: joined forms."""
    count = 0
    for font in embedded_fonts(pdf):
        cmap = font.font.getBestCmap() or {}
        for gid, mapped in font.to_unicode.items():
            if len(mapped) == 1 and mapped in text and not mapped.isspace():
                nominal = cmap.get(ord(mapped))
                if nominal is None or font.font.getGlyphID(nominal) != gid:
                    count += 1
    return count


# ---- where each glyph is drawn: for the order of right-to-left text ----


@dataclass
class PlacedGlyph:
    page: int
    x: float  # left edge, in PDF points from the page's left
    y: float  # baseline, in points
    text: str  # what /ToUnicode says it stands for


def _widths(descendant) -> dict[int, float]:
    """A CIDFont's /W array: `c [w1 w2 ...]` or `c_first c_last w`."""
    widths, entries, i = {}, [e.get_object() for e in descendant.get("/W", [])], 0
    while i < len(entries):
        first = int(entries[i])
        if isinstance(entries[i + 1], list):
            for offset, width in enumerate(entries[i + 1]):
                widths[first + offset] = float(width)
            i += 2
        else:
            for code in range(first, int(entries[i + 1]) + 1):
                widths[code] = float(entries[i + 2])
            i += 3
    return widths


def _multiply(m, n):
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def placed_glyphs(pdf: bytes) -> list[PlacedGlyph]:
    """Every glyph drawn on every page, with its position, following the content streams and form XObjects."""
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    glyphs: list[PlacedGlyph] = []
    font_cache: dict = {}

    def font_info(reference):
        key = getattr(reference, "idnum", id(reference))
        if key not in font_cache:
            font = reference.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            to_unicode = _to_unicode(font["/ToUnicode"].get_object().get_data()) if "/ToUnicode" in font else {}
            font_cache[key] = (to_unicode, _widths(descendant), float(descendant.get("/DW", 1000)))
        return font_cache[key]

    def run(page_number, stream, resources, ctm):
        resources = resources.get_object() if resources is not None else {}
        fonts = resources.get("/Font") or {}
        xobjects = resources.get("/XObject") or {}
        stack, tm, font, size, char_spacing, scaling = [], (1, 0, 0, 1, 0, 0), None, 1.0, 0.0, 1.0
        for operands, operator in ContentStream(stream, reader).operations:
            if operator == b"q":
                stack.append(ctm)
            elif operator == b"Q":
                ctm = stack.pop()
            elif operator == b"cm":
                ctm = _multiply(tuple(float(v) for v in operands), ctm)
            elif operator == b"BT":
                tm = (1, 0, 0, 1, 0, 0)
            elif operator == b"Tm":
                tm = tuple(float(v) for v in operands)
            elif operator == b"Td":
                tm = _multiply((1, 0, 0, 1, float(operands[0]), float(operands[1])), tm)
            elif operator == b"Tf":
                font, size = font_info(fonts[operands[0]]), float(operands[1])
            elif operator == b"Tc":
                char_spacing = float(operands[0])
            elif operator == b"Tz":
                scaling = float(operands[0]) / 100
            elif operator in (b"TJ", b"Tj"):
                items = operands[0] if operator == b"TJ" else [operands[0]]
                to_unicode, widths, default_width = font
                for item in items:
                    if isinstance(item, (int, float)) or hasattr(item, "as_numeric"):
                        tm = _multiply((1, 0, 0, 1, -float(item) / 1000 * size * scaling, 0), tm)
                        continue
                    data = bytes(item.original_bytes if hasattr(item, "original_bytes") else item)
                    for i in range(0, len(data) - 1, 2):
                        code = int.from_bytes(data[i : i + 2], "big")
                        x, y = _multiply(tm, ctm)[4:]
                        glyphs.append(PlacedGlyph(page_number, round(x, 2), round(y, 2), to_unicode.get(code, "")))
                        advance = (widths.get(code, default_width) / 1000 * size + char_spacing) * scaling
                        tm = _multiply((1, 0, 0, 1, advance, 0), tm)
            elif operator == b"Do":
                xobject = xobjects[operands[0]].get_object()
                if xobject.get("/Subtype") == "/Form":
                    matrix = tuple(float(v) for v in xobject.get("/Matrix", (1, 0, 0, 1, 0, 0)))
                    run(page_number, xobject, xobject.get("/Resources") or resources, _multiply(matrix, ctm))

    for number, page in enumerate(reader.pages):
        run(number, page.get_contents(), page.get("/Resources"), (1, 0, 0, 1, 0, 0))
    return glyphs


def _is_rtl(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("R", "AL")


def right_to_left_lines(pdf: bytes, text: str) -> list[str]:
    """Each line of the PDF holding right-to-left letters of `text`, read from right to left by glyph position.

    A correctly laid out right-to-left name reads back as the name itself (spaces left out); one whose letters were
    placed left to right reads back reversed.
    """
    letters = {c for c in text if _is_rtl(c)}
    lines: dict[tuple[int, float], list[PlacedGlyph]] = {}
    for glyph in placed_glyphs(pdf):
        if glyph.text and all(c in letters for c in glyph.text):
            lines.setdefault((glyph.page, round(glyph.y)), []).append(glyph)
    return ["".join(g.text for g in sorted(line, key=lambda g: -g.x)) for line in lines.values()]
