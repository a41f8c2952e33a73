"""Retention: identities removed and receipts archived a bureau's set days after closing."""
