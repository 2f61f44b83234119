"""hakobu: GitOps delivery for Kubernetes. Git holds the truth; hakobu carries it to clusters."""

__version__ = "0.1.0"
