"""Email intake: mailboxes, the IMAP poller and turning mail into submissions."""
