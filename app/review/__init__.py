"""The review queue and acting on its items: filters, status, assignment, replies, exports."""
