"""Content-addressed image tags from git trees, the base-image graph and the build plan."""
