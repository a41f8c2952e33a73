"""The bureau's own items (局长信箱): sent straight to it or handed up by a school, and the
masked copy it may forward to the school."""
