"""Suggestions in: the public form, the JSON API, receipts and uploads."""
