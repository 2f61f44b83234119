#!/usr/bin/env bash
# The hakobu walk-through: a local cluster, an example repository, the GitOps path end to
# end. Every step is a command you can type yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }
# Steps whose exit code carries information (diff: 1 = differences; a sync meant to
# fail) must not stop the walk-through.
show() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}" || true; }

step "Start a local Kubernetes control plane (built from source on first run)" \
    hakobu cluster up
step "It is real Kubernetes" \
    hakobu cluster kubectl version
# A walk-through run before left its namespaces behind: start from none.
hakobu cluster kubectl delete namespace shop-eval shop --ignore-not-found --wait >/dev/null

repo=$(mktemp -d "${TMPDIR:-/tmp}/hakobu-demo-XXXXXX")
cd "$repo"
git init -q -b main
git config user.name "hakobu demo"
git config user.email "demo@hakobu.invalid"

step "A new project: an app spec, a Jinja template app and a kustomize app" \
    hakobu init
git add -A && git commit -qm "A new hakobu project"

step "Render every environment into generated/ and commit it" \
    hakobu render --commit
step "What reviewers see: the exact manifests per environment" \
    find generated -type f
step "A short app spec became a full Deployment" \
    cat generated/evaluation/web/deployment-web.yaml

show "What a sync of evaluation would change (exit 1: there are differences)" \
    hakobu diff evaluation --app redis
step "Sync evaluation: ordered server-side apply, then wait until healthy" \
    hakobu sync evaluation
step "Every app is synced and healthy" \
    hakobu status evaluation

step "Images built from this repository, tagged by a hash of their sources" \
    hakobu images --offline
sed -i 's/waiting for work/ready for work/' services/worker/worker.py
git commit -qam "Worker: a clearer log line"
step "Change the worker's source: only its tag changes (base keeps its own)" \
    hakobu images --offline
step "Render: only the worker's Deployment gets the new tag" \
    hakobu render --commit
step "Sync it" \
    hakobu sync evaluation

cat >> apps/web.yaml <<'YAML'
  evaluation:
    image: registry.example.com/shop/web:1.5.0
    env: {CHECKOUT_V2: enabled}
YAML
git commit -qam "Release web 1.5.0 to evaluation, with the new checkout turned on"
step "Release web 1.5.0 to evaluation: render shows exactly which files change" \
    hakobu render --commit
show "The diff against the cluster" \
    hakobu diff evaluation --app web
step "Sync evaluation: only web rolls" \
    hakobu sync evaluation
step "The new Pods are Ready" \
    hakobu cluster kubectl -n shop-eval get deployment web -o wide

step "Promote evaluation to production: the values web declares promotable (a commit; refused unless healthy)" \
    hakobu promote evaluation production
step "The promotion, as git shows it" \
    git show --stat --format='%s%n%n%b' HEAD
step "Sync production" \
    hakobu sync production

step "Someone edits the cluster by hand (drift)" \
    hakobu cluster kubectl -n shop-eval scale deployment redis --replicas=3
show "hakobu sees the drift" \
    hakobu status evaluation
step "The next sync repairs it (the hand edit's manager gives up the field)" \
    hakobu sync evaluation --force-conflicts

sed -i 's/workerReplicas: 1/workerReplicas: -1/' hakobu.yaml
git commit -qam "Scale the evaluation worker (a mistake)"
step "Break evaluation on purpose: a bad value, rendered and committed" \
    hakobu render --env evaluation --commit
show "The API server rejects it; the other apps still sync (exit 1)" \
    hakobu sync evaluation
step "Roll back: a new commit restoring the last good generated/evaluation/" \
    hakobu rollback evaluation -m "worker replicas must not be negative"
step "Sync the rollback" \
    hakobu sync evaluation
step "History: every change to evaluation, with its sync result" \
    hakobu history evaluation

# shellcheck disable=SC2016 # the payload is a template's text, not for this shell
printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata: {name: pwned}' \
    "data: {who: \"{{ range.__globals__['os'].popen('id').read() }}\"}" > apps/worker/pwned.yaml.j2
show "A stranger's pull request tries to run a command from a template: render --check refuses it (exit 2)" \
    hakobu render --check
rm apps/worker/pwned.yaml.j2

cat <<MSG

The example repository is in $repo and the cluster keeps running:
  export KUBECONFIG=\$(hakobu cluster kubeconfig --path)
  hakobu cluster status
  hakobu cluster down        # stop it and delete its state
MSG
