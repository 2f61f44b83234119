"""Per-kind health assessment of live objects (pure)."""
