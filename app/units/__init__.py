"""Bureaus and units (schools), and the demo data."""
