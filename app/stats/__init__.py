"""Statistics: the admin dashboard, the public transparency page and the counting API."""
