"""Business logic. No FastAPI here: callers are routers, the CLI and worker jobs."""
