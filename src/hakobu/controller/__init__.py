"""The delivery service: Deliveries reconciled by leader-elected, sharded replicas."""
