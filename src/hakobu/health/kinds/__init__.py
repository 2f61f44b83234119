"""Health checks per family of kinds; ``hakobu.health.assess`` picks one by group and kind."""
