"""Making documents: the WeasyPrint renderer (pdf) and its trimmed stylesheet (weasyprint_ua), QR codes (qr),
concatenating PDFs for bulk downloads (pdf_concat) and the stored copies of a delegate's badge and certificate
(stored_pdfs). Features call these tools; the tools never call a feature."""
