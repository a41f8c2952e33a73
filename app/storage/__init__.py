"""The write path: group-commit writers (thread, event loop, process) that store submissions."""
