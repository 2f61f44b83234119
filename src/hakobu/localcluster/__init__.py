"""The embedded local control plane: build pinned binaries once, run them on 127.0.0.1."""
