"""Concerns (兼涉): every check a letter speaks to, ranked, with the sentences that show each."""
