"""Working-day deadlines of items: answer times, due days, extensions, 督办 and the timeline."""
