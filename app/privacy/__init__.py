"""Personal data: the data keys' commands, named senders' rights and the privacy notice."""
