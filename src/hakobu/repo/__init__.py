"""Git: commit rendered output, read trees at a revision, history."""
