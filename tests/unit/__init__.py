"""Pure rules, no processes, no network (fast)."""
