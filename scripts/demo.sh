#!/usr/bin/env bash
# The hakobu walk-through: a local cluster, an example repository, the GitOps path end to
# end. Every step is a command you can type yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }
# Steps whose exit code carries information (diff: 1 = differences; a sync meant to
# fail) must not stop the walk-through.
show() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}" || true; }
# Steps typed as shell text (variables, pipes, $(...)): printed exactly as written, then
# run; `more` adds a command to the step before.
typed() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; eval "$2"; }
more() { printf '$ %s\n' "$1"; eval "$1"; }
title() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
note() { printf '\n'; printf '# %s\n' "$@"; }

# Install a Debian package unless its command is already there (as scripts/test.sh does);
# stop, naming the failed step, if any step fails. apt-get needs root: sudo when not root.
require() {
    local command=$1 package=$2 purpose=$3 sudo=()
    if command -v "$command" >/dev/null; then
        return 0
    fi
    if [[ $EUID -ne 0 ]]; then
        sudo=(sudo)
    fi
    echo "installing $package ($purpose)"
    if ! "${sudo[@]}" apt-get update -qq; then
        echo "error: 'apt-get update' failed while installing $package; see its messages above" >&2
        exit 1
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; then
        echo "error: 'apt-get install $package' failed; see its messages above" >&2
        exit 1
    fi
    if ! command -v "$command" >/dev/null; then
        echo "error: $package is installed but '$command' is not on PATH" >&2
        exit 1
    fi
}

# Seconds since $1 (an $EPOCHREALTIME), to a tenth.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# Run a check again and again (at most LIMIT seconds) until it succeeds, saying what it
# waits for and, when it holds, how long that took since FROM (an $EPOCHREALTIME).
wait_for() {
    local what=$1 limit=$2 from=$3 start=$EPOCHREALTIME
    shift 3
    printf '... waiting (at most %ss) until %s\n' "$limit" "$what"
    until "$@" >/dev/null 2>&1; do
        if awk -v s="$start" -v now="$EPOCHREALTIME" -v l="$limit" 'BEGIN { exit !(now - s > l) }'; then
            echo "error: not within ${limit}s: $what" >&2
            exit 1
        fi
        sleep 0.5
    done
    printf '... %s: %ss\n' "$what" "$(since "$from")"
}

