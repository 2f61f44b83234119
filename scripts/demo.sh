#!/usr/bin/env bash
# The hakobu walk-through. Each step is a command you can type yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "Start a local Kubernetes control plane (built from source on first run)" \
    hakobu cluster up
step "It is real Kubernetes" \
    hakobu cluster kubectl version
step "Apply a small example" \
    hakobu cluster kubectl apply --server-side -f examples/hello/app.yaml
step "Wait for the rollout" \
    hakobu cluster kubectl -n hello rollout status deployment/hello --timeout=120s
step "Three Pods, scheduled on a simulated node and Ready" \
    hakobu cluster kubectl -n hello get deployment,replicaset,pods -o wide

cat <<'MSG'

The cluster keeps running for you to explore:
  export KUBECONFIG=$(hakobu cluster kubeconfig --path)
  hakobu cluster status
  hakobu cluster down        # stop it and delete its state
MSG
