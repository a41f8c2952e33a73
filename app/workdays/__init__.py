"""Working-day arithmetic on China's official calendar (see service.py)."""
