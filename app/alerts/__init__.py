"""Urgent items (紧急): flagged at intake, pinned atop the queue, alerted to duty addresses."""
