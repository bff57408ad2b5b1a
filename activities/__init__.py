"""Side effects only (DESIGN §5): each activity is idempotent on (workflow id, key)."""
