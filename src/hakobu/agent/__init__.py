"""The reconcile loop: follow a branch of a git remote and keep one environment synced.

::

    checkout   the agent's own clone, moved to the branch's newest commit on every fetch
    decide     whether an iteration syncs: generated/<env>/ changed, or an app drifted (pure)
    loop       fetch → (re)read the desired state → observe → sync → record, every interval;
               failures are logged and retried with backoff, never fatal; a failed sync
               is given up on after its retry limit, a difference a sync leaves is
               reported once
    watch      with autoRollback: whether a deployed revision is good or is rolled back (pure)
    memory     the revisions that stayed healthy, marked on the sync records in the cluster
    restore    a rollback deletes what the failed revision added, with or without --prune

It calls the library functions ``hakobu sync`` calls (``read_desired``, ``observe``,
``app_status``, ``sync``, ``write_record``), so whatever it does can be done by hand.
"""

from hakobu.agent.checkout import Checkout
from hakobu.agent.loop import Agent, AgentOptions, Iteration

__all__ = ["Agent", "AgentOptions", "Checkout", "Iteration"]
