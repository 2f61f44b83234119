"""Canary rollouts by replicas: the split, the steps, and the analysis that judges them.

::

    replicas   how many replicas the stable and the canary workload run at a weight
    steps      where a rollout is (step, phase, measurements) and what it does next
    analysis   a measurement's verdict from a query's result, and an analysis' outcome
    prometheus one instant query over Prometheus' HTTP API, as a measurement
"""
