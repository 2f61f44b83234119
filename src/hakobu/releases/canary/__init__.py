"""Canary rollouts, by replicas or through a traffic router, and blue-green rollouts:
the split, the steps, the stages, and the analysis that judges them.

::

    replicas   how many replicas the stable and the canary workload run at a weight
    steps      where a rollout is (step, phase, measurements) and what it does next
    analysis   a measurement's verdict from a query's result, and an analysis' outcome
    prometheus one instant query over Prometheus' HTTP API, as a measurement
    web        one HTTP check, as a measurement (providers picks it or prometheus)
    background analyses measured across steps, aborting at any step
    traffic    the canary's weight on a Gateway API HTTPRoute or an ingress-nginx Ingress
    surge      how far a pass moves the replicas within maxSurge and maxUnavailable
    bluegreen  blue-green: a preview beside the running version, Services switched
    strategy   which of the two runs a Deployment's rollout
    schedule   when a rollout next needs a pass
    driver     `hakobu rollout run`: a rollout advanced until it comes to rest
    revert     the commit that makes git describe the stable version again
"""
