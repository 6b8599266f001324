"""dlstudy's fork launcher: a sweep's jobs side by side, in processes forked from the sweep's own (Linux)."""
