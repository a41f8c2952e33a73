"""The outbox of acknowledgement and reply mails, and the worker that sends it."""
