"""Printable and downloadable documents: QR codes, PDFs and spreadsheet exports."""
