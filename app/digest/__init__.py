"""The digest mailed to the bureau office: periods, figures, schedule and sending."""
