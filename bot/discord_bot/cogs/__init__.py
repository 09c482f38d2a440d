"""One cog per concern: ask, kb, compare, metrics (and score), admin (config, help, about)."""
