"""Make a cluster equal to ``generated/<env>/`` at a git revision.

::

    manifests  read generated/<env>/<app>/**.yaml from the work tree or a revision
    observe    read the cluster (inventories, live objects) and plan every app
      sealed     with ``sealedSecrets: hakobu``, SealedSecrets opened into their Secrets
      plan       desired vs live → create / update / unchanged / prune, hooks and waves
      policy     per object: Override / Merge / IfNotPresent / Ignore, and recreate
      ordering   phase → wave → kind → name, one comparison; deletion in reverse
      compare    is a live object what git says, on hakobu's own fields (managedFields)
      prune      which objects may be deleted, and deleting them
    run        execute: PreSync → waves (each waited Healthy) → PostSync → prune;
               SyncFail hooks when a phase fails; one app's failure spares the others
      apply      server-side apply of a wave, namespaces and CRDs first; recreating
                 what the server refuses as immutable, for objects that opt in
      waiting    until objects are Healthy, Suspended or Degraded
      ownership  labels on applied objects, the per-app inventory ConfigMap
    diff       server dry runs shown as unified YAML diffs
    status     Synced / OutOfSync / Drifted and health per app
    record     a ConfigMap per sync that changed something; the history

Errors: ``InvalidInput`` for an unknown environment, revision or app and for bad
annotations; API failures of single objects end up in the app's result, not as exceptions.
"""

from hakobu.sync.diff import ObjectDiff, diff_app
from hakobu.sync.manifests import DesiredState, read_desired
from hakobu.sync.observe import AppState, observe
from hakobu.sync.record import history, write_record
from hakobu.sync.run import AppResult, SyncOptions, SyncResult, sync
from hakobu.sync.status import AppStatus, app_status

__all__ = [
    "AppResult",
    "AppState",
    "AppStatus",
    "DesiredState",
    "ObjectDiff",
    "SyncOptions",
    "SyncResult",
    "app_status",
    "diff_app",
    "history",
    "observe",
    "read_desired",
    "sync",
    "write_record",
]
