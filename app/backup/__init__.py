"""Backups and restores of the whole database."""