# N distinct free ports on loopback (all bound at once, so none is handed out twice).
free_ports() {
    python3 -c 'import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}

# What the delivery service part needs: an image registry and a daemonless image builder.
require docker-registry docker-registry "a local image registry for the delivery service part"
require buildah buildah "an image builder that needs no daemon"
require openssl openssl "signing webhooks"
require curl curl "sending webhooks"

# Processes this walk-through starts in the background (controller replicas, the
# registry) end with it, so that a second run starts from none of them.
started=()
controllers=()
stop_started() {
    if ((${#started[@]} == 0)); then
        return 0
    fi
    kill "${started[@]}" 2>/dev/null || true
    # On SIGTERM a replica stops owning its shards, lets a started apply finish, then
    # releases and deletes its Leases; its watch of Deliveries may hold the exit half a
    # minute more. Once no Lease names a live replica of this run, nothing is left to
    # wait for.
    local pid holders names=() deadline=$((SECONDS + 30))
    for pid in "${controllers[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            names+=(-e "pid $pid ")
        fi
    done
    while ((${#names[@]})) && ((SECONDS < deadline)); do
        holders=$(hakobu cluster kubectl -n hakobu-system get leases \
            -o jsonpath='{range .items[*]}{.spec.holderIdentity}{"\n"}{end}' 2>/dev/null) ||
            break
        grep -q "${names[@]}" <<<"$holders" || break
        sleep 0.5
    done
    kill -9 "${started[@]}" 2>/dev/null || true
}
trap stop_started EXIT

step "Start a local Kubernetes control plane (built from source on first run)" \
    hakobu cluster up
step "It is real Kubernetes" \
    hakobu cluster kubectl version
# A walk-through run before left its controller and namespaces behind: start from none.
# (Uninstalling first also frees its Delivery of the controller's finalizer.)
hakobu uninstall >/dev/null
hakobu cluster kubectl delete namespace shop-eval shop deliveries --ignore-not-found --wait >/dev/null

# The example repository, and beside it what the delivery service part keeps: its git
# remote, the replicas' logs and clones, the registry's data and the builder's storage.
demo=$(mktemp -d "${TMPDIR:-/tmp}/hakobu-demo-XXXXXX")
repo=$demo/shop
mkdir "$repo"
cd "$repo"
git init -q -b main
git config user.name "hakobu demo"
git config user.email "demo@hakobu.invalid"

step "A new project: app specs on a platform base, a Jinja template app and a kustomize app" \
    hakobu init
git add -A && git commit -qm "A new hakobu project"
step "The platform installs the custom kinds its bases use, once per cluster (web@2: ServiceMonitor)" \
    hakobu cluster kubectl apply -f platform/crds/
hakobu cluster kubectl wait --for condition=established --timeout=60s \
    crd/servicemonitors.monitoring.coreos.com >/dev/null

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

step "Platform bases: which app is on which version (web@2 adds a ServiceMonitor and a NetworkPolicy)" \
    hakobu bases
step "Upgrade web to web@2: one line of its spec; render shows exactly what its output gains" \
    hakobu bases upgrade web --to 2
more "git diff --stat"
typed "Commit the upgrade with its output, and sync evaluation" \
    'hakobu render --commit >/dev/null && hakobu sync evaluation --app web'

# ---- Fleets: one template, an instance per city ----
mkdir -p apps/shops/template
cat > apps/shops/fleet.yaml <<'YAML'
# A shop per city: the tiers a new template moves through, in order, and the values an
# instance may set, with their defaults.
tiers: [canary, stable]
values:
  city: ""
  replicas: 1
# What an instance in maintenance runs instead: no replicas, the shop closed.
maintenance:
  values: {replicas: 0}
YAML
cat > apps/shops/template/shop.yaml.j2 <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ app }}
data:
  city: "{{ values.city }}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ app }}
spec:
  replicas: {{ values.replicas }}
  selector:
    matchLabels: {shop: {{ instance }}}
  template:
    metadata:
      labels: {shop: {{ instance }}}
    spec:
      containers:
        - name: shop
          image: registry.example.com/shop/web:1.5.0
          envFrom: [{configMapRef: {name: {{ app }}}}]
YAML
git add apps/shops && git commit -qm "Shops: a fleet, one template for every city"
step "A fleet: one template (apps/shops/template/), an instance per city, each in a tier" \
    hakobu fleet add shops berlin canary city=Berlin
more "hakobu fleet add shops paris stable city=Paris replicas=2"
more "hakobu fleet add shops rome stable city=Rome"
more "cat apps/shops/instances/paris.yaml"
git add apps/shops && git commit -qm "Shops in Berlin, Paris and Rome"
typed "Render and commit; each instance is an app of its own, under generated/<env>/shops-<city>/" \
    'hakobu render --commit >/dev/null && ls generated/evaluation | grep shops'
step "Sync evaluation" \
    hakobu sync evaluation
step "The fleet per tier: the template version each tier runs, and its health" \
    hakobu fleet status shops evaluation
hakobu fleet set shops berlin replicas=2 >/dev/null
git commit -qam "Shops: two replicas in Berlin"
typed "One instance changes: render commits its file's output alone (the others come from the cache)" \
    'hakobu render --commit >/dev/null && git show --stat --format=%s HEAD'
step "Rome closes for a while: maintenance lays the fleet's maintenance values over its own" \
    hakobu fleet maintenance shops rome on
more "git commit -qam 'Shops: Rome in maintenance' && hakobu render --commit >/dev/null"
more "hakobu sync evaluation >/dev/null && hakobu cluster kubectl -n shop-eval get deployments -l hakobu.dev/app -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas | grep -e NAME -e shops"
step "Berlin leaves the fleet: one file removed" \
    hakobu fleet remove shops berlin
more "git commit -qam 'Shops: Berlin closes' && hakobu render --commit >/dev/null"
step "Sync with --prune: exactly Berlin's objects are deleted" \
    hakobu sync evaluation --prune
more "hakobu cluster kubectl -n shop-eval get deployments,configmaps -o name | grep shops"

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

# ---- The delivery service: a controller in the cluster keeps it synced from git ----

sed -i 's/workerReplicas: -1/workerReplicas: 1/' hakobu.yaml
git commit -qam "Scale the evaluation worker: one replica, as before"
step "The rollback restored generated/evaluation/; fix the mistake at its source too (generated/ stays as it is)" \
    hakobu render --commit

kubeconfig=$(hakobu cluster kubeconfig --path)
step "Install the delivery service: the Delivery CRD, the controller's RBAC, its Deployment" \
    hakobu install --replicas 2
step "Deliveries are a resource of the cluster now" \
    hakobu cluster kubectl get crd deliveries.hakobu.dev
note "The local cluster's nodes are simulated (kwok) and run no containers, so the" \
    "Deployment's two Pods are placeholders. The controller runs here instead, as two" \
    "processes, exactly as in a Pod: \`hakobu controller\`, one per replica."
read -r -a ports <<<"$(free_ports 3)"
registry=127.0.0.1:${ports[2]}
for i in 0 1; do
    replica=$demo/replica-$((i + 1))
    mkdir -p "$replica"
    printf '$ hakobu controller --kubeconfig "$(hakobu cluster kubeconfig --path)" --shard-namespace hakobu-system --listen 127.0.0.1:%s --workdir %s/work > %s/controller.log 2>&1 &\n' \
        "${ports[i]}" "$replica" "$replica"
    hakobu controller --kubeconfig "$kubeconfig" --shard-namespace hakobu-system \
        --listen "127.0.0.1:${ports[i]}" --workdir "$replica/work" >"$replica/controller.log" 2>&1 &
    controllers+=("$!")
    started+=("$!")
    # Killing one on purpose later is no news worth a message from this shell.
    disown "$!"
done
now=$EPOCHREALTIME
for i in 0 1; do
    wait_for "replica $((i + 1)) is ready (/readyz)" 120 "$now" \
        curl -sf "127.0.0.1:${ports[i]}/readyz"
done
# Who holds each shard Lease: a replica's identity names its host and pid.
shard_holders() {
    hakobu cluster kubectl -n hakobu-system get leases -l hakobu.dev/shard \
        -o jsonpath='{range .items[*]}{.spec.holderIdentity}{"\n"}{end}'
}
split() {
    local holders
    holders=$(shard_holders)
    [[ $(grep -c -e "pid ${controllers[0]} " -e "pid ${controllers[1]} " <<<"$holders") -eq 32 ]] &&
        grep -q "pid ${controllers[0]} " <<<"$holders" &&
        grep -q "pid ${controllers[1]} " <<<"$holders"
}
wait_for "the two replicas share the shards" 120 "$now" split
step "Each replica holds a member Lease and some of the 32 shard Leases (holder: host, pid)" \
    hakobu cluster kubectl -n hakobu-system get leases

note "No public image registry is reachable from here: the images this repository builds" \
    "go to a registry on loopback, and the base image starts FROM scratch instead of" \
    "python:3.13-slim (the Pods are simulated, so nothing runs the images anyway)."
mkdir -p "$demo/registry"
printf '{"version": 0.1, "log": {"level": "error"}, "storage": {"filesystem": {"rootdirectory": "%s"}}, "http": {"addr": "%s"}}\n' \
    "$demo/registry/data" "$registry" >"$demo/registry/config.yml"
printf '$ docker-registry serve %s &\n' "$demo/registry/config.yml"
docker-registry serve "$demo/registry/config.yml" >"$demo/registry/registry.log" 2>&1 &
started+=("$!")
disown "$!"
wait_for "the registry answers" 30 "$EPOCHREALTIME" curl -sf "http://$registry/v2/"
sed -i "s|registry: registry.example.com/shop|registry: $registry/shop|" hakobu.yaml
sed -i "s|^FROM registry.example.com/shop/base:latest|FROM $registry/shop/base:latest|" \
    services/worker/Dockerfile
cat >images/base/Dockerfile <<'DOCKERFILE'
# No public registry is reachable where this example runs, so the base starts from nothing.
FROM scratch
COPY motd /etc/motd
DOCKERFILE
echo "shop base image" >images/base/motd
git add -A images hakobu.yaml services
git commit -qm "Images: the registry on loopback, a base FROM scratch"
step "The images now go to $registry" \
    git show --stat --format='%s' HEAD
# buildah as root without a daemon: vfs storage (no overlay mounts), chroot isolation, its
# storage and registries configuration under the demo's directory, trusting the registry
# on loopback (plain HTTP).
mkdir -p "$demo/containers/tmp"
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' \
    "$demo/containers/graph" "$demo/containers/run" >"$demo/containers/storage.conf"
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$registry" \
    >"$demo/containers/registries.conf"
typed "buildah without a daemon: vfs storage, chroot isolation, the registry on loopback trusted" \
    "export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot CONTAINERS_STORAGE_CONF=$demo/containers/storage.conf CONTAINERS_REGISTRIES_CONF=$demo/containers/registries.conf TMPDIR=$demo/containers/tmp"
step "Build and push every image the registry lacks (base first, then the worker FROM it)" \
    hakobu images build --builder buildah --push
step "The registry has both tags now" \
    hakobu images
step "Render: the worker's Deployment names its image in the new registry" \
    hakobu render --commit

bare=$demo/shop.git
step "The repository gets a remote the controller fetches from (any git URL works)" \
    git init -q --bare "$bare"
more "git remote add origin $bare && git push -q origin main"
step "A namespace for Deliveries" \
    hakobu cluster kubectl create namespace deliveries
typed "A Secret with the webhook's shared secret (the git host gets the same value)" \
    'secret=$(openssl rand -hex 32)'
more 'hakobu cluster kubectl -n deliveries create secret generic shop-git --from-literal=webhookSecret="$secret"'
created=$EPOCHREALTIME
step "A Delivery: keep evaluation of this repository synced (polling hourly; webhooks for the rest)" \
    hakobu delivery create shop-eval --repo "$bare" --env evaluation --secret shop-git \
    --interval 1h -n deliveries
ready() {
    [[ $(hakobu delivery list -n deliveries -o json | python3 -c \
        'import json, sys; print(json.load(sys.stdin)[0]["ready"])') == True ]]
}
wait_for "hakobu delivery list shows shop-eval Ready" 120 "$created" ready
step "The replica that holds its shard fetched, synced and reported" \
    hakobu delivery list -n deliveries
step "kubectl sees the same" \
    hakobu cluster kubectl get deliveries -A

step "Who may look: a ServiceAccount, and a Role to get evaluation's Delivery (in its namespace)" \
    hakobu cluster kubectl -n deliveries create serviceaccount viewer
more "hakobu cluster kubectl -n shop-eval create role delivery-viewer --verb=get --resource=deliveries.hakobu.dev"
more "hakobu cluster kubectl -n shop-eval create rolebinding viewer --role=delivery-viewer --serviceaccount=deliveries:viewer"
typed "Every replica serves the dashboard and its API: the overview, as the viewer's token may see it" \
    'token=$(hakobu cluster kubectl -n deliveries create token viewer)'
more "curl -sS --fail-with-body -H \"Authorization: Bearer \$token\" 127.0.0.1:${ports[1]}/api/v1/overview | python3 -c 'import json, sys; [print(e[\"env\"], e[\"revision\"][:12], app, c[\"sync\"], c[\"health\"]) for e in json.load(sys.stdin)[\"environments\"] for app, c in sorted(e[\"apps\"].items())]'"
typed "A sync asked with that token is refused: the cluster's RBAC gives it get, not patch" \
    "curl -sS -w ' (HTTP %{http_code})\n' -H \"Authorization: Bearer \$token\" -X POST -d '{}' 127.0.0.1:${ports[0]}/api/v1/environments/evaluation/sync/preview"
note "In a browser: http://127.0.0.1:${ports[0]}/ (either replica), signed in with such a token."

# A push webhook as GitHub sends it: a JSON body naming the repository, branch and new
# revision, signed with HMAC-SHA256 of the body under the shared secret.
webhook() {
    local port=$1
    more "body='{\"ref\": \"refs/heads/main\", \"after\": \"$(git rev-parse HEAD)\", \"repository\": {\"clone_url\": \"$bare\"}}'"
    more 'signature=$(printf %s "$body" | openssl dgst -sha256 -hmac "$secret" -r | cut -d" " -f1)'
    more "curl -sS --fail-with-body -w ' (HTTP %{http_code})\n' http://127.0.0.1:$port/hooks/github -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H \"X-GitHub-Delivery: \$(cat /proc/sys/kernel/random/uuid)\" -H \"X-Hub-Signature-256: sha256=\$signature\" --data-binary \"\$body\""
}

sed -i 's/^replicas: 2$/replicas: 3/' apps/web.yaml
git commit -qam "Web: three replicas"
step "Merge is deploy: a change to web (three replicas), rendered and committed" \
    hakobu render --commit
step "Push it" \
    git push -q origin main
title "The git host tells a replica about the push (a signed GitHub push webhook)"
sent=$EPOCHREALTIME
webhook "${ports[0]}"
wait_for "the cluster runs three web replicas" 60 "$sent" \
    hakobu cluster kubectl -n shop-eval wait deployment/web --timeout=60s \
    --for=jsonpath='{.status.readyReplicas}'=3
step "Applied without a sync command" \
    hakobu cluster kubectl -n shop-eval get deployment web

sed -i 's/ready for work/ready for jobs/' services/worker/worker.py
git commit -qam "Worker: say what it is ready for"
step "Change the worker's source: its image tag changes, and render commits the new tag" \
    hakobu render --commit
worker_image=$(hakobu images --offline -o json | python3 -c \
    'import json, sys; print(next(i["reference"] for i in json.load(sys.stdin) if i["name"] == "worker"))')
step "Push it (CI has not built the image yet)" \
    git push -q origin main
title "The webhook"
sent=$EPOCHREALTIME
webhook "${ports[0]}"
waiting() {
    [[ $(hakobu cluster kubectl -n deliveries get delivery shop-eval \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}') == *"$worker_image"* ]]
}
wait_for "the Delivery waits for the new worker image" 60 "$sent" waiting
step "The controller does not roll Pods onto an image that is not in the registry: it waits" \
    hakobu delivery list -n deliveries
typed "Its Ready condition names the missing tag" \
    "hakobu cluster kubectl -n deliveries get delivery shop-eval -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}{\"\\n\"}'"
built=$EPOCHREALTIME
step "CI builds and pushes the image" \
    hakobu images build --builder buildah --push
pushed=$EPOCHREALTIME
wait_for "the worker runs the new image (after the build)" 120 "$pushed" \
    hakobu cluster kubectl -n shop-eval wait deployment/worker --timeout=120s \
    --for=jsonpath='{.spec.template.spec.containers[0].image}'="$worker_image"
printf '... from the webhook to the new image applied: %ss (the build started %ss after it)\n' \
    "$(since "$sent")" "$(awk -v a="$sent" -v b="$built" 'BEGIN { printf "%.1f", b - a }')"
step "The worker's image, applied by the controller" \
    hakobu cluster kubectl -n shop-eval get deployment worker -o wide

typed "Someone edits the cluster by hand (drift)" \
    "hakobu cluster kubectl -n shop-eval patch deployment redis -p '{\"spec\": {\"replicas\": 3}}'"
edited=$EPOCHREALTIME
wait_for "redis is back to the one replica git declares, with no command run" 60 "$edited" \
    hakobu cluster kubectl -n shop-eval wait deployment/redis --timeout=60s \
    --for=jsonpath='{.spec.replicas}'=1
step "Repaired by the controller, which watches what it applied" \
    hakobu cluster kubectl -n shop-eval get deployment redis

typed "Metrics: every sync, by result, on the replica that holds the Delivery (the other has none)" \
    "for port in ${ports[*]}; do echo \"127.0.0.1:\$port:\"; curl -s 127.0.0.1:\$port/metrics | grep ^hakobu_syncs_total || echo '  (none)'; done"
holder=0
if [[ $(curl -s "127.0.0.1:${ports[1]}/metrics") == *'hakobu_syncs_total{delivery="deliveries/shop-eval"'* ]]; then
    holder=1
fi
survivor=$((1 - holder))

step "Fail-over: the replica holding the Delivery (127.0.0.1:${ports[holder]}) dies (kill -9: no goodbye)" \
    kill -9 "${controllers[holder]}"
killed=$EPOCHREALTIME
sole() {
    [[ $(shard_holders | grep -c "pid ${controllers[survivor]} ") -eq 32 ]]
}
wait_for "the other replica holds all 32 shards" 60 "$killed" sole
step "Its Leases expired; the surviving replica took every shard" \
    hakobu cluster kubectl -n hakobu-system get leases
sed -i 's/^replicas: 3$/replicas: 2/' apps/web.yaml
git commit -qam "Web: back to two replicas"
step "One more change, rendered, committed and pushed" \
    hakobu render --commit
more "git push -q origin main"
title "The webhook goes to the surviving replica"
sent=$EPOCHREALTIME
webhook "${ports[survivor]}"
wait_for "the cluster runs two web replicas" 60 "$sent" \
    hakobu cluster kubectl -n shop-eval wait deployment/web --timeout=60s \
    --for=jsonpath='{.spec.replicas}'=2
step "Delivered by the surviving replica" \
    hakobu delivery list -n deliveries

# ---- A canary release under the controller ----
# evaluation's block is the last of web's spec: its release moves to 1.6.0, as a canary.
tac apps/web.yaml | sed '0,/web:1\.5\.0/s//web:1.6.0/' | tac > apps/web.yaml.new
mv apps/web.yaml.new apps/web.yaml
cat >> apps/web.yaml <<'YAML'
    rollout:
      canary:
        steps: [{setWeight: 50}, {pause: {}}]
YAML
step "A canary release: web 1.6.0 to half of evaluation's replicas, then it waits for a person" \
    git --no-pager diff apps/web.yaml
git commit -qam "Web 1.6.0 to evaluation, as a canary"
more "hakobu render --commit >/dev/null && git push -q origin main"
hakobu render --commit >/dev/null
git push -q origin main
sent=$EPOCHREALTIME
webhook "${ports[survivor]}" >/dev/null
paused() {
    [[ $(hakobu rollout status evaluation web -o json | python3 -c \
        'import json, sys; print(json.load(sys.stdin)["phase"])') == Paused ]]
}
wait_for "the controller brought the canary up and paused" 90 "$sent" paused
step "One replica runs 1.6.0, one the stable 1.5.0; the Service spreads requests over both" \
    hakobu rollout status evaluation web
promoted=$EPOCHREALTIME
step "Promote it (the dashboard has the same button)" \
    hakobu rollout promote evaluation web
healthy() {
    [[ $(hakobu rollout status evaluation web -o json | python3 -c \
        'import json, sys; print(json.load(sys.stdin)["phase"])') == Healthy ]] &&
        hakobu cluster kubectl -n shop-eval wait deployment/web --timeout=1s \
            --for=jsonpath='{.spec.template.spec.containers[0].image}'=registry.example.com/shop/web:1.6.0
}
wait_for "every web replica runs 1.6.0" 90 "$promoted" healthy
step "Synced and healthy: git describes what runs" \
    hakobu status evaluation

# ---- Fleet instances as resources: the controller writes them to git ----
typed "A platform opens a shop by creating a resource: a FleetInstance naming the Delivery to write through" \
    "hakobu cluster kubectl apply -f - <<'YAML'
apiVersion: hakobu.dev/v1alpha1
kind: FleetInstance
metadata: {name: lisbon, namespace: deliveries}
spec: {delivery: shop-eval, fleet: shops, tier: canary, values: {city: Lisbon}}
YAML"
created=$EPOCHREALTIME
wait_for "the controller committed, pushed and synced it" 120 "$created" \
    hakobu cluster kubectl -n deliveries wait fleetinstance/lisbon --timeout=1s --for=condition=Ready
step "Its status: the commit, and the instance's sync and health read back from the Delivery" \
    hakobu cluster kubectl -n deliveries get fleetinstances
typed "The commit, as any other: one instance file and its output" \
    'git pull -q origin main && git show --stat --format="%s%n%b" HEAD'
step "Running" \
    hakobu cluster kubectl -n shop-eval get deployment shops-lisbon

cat <<MSG

The example repository is in $repo, its remote in $bare, the controller
replicas' logs in $demo/replica-*/controller.log. The replicas and the registry stop with
this walk-through; the cluster keeps running:
  export KUBECONFIG=\$(hakobu cluster kubeconfig --path)
  hakobu cluster status
  hakobu cluster down        # stop it and delete its state
MSG
