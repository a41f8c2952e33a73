"""Server-rendered pages: the public intake and, later, the admin."""
