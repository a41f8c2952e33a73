"""Mail adapters: parsing inbound mail, composing replies, IMAP fetching and SMTP sending.

Nothing here reads configuration or touches the database: callers pass explicit parameters.
"""
