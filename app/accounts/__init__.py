"""Admin accounts: passwords, login sessions, users, and what each admin may see."""
