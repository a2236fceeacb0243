"""Concatenating PDFs page by page into an output stream, holding one input at a time.

pypdf's PdfWriter keeps every appended page's objects until it writes the file, so merging N documents costs
memory in proportion to N. Here each input's pages, and everything they reference, are renumbered and written
out as soon as the input is added; what stays in memory is one object number and one byte offset per object
written. The page tree, the catalog, the cross-reference table and the trailer come at the end.

Inputs are read with pypdf in strict mode: only what the pages reference is carried over (contents, resources,
fonts, images, annotations), not each input's outline or document-level names.
"""
from __future__ import annotations

import io
import secrets
from collections import deque
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import BinaryIO, TypeVar

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, PdfObject, StreamObject

CATALOG, PAGES = 1, 2  # object numbers reserved for the objects written last

T = TypeVar("T")


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last may be shorter): the documents a long PDF is laid out in, one at a time,
    before they are concatenated. (itertools.batched, from Python 3.12.)"""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class PdfConcatenator:
    """`add` each PDF in order, then `close`: the pages of all of them, in order, as one PDF written to `out`."""

    def __init__(self, out: BinaryIO):
        self._out = out
        self._offset = 0
        self._offsets: dict[int, int] = {}  # object number -> byte offset, for the cross-reference table
        self._next_number = PAGES + 1
        self._pages: list[int] = []  # object numbers of the pages, in order
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")  # binary comment: the file is not text

    def add(self, pdf: bytes) -> int:
        """Writes every page of `pdf` and all it references; returns the number of pages added."""
        # Closed at the end: that empties its cache of parsed objects, which refer back to the reader; left to the
        # garbage collector, each input's objects (its page streams and fonts) outlived it until a full collection.
        with PdfReader(io.BytesIO(pdf), strict=True) as reader:
            numbers: dict[tuple[int, int], int] = {}  # this input's (number, generation) -> number in the output
            queue: deque[tuple[int, PdfObject]] = deque()

            def number_for(reference: IndirectObject) -> int:
                key = (reference.idnum, reference.generation)
                if key not in numbers:
                    numbers[key] = self._allocate()
                    queue.append((numbers[key], reference.get_object()))
                return numbers[key]

            pages = list(reader.pages)  # flattened: inherited resources and boxes are copied into each page
            for page in pages:  # numbered first, so that a reference back to a page (an annotation's /P) finds it
                self._pages.append(number_for(page.indirect_reference))
            while queue:
                number, obj = queue.popleft()
                if isinstance(obj, DictionaryObject) and obj.get("/Type") == "/Page":
                    obj = DictionaryObject({key: value for key, value in obj.items() if key != "/Parent"})
                    obj[NameObject("/Parent")] = _Raw(b"%d 0 R" % PAGES)
                body = io.BytesIO()
                _serialise(obj, body, number_for)
                self._write_object(number, body.getvalue())
        return len(pages)

    def close(self) -> None:
        """Writes the page tree, the catalog, the cross-reference table and the trailer."""
        kids = b" ".join(b"%d 0 R" % number for number in self._pages)
        self._write_object(PAGES, b"<< /Type /Pages /Kids [ %s ] /Count %d >>" % (kids, len(self._pages)))
        self._write_object(CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % PAGES)
        xref_offset, size = self._offset, self._next_number
        lines = [b"xref\n0 %d\n" % size, b"0000000000 65535 f \n"]
        lines += [b"%010d 00000 n \n" % self._offsets[number] for number in range(1, size)]
        file_id = secrets.token_hex(16).encode()
        lines.append(b"trailer\n<< /Size %d /Root %d 0 R /ID [ <%s> <%s> ] >>\nstartxref\n%d\n%%%%EOF\n"
                     % (size, CATALOG, file_id, file_id, xref_offset))
        self._write(b"".join(lines))

    def _allocate(self) -> int:
        number = self._next_number
        self._next_number += 1
        return number

    def _write_object(self, number: int, body: bytes) -> None:
        self._offsets[number] = self._offset
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._offset += len(data)


class _Raw(PdfObject):
    """PDF syntax written as it is: a reference to an object of the output rather than of an input."""

    def __init__(self, syntax: bytes):
        self.syntax = syntax

    def write_to_stream(self, stream, encryption_key=None) -> None:
        stream.write(self.syntax)


def _serialise(obj: PdfObject, out: io.BytesIO, number_for) -> None:
    """Writes `obj` as PDF syntax, each indirect reference replaced by its number in the output."""
    if isinstance(obj, IndirectObject):
        out.write(b"%d 0 R" % number_for(obj))
    elif isinstance(obj, DictionaryObject):
        # A stream's bytes as stored, still encoded (get_data() would decode them): what pypdf's writer writes too
        data = obj._data if isinstance(obj, StreamObject) else None
        out.write(b"<<")
        for key, value in obj.items():
            if data is not None and key == "/Length":
                continue
            out.write(b" ")
            out.write(_name(key))
            out.write(b" ")
            _serialise(value, out, number_for)
        if data is not None:
            out.write(b" /Length %d >>\nstream\n" % len(data))
            out.write(data)
            out.write(b"\nendstream")
        else:
            out.write(b" >>")
    elif isinstance(obj, ArrayObject):
        out.write(b"[")
        for item in obj:
            out.write(b" ")
            _serialise(item, out, number_for)
        out.write(b" ]")
    elif isinstance(obj, NameObject):
        out.write(_name(obj))
    else:
        obj.write_to_stream(out)


@lru_cache(maxsize=1024)
def _name(name: NameObject) -> bytes:
    """A name as PDF syntax: pypdf escapes it character by character, and the same few names recur on every page."""
    return name.renumber()
