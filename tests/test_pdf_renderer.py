"""The shared WeasyPrint renderer: stylesheets parsed once per process, and a user-agent stylesheet that WeasyPrint
really uses, without losing what our PDFs need from it."""
from attendance import pdf
from pdf_tools import A6_POINTS, page_sizes, pdf_text


def test_a_linked_stylesheet_is_parsed_once_and_still_applies(app, make_session, make_registration, monkeypatch):
    parsed = []

    class CountingCSS(pdf.CSS):
        def __init__(self, *args, **kwargs):
            parsed.append(kwargs.get("filename"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pdf, "CSS", CountingCSS)
    monkeypatch.setattr(pdf, "_stylesheets", {})
    meeting = make_session()
    first, second = (make_registration(meeting) for _ in range(2))
    with app.test_request_context():
        documents = [pdf.render_pdf("badges/badge.html", badges=[{"registration": r, "country": "Belgium",
                                                                   "qr": ""}], sheet=False)
                     for r in (first, second)]
    assert [path.rsplit("/", 1)[1] for path in parsed] == ["badge.css"]
    for document in documents:
        assert page_sizes(document) == [A6_POINTS]  # `@page { size: A6 }` comes from badge.css


def test_weasyprint_uses_our_user_agent_stylesheet_and_lists_keep_their_markers(app, monkeypatch):
    calls = []
    original = pdf._HTML._ua_stylesheets

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pdf._HTML, "_ua_stylesheets", spy)
    with app.test_request_context():
        document = pdf.html_to_pdf("<html><body><h1>Reasons</h1><ul><li>first</li><li>second</li></ul></body></html>")
    assert calls, "WeasyPrint no longer asks for the user-agent stylesheet this way: the override does nothing"
    text = pdf_text(document)
    assert "Reasons" in text and text.count("•") == 2
