"""The audit log of admin actions and its admin page."""
