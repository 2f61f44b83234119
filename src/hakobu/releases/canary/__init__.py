"""Canary rollouts, by replicas or through a traffic router: the split, the steps, and
the analysis that judges them.

::

    replicas   how many replicas the stable and the canary workload run at a weight
    steps      where a rollout is (step, phase, measurements) and what it does next
    analysis   a measurement's verdict from a query's result, and an analysis' outcome
    prometheus one instant query over Prometheus' HTTP API, as a measurement
    web        one HTTP check, as a measurement (providers picks it or prometheus)
    background analyses measured across steps, aborting at any step
    traffic    the canary's weight on a Gateway API HTTPRoute or an ingress-nginx Ingress
"""
