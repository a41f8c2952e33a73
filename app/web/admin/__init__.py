"""Admin pages: login, accounts, the review queue and the campaign tools."""
