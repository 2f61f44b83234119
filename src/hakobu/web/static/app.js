"use strict";
// The dashboard's pages, drawn from the JSON API only (/api/v1), kept live by its events.

const main = document.getElementById("app");
const state = {session: null, csrf: null, operation: null};

const SYNC_ICONS = {Synced: "✓", OutOfSync: "↻", Drifted: "≠", Unknown: "?"};
const HEALTH_ICONS = {
  Healthy: "♥", Progressing: "◌", Degraded: "✗", Suspended: "‖", Missing: "∅", Unknown: "?",
};

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function badge(kind, value) {
  const icons = kind === "sync" ? SYNC_ICONS : HEALTH_ICONS;
  return `<span class="badge ${kind}-${esc(value)}" title="${esc(value)}">` +
    `<span class="icon" aria-hidden="true">${icons[value] || "?"}</span>${esc(value)}</span>`;
}

async function api(path, options = {}) {
  const headers = {"Accept": "application/json", ...(options.headers || {})};
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  if (options.method && options.method !== "GET" && state.csrf) {
    headers["X-CSRF-Token"] = state.csrf;
  }
  const response = await fetch(path, {
    ...options,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) {
    location.assign("/signin");
    throw new Error("signed out");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || response.statusText);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

function can(env, action) {
  return Boolean(state.session && state.session.can[env] && state.session.can[env][action]);
}

function shortRev(revision) {
  if (!revision) return "—";
  return revision === "worktree" ? "work tree" : revision.slice(0, 12);
}

function tag(image) {
  const slash = image.lastIndexOf("/");
  return image.slice(slash + 1);
}

// -- overview ---------------------------------------------------------------------------

const overview = {envs: [], apps: [], cells: new Map(), rows: [], first: -1, rowHeight: 60};
// Only the rows on screen, and this many on either side, are in the page: 1,000 apps cost
// what 60 do, and the rest are drawn as they scroll into view.
const MARGIN = 20;

function cellHtml(cell) {
  if (!cell) return `<span class="muted">—</span>`;
  const images = cell.images.map((i) => `<span class="image" title="${esc(i)}">${esc(tag(i))}</span>`);
  // Inline, so a row keeps the height the overview's scrolling counts on.
  const waiting = cell.waiting_for.length
    ? ` <span class="waiting" title="${waitingText(cell)}">waits for ${cell.waiting_for.map((w) => esc(w.split(" ")[0])).join(", ")}</span>`
    : "";
  return `${badge("sync", cell.sync)} ${badge("health", cell.health)}${waiting}` +
    (images.length ? `<div class="images">${images.join(" ")}</div>` : "");
}

function waitingText(cell) {
  return `waiting for ${cell.waiting_for.map(esc).join(", ")}`;
}

function rowHtml(app) {
  const cells = overview.envs.map((env) =>
    `<td data-env="${esc(env.env)}" data-app="${esc(app)}">` +
    `<a class="cell" href="/env/${encodeURIComponent(env.env)}/app/${encodeURIComponent(app)}">` +
    `${cellHtml(overview.cells.get(`${env.env}\u0000${app}`))}</a></td>`).join("");
  return `<tr data-app="${esc(app)}"><th scope="row">${esc(app)}</th>${cells}</tr>`;
}

function counts(env) {
  let outOfSync = 0;
  let degraded = 0;
  for (const app of overview.apps) {
    const cell = overview.cells.get(`${env}\u0000${app}`);
    if (!cell) continue;
    if (cell.sync !== "Synced") outOfSync += 1;
    if (cell.health === "Degraded") degraded += 1;
  }
  return {outOfSync, degraded};
}

function drawCounts() {
  for (const env of overview.envs) {
    const {outOfSync, degraded} = counts(env.env);
    const el = document.getElementById(`counts-${env.env}`);
    if (el) {
      el.innerHTML = `<span class="count ${outOfSync ? "warn" : ""}" data-count="out-of-sync">` +
        `${outOfSync} out of sync</span> · <span class="count ${degraded ? "bad" : ""}" ` +
        `data-count="degraded">${degraded} degraded</span>`;
    }
  }
}

function overviewData() {
  return api("/api/v1/overview");
}

async function showOverview(fetched = null) {
  const data = fetched || await overviewData();
  overview.envs = data.environments;
  const names = new Set();
  for (const env of data.environments) {
    for (const [app, cell] of Object.entries(env.apps)) {
      names.add(app);
      overview.cells.set(`${env.env}\u0000${app}`, cell);
    }
  }
  overview.apps = [...names].sort();
  const head = data.environments.map((env) => `
      <th scope="col" data-env="${esc(env.env)}">
        <div class="env-name">${esc(env.env)}</div>
        <div class="env-meta">git <code>${esc(shortRev(env.revision))}</code> ·
          synced <code>${esc(shortRev(env.synced_revision))}</code></div>
        <div class="env-counts" id="counts-${esc(env.env)}"></div>
        ${env.error ? `<div class="error">${esc(env.error)}</div>` : ""}
        <div class="env-links"><a href="/env/${encodeURIComponent(env.env)}/history">history</a>
          ${can(env.env, "sync") ? `· <a href="/env/${encodeURIComponent(env.env)}/sync">sync…</a>` : ""}
          ${next(env.env) ? `· <a href="/promote/${encodeURIComponent(env.env)}/${encodeURIComponent(next(env.env))}">promote → ${esc(next(env.env))}</a>` : ""}</div>
      </th>`).join("");
  main.innerHTML = `
    <div class="toolbar">
      <h1>Overview</h1>
      <input type="search" id="search" placeholder="Filter apps…" aria-label="Filter apps">
      <select id="only" aria-label="Show">
        <option value="">All apps</option>
        <option value="out-of-sync">Out of sync</option>
        <option value="degraded">Degraded</option>
      </select>
      <span class="muted" id="shown"></span>
    </div>
    <table class="grid" id="overview">
      <thead><tr><th scope="col">App</th>${head}</tr></thead>
      <tbody></tbody>
    </table>`;
  drawCounts();
  drawRows();
  document.getElementById("search").addEventListener("input", drawRows);
  document.getElementById("only").addEventListener("change", drawRows);
}

// The environment after ``env`` in the project's order: where a promotion would go.
function next(env) {
  const names = overview.envs.map((e) => e.env);
  const at = names.indexOf(env);
  return at >= 0 && at + 1 < names.length ? names[at + 1] : null;
}

function matches(app, text, only) {
  if (text && !app.toLowerCase().includes(text)) return false;
  if (!only) return true;
  return overview.envs.some((env) => {
    const cell = overview.cells.get(`${env.env}\u0000${app}`);
    return cell && (only === "degraded" ? cell.health === "Degraded" : cell.sync !== "Synced");
  });
}

function drawRows() {
  const text = document.getElementById("search").value.trim().toLowerCase();
  const only = document.getElementById("only").value;
  overview.rows = overview.apps.filter((app) => matches(app, text, only));
  document.getElementById("shown").textContent =
    `${overview.rows.length} of ${overview.apps.length} apps`;
  drawWindow(true);
}

function drawWindow(force) {
  const tbody = document.querySelector("#overview tbody");
  if (!tbody) return;
  const top = tbody.getBoundingClientRect().top + window.scrollY;
  const height = overview.rowHeight;
  const first = Math.max(0, Math.floor((window.scrollY - top) / height) - MARGIN);
  if (!force && first === overview.first) return;
  overview.first = first;
  const last = Math.min(overview.rows.length, first + Math.ceil(window.innerHeight / height) + 2 * MARGIN);
  const columns = overview.envs.length + 1;
  tbody.innerHTML = `<tr class="spacer"><td colspan="${columns}"></td></tr>` +
    overview.rows.slice(first, last).map(rowHtml).join("") +
    `<tr class="spacer"><td colspan="${columns}"></td></tr>`;
  const drawn = tbody.rows[1];
  if (drawn && drawn.classList.length === 0 && drawn.offsetHeight) overview.rowHeight = drawn.offsetHeight;
  // Set through the CSSOM: the Content-Security-Policy refuses inline style attributes.
  tbody.rows[0].style.height = `${first * overview.rowHeight}px`;
  tbody.rows[tbody.rows.length - 1].style.height = `${(overview.rows.length - last) * overview.rowHeight}px`;
}

let scrolling = false;
window.addEventListener("scroll", () => {
  if (scrolling || main.dataset.page !== "overview") return;
  scrolling = true;
  requestAnimationFrame(() => {
    scrolling = false;
    drawWindow(false);
  });
}, {passive: true});

function overviewStatus(event) {
  const key = `${event.env}\u0000${event.app}`;
  const known = overview.cells.has(key) || overview.apps.includes(event.app);
  overview.cells.set(key, event.cell);
  if (!known) {
    showOverview();  // a new app: draw the grid again
    return;
  }
  const td = document.querySelector(
    `#overview td[data-env="${CSS.escape(event.env)}"][data-app="${CSS.escape(event.app)}"]`);
  drawCounts();
  if (!td) return;  // filtered out, or off screen: drawn from the new cell when shown
  td.querySelector("a").innerHTML = cellHtml(event.cell);
  td.classList.remove("changed");
  void td.offsetWidth;
  td.classList.add("changed");
}

// -- one app ------------------------------------------------------------------------------

// Up to this many children are listed open; more (a ReplicaSet's hundreds of Pods) are
// folded under a summary that counts them by health, and drawn only when opened.
const OPEN_CHILDREN = 20;

function healthCounts(nodes) {
  const counted = {};
  for (const node of nodes) counted[node.health] = (counted[node.health] || 0) + 1;
  return Object.entries(counted).map(([health, n]) => `${badge("health", health)} ${n}`).join(" ");
}

// Folded lists, by the key their <details> carries, drawn when first opened.
const folded = new Map();

function treeHtml(nodes) {
  return `<ul class="tree">${nodes.map((node) => `
    <li><button type="button" class="object" data-api="${esc(node.apiVersion)}"
          data-kind="${esc(node.kind)}" data-name="${esc(node.name)}">
        ${badge("health", node.health)} <span class="kind">${esc(node.kind)}</span>
        <span class="name">${esc(node.name)}</span></button>
        ${node.message ? `<span class="message">${esc(node.message)}</span>` : ""}
        ${node.children.length ? listHtml(node.children, `${node.kind}/${node.name}`) : ""}</li>`).join("")}</ul>`;
}

// A list of nodes, drawn whole when short, else folded under a line counting them.
function listHtml(nodes, key) {
  if (nodes.length <= OPEN_CHILDREN) return treeHtml(nodes);
  folded.set(key, nodes);
  const kinds = [...new Set(nodes.map((c) => c.kind))].join(", ");
  return `<details class="many" data-key="${esc(key)}"><summary>${nodes.length} ${esc(kinds)}
    objects: ${healthCounts(nodes)}</summary></details>`;
}

// The app's own objects, by kind: an app of 1,800 ConfigMaps shows one folded line.
function rootsHtml(nodes) {
  const kinds = new Map();
  for (const node of nodes) {
    if (!kinds.has(node.kind)) kinds.set(node.kind, []);
    kinds.get(node.kind).push(node);
  }
  return [...kinds.entries()].map(([kind, list]) => listHtml(list, `kind:${kind}`)).join("");
}

function diffHtml(diffs) {
  if (!diffs.length) return `<p class="ok">In sync: git and the cluster agree.</p>`;
  return diffs.map((d) => `
    <section class="diff"><h3>${esc(d.change)} <code>${esc(d.ref)}</code>
      ${d.note ? `<span class="muted">— ${esc(d.note)}</span>` : ""}</h3>
      <pre>${d.text.split("\n").map((line) => {
        const kind = line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
        return `<span class="${kind}">${esc(line)}</span>`;
      }).join("\n")}</pre></section>`).join("");
}

// The health colour of a rollout's phase and of a measurement's verdict.
const ROLLOUT_COLOURS = {
  Progressing: "Progressing", Paused: "Suspended", Inconclusive: "Suspended",
  Degraded: "Degraded", Healthy: "Healthy", Successful: "Healthy", Failed: "Degraded",
  Error: "Degraded",
};

function rolloutBadge(value) {
  return `<span class="badge health-${esc(ROLLOUT_COLOURS[value] || "Unknown")}">${esc(value)}</span>`;
}

function measurementsHtml(title, measurements) {
  if (!measurements.length) return "";
  const rows = measurements.map((m) => `<tr><td>${rolloutBadge(m.verdict)}</td>
      <td><code>${esc(m.values.join(", "))}</code></td><td>${esc(m.message)}</td>
      <td class="when">${esc(new Date(m.at * 1000).toISOString().slice(11, 19))}</td></tr>`).join("");
  return `<h3>${esc(title)}</h3><table class="list measurements"><thead><tr><th>Verdict</th>
    <th>Values</th><th>Message</th><th>At (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// What a person may ask of a rollout in its phase, offered to those who may sync the
// environment: nothing once it ended, retry once aborted.
function rolloutFormHtml(r, env) {
  if (!can(env, "sync") || r.phase === "Healthy") return "";
  const running = r.phase !== "Degraded";
  return `<form class="rollout-actions">
    ${running ? `<button type="submit" name="action" value="promote" class="primary">Promote</button>
    <button type="submit" name="action" value="abort" class="danger">Abort</button>` : ""}
    ${running && r.phase !== "Inconclusive" ? "" : `<button type="submit" name="action" value="retry">Retry</button>`}
    <span class="rollout-result" role="status"></span></form>`;
}

// A blue-green rollout's stage, what each Service selects, and its measurements.
function blueGreenHtml(r, env) {
  const stage = r.stage === null || r.phase === "Healthy" ? "" : `stage ${r.stages.indexOf(r.stage) + 1}/${r.stages.length}: ${r.stage}`;
  return `<section class="panel rollout" data-deployment="${esc(r.name)}"><h2>Rollout
      <span class="muted">blue-green of Deployment ${esc(r.name)}</span></h2>
    <p class="rollout-state">${rolloutBadge(r.phase)}
      <strong class="rollout-step">${esc(stage)}</strong>
      ${r.message ? `<span class="muted">${esc(r.message)}</span>` : ""}</p>
    <p class="services">active Service ${esc(r.activeService)} → <code>${esc(r.activeRevision || "every pod")}</code>
      · preview Service ${esc(r.previewService)} → <code>${esc(r.previewRevision || "every pod")}</code></p>
    <p class="replicas">${r.replicas} replicas · preview ${r.previewReady}/${r.previewReplicas} ready</p>
    ${rolloutFormHtml(r, env)}
    ${measurementsHtml("Measurements", r.measurements)}</section>`;
}

// A canary's step, the share of each side as a bar, and its measurements.
function rolloutHtml(r, env) {
  if (r.strategy === "blueGreen") return blueGreenHtml(r, env);
  const step = r.step === null || r.phase === "Healthy" ? "" : `step ${Math.min(r.step + 1, r.steps)}/${r.steps}`;
  const stable = 100 - r.weight;
  return `<section class="panel rollout" data-deployment="${esc(r.name)}"><h2>Rollout
      <span class="muted">canary of Deployment ${esc(r.name)}</span></h2>
    <p class="rollout-state">${rolloutBadge(r.phase)}
      <strong class="rollout-step">${esc(step)}</strong>
      ${r.message ? `<span class="muted">${esc(r.message)}</span>` : ""}</p>
    <div class="weights" role="img" aria-label="canary ${r.weight}%, stable ${stable}%">
      ${r.weight ? `<span class="canary" data-share="${r.weight}">canary ${r.weight}%</span>` : ""}
      ${stable ? `<span class="stable" data-share="${stable}">stable ${stable}%</span>` : ""}</div>
    <p class="replicas">canary ${r.canaryReady}/${r.canaryReplicas} ready · stable ${r.stableReplicas} replicas</p>
    ${rolloutFormHtml(r, env)}
    ${measurementsHtml("Measurements", r.measurements)}
    ${measurementsHtml("Background measurements", r.backgroundMeasurements)}</section>`;
}

function appDetail(env, app) {
  return api(`/api/v1/environments/${encodeURIComponent(env)}/apps/${encodeURIComponent(app)}`);
}

async function showApp(env, app, fetched = null) {
  const data = fetched || await appDetail(env, app);
  const cell = overview.cells.get(`${env}\u0000${app}`) || data.status;
  const after = following(env);
  const events = data.events.map((e) => `<tr class="${e.type === "Warning" ? "warning" : ""}">
      <td class="when">${esc(e.last)}</td><td>${esc(e.type)}</td><td>${esc(e.reason)}</td>
      <td>${esc(e.object)}</td><td>${esc(e.message)}</td></tr>`).join("");
  main.innerHTML = `
    <div class="toolbar">
      <h1>${esc(app)} <span class="muted">in ${esc(env)}</span></h1>
      ${cell ? `${badge("sync", cell.sync)} ${badge("health", cell.health)}` : ""}
      <span class="muted">git <code>${esc(shortRev(data.revision))}</code> · ${data.objects} objects</span>
      ${cell && cell.waiting_for.length ? `<span class="waiting">${waitingText(cell)}</span>` : ""}
      ${can(env, "sync") ? `<button type="button" class="primary" id="sync-app">Sync ${esc(app)}…</button>` : ""}
      ${can(env, "rollback") ? `<button type="button" id="rollback-app">Roll back ${esc(app)}…</button>` : ""}
      ${after && can(after, "promote") ? `<button type="button" id="promote-app">Promote ${esc(app)} → ${esc(after)}…</button>` : ""}
    </div>
    ${data.rollouts.map((r) => rolloutHtml(r, env)).join("")}
    <div class="columns">
      <section class="panel" id="objects"><h2>Objects</h2>${rootsHtml(data.tree)}</section>
      <section class="panel"><h2>Live manifest</h2>
        <pre id="manifest" class="muted">Choose an object.</pre></section>
    </div>
    <section class="panel"><h2>Git vs live</h2>${diffHtml(data.diff)}</section>
    <section class="panel"><h2>Events</h2>
      ${events ? `<table class="list"><thead><tr><th>When</th><th>Type</th><th>Reason</th>
        <th>Object</th><th>Message</th></tr></thead><tbody>${events}</tbody></table>`
        : `<p class="muted">No recent events.</p>`}</section>`;
  // Set through the DOM: the page's Content-Security-Policy refuses inline styles.
  for (const side of main.querySelectorAll(".weights [data-share]")) {
    side.style.flexBasis = `${side.dataset.share}%`;
  }
  for (const form of main.querySelectorAll("form.rollout-actions")) {
    form.addEventListener("submit", (event) => rolloutAction(event, env, app));
  }
  const objects = document.getElementById("objects");
  objects.addEventListener("toggle", (event) => {
    const details = event.target;
    if (!details.open || details.dataset.drawn) return;
    details.insertAdjacentHTML("beforeend", treeHtml(folded.get(details.dataset.key) || []));
    details.dataset.drawn = "true";
  }, true);
  objects.addEventListener("click", async (event) => {
    const button = event.target.closest("button.object");
    if (!button) return;
    const q = new URLSearchParams({apiVersion: button.dataset.api, kind: button.dataset.kind, name: button.dataset.name});
    const pre = document.getElementById("manifest");
    try {
      pre.textContent = JSON.stringify(await api(`/api/v1/environments/${encodeURIComponent(env)}/objects?${q}`), null, 2);
      pre.classList.remove("muted");
    } catch (error) {
      pre.textContent = error.message;
    }
  });
  document.getElementById("sync-app")?.addEventListener("click", () => confirmSync(env, app));
  document.getElementById("rollback-app")?.addEventListener("click", () => rollbackApp(env, app));
  document.getElementById("promote-app")?.addEventListener("click", () => confirmPromotion(env, after, app));
}

async function rolloutAction(event, env, app) {
  event.preventDefault();
  const action = event.submitter.value;
  const result = event.target.querySelector(".rollout-result");
  try {
    await api(`/api/v1/environments/${encodeURIComponent(env)}/apps/${encodeURIComponent(app)}/rollout/${action}`,
      {method: "POST"});
    await showApp(env, app);
    const shown = main.querySelector(".rollout-result");
    if (shown) shown.textContent = `${action} requested`;
    else main.querySelector(".rollout-state")?.insertAdjacentHTML("beforeend", `<span class="rollout-result">${esc(action)} requested</span>`);
  } catch (error) {
    result.className = "rollout-result error";
    result.textContent = error.message;
  }
}

// The environment after ``env`` among those this user may see, in the project's order.
function following(env) {
  const names = Object.keys(state.session.can);
  const at = names.indexOf(env);
  return at >= 0 && at + 1 < names.length ? names[at + 1] : null;
}

// Undo the last commit that changed ``app`` in ``env``: back to the one that changed it before.
async function rollbackApp(env, app) {
  const data = await api(`/api/v1/environments/${encodeURIComponent(env)}/history`);
  const changed = data.commits.filter((c) => c.apps.includes(app));
  if (changed.length < 2) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-title").textContent = `Roll back ${app} in ${env}`;
    document.getElementById("confirm-body").innerHTML =
      `<p>No earlier commit changed ${esc(app)} in ${esc(env)}: there is nothing to roll back to.</p>`;
    openConfirm(dialog);
    document.getElementById("confirm-ok").hidden = true;
    return;
  }
  await confirmRollback(env, changed[1].id, app);
}

// -- sync -------------------------------------------------------------------------------

async function confirmSync(env, app, prune = false, force = false) {
  const dialog = document.getElementById("confirm");
  const body = document.getElementById("confirm-body");
  document.getElementById("confirm-title").textContent = `Sync ${app || "every app"} in ${env}`;
  body.innerHTML = `<p class="muted">Computing what the sync would change…</p>`;
  const ok = document.getElementById("confirm-ok");
  ok.disabled = true;
  openConfirm(dialog);
  let preview;
  try {
    preview = await api(`/api/v1/environments/${encodeURIComponent(env)}/sync/preview`,
      {method: "POST", body: {app: app || null, prune, force_conflicts: force}});
  } catch (error) {
    body.innerHTML = `<p class="error">${esc(error.message)}</p>`;
    return;
  }
  body.innerHTML = `
    <p>At git <code>${esc(shortRev(preview.revision))}</code>, the sync will apply exactly this
       (${preview.diffs.length} change${preview.diffs.length === 1 ? "" : "s"}):</p>
    <label class="check"><input type="checkbox" id="prune" ${prune ? "checked" : ""}>
      Prune: delete what git no longer holds${preview.left ? ` (${preview.left} left otherwise)` : ""}</label>
    <label class="check"><input type="checkbox" id="force" ${force ? "checked" : ""}>
      Take over fields changed by others (a hand edit): force conflicts</label>
    <div class="preview">${diffHtml(preview.diffs)}</div>
    <pre class="log" id="progress" hidden></pre>`;
  document.getElementById("prune").addEventListener("change", (e) => confirmSync(env, app, e.target.checked, force));
  document.getElementById("force").addEventListener("change", (e) => confirmSync(env, app, prune, e.target.checked));
  ok.disabled = false;
  const run = async (override) => {
    try {
      const started = await api(`/api/v1/environments/${encodeURIComponent(env)}/sync`,
        {method: "POST", body: {app: app || null, prune, force_conflicts: force, basis: preview.basis,
          ...override}});
      state.operation = started.operation;
      const log = document.getElementById("progress");
      log.hidden = false;
      log.textContent = `sync ${started.operation} started\n`;
    } catch (error) {
      actionFailed(body, error, run);
    }
  };
  ok.onclick = () => { ok.disabled = true; run({}); };
}

// An action the server refused, shown atop its dialog. Inside a closed sync window the
// dialog asks for a reason instead, and ``run`` tries again with it: the reason and the
// user go into the sync record, as with `hakobu sync --override-window`.
function actionFailed(body, error, run) {
  body.querySelector(".action-error")?.remove();
  const changes = error.data && error.data.changes ? `<ul>${error.data.changes.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>` : "";
  const closed = error.data && error.data.error === "window-closed";
  body.insertAdjacentHTML("afterbegin", `<div class="error action-error" role="alert">${esc(error.message)}${changes}
    ${closed ? `<form class="override"><label>Override the sync window; reason (kept in the sync record):
      <input type="text" name="reason" required maxlength="500" autocomplete="off"></label>
      <button type="submit" class="danger">Override and go on</button></form>` : ""}</div>`);
  const form = body.querySelector("form.override");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = form.elements.reason.value.trim();
    if (!reason) return;
    form.querySelector("button").disabled = true;
    run({override_window: reason});
  });
}

// A dialog asks before it acts; once the action is done there is nothing left to cancel.
function openConfirm(dialog) {
  document.getElementById("confirm-cancel").textContent = "Cancel";
  document.getElementById("confirm-ok").hidden = false;
  if (!dialog.open) dialog.showModal();
}

function operationEvent(event) {
  if (event.id !== state.operation) return;
  const log = document.getElementById("progress");
  if (!log) return;
  if (event.state === "done") {
    log.textContent += `${event.result}: ${event.summary}\n${(event.messages || []).join("\n")}`;
    log.dataset.result = event.result;
    document.getElementById("confirm-cancel").textContent = "Close";
    document.getElementById("confirm-ok").hidden = true;
  }
}

function progressEvent(event) {
  if (event.id !== state.operation) return;
  const log = document.getElementById("progress");
  if (log) log.textContent += `${event.line}\n`;
}

async function showSync(env) {
  main.innerHTML = `<h1>Sync ${esc(env)}</h1><p class="muted">See the dialog.</p>`;
  await confirmSync(env, null);
}

// -- history ----------------------------------------------------------------------------

function chart(syncs) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const width = 720;
  const height = 140;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("preserveAspectRatio", "xMinYMax meet");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "sync durations over time; failed syncs in red");
  const max = Math.max(1, ...syncs.map((s) => s.seconds || 0));
  // A bar per sync, oldest on the left; a few syncs stay thin bars, not slabs.
  const step = Math.min((width - 90) / Math.max(syncs.length, 1), 28);
  syncs.forEach((s, i) => {
    const h = Math.max(2, ((s.seconds || 0) / max) * (height - 20));
    const bar = document.createElementNS(ns, "rect");
    bar.setAttribute("x", String(i * step + 2 + 90));
    bar.setAttribute("y", String(height - h));
    bar.setAttribute("width", String(Math.max(step - 4, 2)));
    bar.setAttribute("height", String(h));
    bar.setAttribute("class", s.result === "Succeeded" ? "bar ok" : "bar failed");
    const title = document.createElementNS(ns, "title");
    title.textContent = `${s.started}: ${s.result}, ${(s.seconds || 0).toFixed(1)}s`;
    bar.appendChild(title);
    svg.appendChild(bar);
  });
  const axis = document.createElementNS(ns, "line");
  axis.setAttribute("x1", "0");
  axis.setAttribute("x2", String(width));
  axis.setAttribute("y1", String(height - 0.5));
  axis.setAttribute("y2", String(height - 0.5));
  axis.setAttribute("class", "baseline");
  svg.appendChild(axis);
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "4");
  label.setAttribute("y", "24");
  label.setAttribute("class", "axis");
  label.textContent = `longest ${max.toFixed(1)}s`;
  svg.appendChild(label);
  return svg;
}

async function confirmRollback(env, to, app = null) {
  const dialog = document.getElementById("confirm");
  const body = document.getElementById("confirm-body");
  document.getElementById("confirm-title").textContent =
    `Roll back ${app ? `${app} in ` : ""}${env} to ${to.slice(0, 12)}`;
  body.innerHTML = `<p class="muted">Planning the rollback commit…</p>`;
  const ok = document.getElementById("confirm-ok");
  ok.disabled = true;
  openConfirm(dialog);
  let preview;
  try {
    preview = await api(`/api/v1/environments/${encodeURIComponent(env)}/rollback/preview`,
      {method: "POST", body: {to, app}});
  } catch (error) {
    body.innerHTML = `<p class="error">${esc(error.message)}</p>`;
    return;
  }
  const undone = preview.undone.map((c) => `<li><code>${esc(c.short)}</code> ${esc(c.subject)}
    <span class="muted">— ${esc(c.author)}</span></li>`).join("");
  body.innerHTML = `
    <p>This commit will be made on the branch at <code>${esc(shortRev(preview.head))}</code>,
       restoring <code>${esc(preview.path)}</code> as it was at
       <code>${esc(shortRev(preview.target))}</code>; then ${esc(env)} is synced to it.</p>
    <pre class="commit">${esc(preview.message)}</pre>
    ${undone ? `<p>It undoes:</p><ul class="undone">${undone}</ul>` : ""}
    <pre class="log" id="progress" hidden></pre>`;
  ok.disabled = false;
  const run = async (override) => {
    try {
      const started = await api(`/api/v1/environments/${encodeURIComponent(env)}/rollback`,
        {method: "POST", body: {to, app, basis: preview.basis, ...override}});
      state.operation = started.operation;
      const log = document.getElementById("progress");
      log.hidden = false;
      log.textContent = `rollback committed; sync ${started.operation} started\n`;
    } catch (error) {
      actionFailed(body, error, run);
    }
  };
  ok.onclick = () => { ok.disabled = true; run({}); };
}

async function showHistory(env) {
  const data = await api(`/api/v1/environments/${encodeURIComponent(env)}/history`);
  const rollback = can(env, "rollback");
  const rows = data.commits.map((c, i) => `<tr data-commit="${esc(c.id)}">
      <td><code>${esc(c.short)}</code></td><td>${esc(c.date.slice(0, 16).replace("T", " "))}</td>
      <td>${esc(c.author)}</td><td>${esc(c.subject)}</td><td>${esc(c.apps.join(", ") || "—")}</td>
      <td>${c.syncs.map((s) => `<span class="badge ${s.result === "Succeeded" ? "health-Healthy" : "health-Degraded"}">` +
        `${esc(s.result)} ${(s.seconds || 0).toFixed(1)}s${s.by ? ` · ${esc(s.by)}` : ""}</span>`).join(" ") || `<span class="muted">not synced</span>`}</td>
      <td>${rollback && i > 0 ? `<button type="button" class="rollback" data-to="${esc(c.id)}">Roll back to this…</button>` : ""}</td>
    </tr>`).join("");
  main.innerHTML = `
    <div class="toolbar"><h1>History <span class="muted">of ${esc(env)}</span></h1>
      <span class="muted"><code>${esc(data.path)}</code></span></div>
    <section class="panel"><h2>Sync durations and failures</h2><div id="chart"></div></section>
    <section class="panel"><table class="list"><thead><tr><th>Commit</th><th>Date</th>
      <th>Author</th><th>Subject</th><th>Apps</th><th>Syncs</th><th></th></tr></thead>
      <tbody>${rows || `<tr><td colspan="7" class="muted">No commit changed ${esc(data.path)}.</td></tr>`}</tbody></table></section>`;
  document.getElementById("chart").appendChild(chart(data.syncs));
  main.querySelector("table.list").addEventListener("click", (event) => {
    const button = event.target.closest("button.rollback");
    if (button) confirmRollback(env, button.dataset.to);
  });
}

// -- promotion --------------------------------------------------------------------------

function imagesHtml(cell) {
  if (!cell) return `<span class="muted">not in this environment</span>`;
  return `${badge("sync", cell.sync)} ${badge("health", cell.health)}<div class="images">` +
    cell.images.map((i) => `<span class="image" title="${esc(i)}">${esc(tag(i))}</span>`).join(" ") +
    `</div>`;
}

function valueHtml(value) {
  return value.absent ? `<span class="muted">absent</span>` : `<code>${esc(JSON.stringify(value.value))}</code>`;
}

async function confirmPromotion(source, target, app = null) {
  const dialog = document.getElementById("confirm");
  const body = document.getElementById("confirm-body");
  document.getElementById("confirm-title").textContent =
    `Promote ${app ? `${app} from ` : ""}${source} → ${target}`;
  body.innerHTML = `<p class="muted">Planning the promotion…</p>`;
  const ok = document.getElementById("confirm-ok");
  ok.disabled = true;
  openConfirm(dialog);
  const path = `/api/v1/promotions/${encodeURIComponent(source)}/${encodeURIComponent(target)}`;
  let preview;
  try {
    preview = await api(`${path}/preview`, {method: "POST", body: {app}});
  } catch (error) {
    body.innerHTML = `<p class="error">${esc(error.message)}</p>`;
    return;
  }
  const fields = [
    ...preview.apps.flatMap((a) => a.changes.map((c) => ({where: a.app, ...c}))),
    ...preview.values.map((v) => ({where: "hakobu.yaml", ...v})),
  ].map((c) => `<tr><td>${esc(c.where)}</td><td><code>${esc(c.field)}</code></td>
      <td><code>${esc(c.before)}</code></td><td><code>${esc(c.after)}</code></td></tr>`).join("");
  if (!preview.message) {
    body.innerHTML = `<p>${esc(target)} runs what ${esc(source)} runs at
      <code>${esc(shortRev(preview.revision))}</code> already: nothing to promote.</p>`;
    return;
  }
  body.innerHTML = `
    <p>${esc(source)} at <code>${esc(shortRev(preview.revision))}</code> must be Synced and
       Healthy; then this is committed and ${esc(target)} is synced to it.</p>
    ${fields ? `<table class="list changes"><thead><tr><th>In</th><th>Field</th><th>${esc(target)} now</th>
      <th>becomes</th></tr></thead><tbody>${fields}</tbody></table>` : ""}
    <pre class="commit">${esc(preview.message)}</pre>
    <pre class="log" id="progress" hidden></pre>`;
  ok.disabled = false;
  const run = async (override) => {
    try {
      const started = await api(path, {method: "POST", body: {app, basis: preview.basis, ...override}});
      const log = document.getElementById("progress");
      log.hidden = false;
      if (!started.operation) {
        log.textContent = started.message;
        return;
      }
      state.operation = started.operation;
      log.textContent = `promoted; sync ${started.operation} of ${target} started\n`;
    } catch (error) {
      actionFailed(body, error, run);
    }
  };
  ok.onclick = () => { ok.disabled = true; run({}); };
}

async function showPromotion(source, target) {
  const data = await api(`/api/v1/promotions/${encodeURIComponent(source)}/${encodeURIComponent(target)}`);
  const promote = can(target, "promote");
  const rows = data.apps.map((a) => `<tr data-app="${esc(a.app)}" class="${a.same_images ? "" : "differs"}">
      <th scope="row">${esc(a.app)}</th><td>${imagesHtml(a.from)}</td><td>${imagesHtml(a.to)}</td>
      <td>${a.same_images ? `<span class="muted">same images</span>` : `<strong>would change</strong>`}</td>
      <td>${promote && a.from ? `<button type="button" class="promote-app" data-app="${esc(a.app)}">Promote ${esc(a.app)}…</button>` : ""}</td></tr>`).join("");
  const values = data.values.map((v) => `<tr class="${v.same ? "" : "differs"}"><td><code>${esc(v.path)}</code></td>
      <td>${valueHtml(v.from)}</td><td>${valueHtml(v.to)}</td></tr>`).join("");
  main.innerHTML = `
    <div class="toolbar"><h1>Promote <span class="muted">${esc(source)} → ${esc(target)}</span></h1>
      <span class="muted">git <code>${esc(shortRev(data.from.revision))}</code> →
        <code>${esc(shortRev(data.to.revision))}</code></span>
      ${can(target, "promote") ? `<button type="button" class="primary" id="promote">Promote…</button>` : ""}</div>
    <section class="panel"><h2>Apps</h2><table class="list"><thead><tr><th>App</th>
      <th>${esc(source)} runs</th><th>${esc(target)} runs</th><th></th><th></th></tr></thead>
      <tbody>${rows}</tbody></table></section>
    <section class="panel"><h2>Values promote carries</h2>
      ${values ? `<table class="list"><thead><tr><th>Path</th><th>${esc(source)}</th><th>${esc(target)}</th></tr></thead>
        <tbody>${values}</tbody></table>` : `<p class="muted">hakobu.yaml names no values to promote (<code>promote: {values: […]}</code>).</p>`}</section>`;
  document.getElementById("promote")?.addEventListener("click", () => confirmPromotion(source, target));
  main.querySelector("table.list").addEventListener("click", (event) => {
    const button = event.target.closest("button.promote-app");
    if (button) confirmPromotion(source, target, button.dataset.app);
  });
}

// -- controller -------------------------------------------------------------------------

function leaseRows(rows, first) {
  return rows.map((r) => `<tr><td>${esc(first(r))}</td><td>${esc(r.holder || "—")}</td>
    <td>${esc(r.renewed)}</td></tr>`).join("");
}

async function showController() {
  const data = await api("/api/v1/controller");
  const rows = data.deliveries.map((d) => `<tr>
      <td>${esc(d.namespace)}/${esc(d.name)}</td><td>${esc(d.environment)}</td>
      <td><code>${esc(shortRev(d.revision))}</code></td><td>${d.sync ? badge("sync", d.sync) : ""}</td>
      <td>${d.health ? badge("health", d.health) : ""}</td><td>${d.suspended ? "suspended" : ""}</td>
      <td>${esc(d.ready)}</td><td>${esc(d.reconcile_requested_at || "—")}</td>
      <td class="${d.message ? "error-text" : ""}">${esc(d.message)}</td></tr>`).join("");
  const leases = data.leases;
  let replicas = "";
  if (leases) {
    replicas = `<section class="panel"><h2>Replicas and shards
        <span class="muted">(Leases in ${esc(leases.namespace)})</span></h2>
      ${leases.error ? `<p class="error">${esc(leases.error)}</p>` : ""}
      ${leases.members.length || leases.shards.length ? `<table class="list">
        <thead><tr><th>Replica / shard</th><th>Holder</th><th>Renewed</th></tr></thead>
        <tbody>${leaseRows(leases.members, (r) => r.lease)}
          ${leaseRows(leases.shards, (r) => `shard ${r.shard}`)}</tbody></table>`
        : `<p class="muted">No replica holds a Lease there.</p>`}</section>`;
  }
  main.innerHTML = `<h1>Controller</h1><section class="panel"><h2>Deliveries</h2>
    ${rows ? `<table class="list"><thead><tr><th>Delivery</th><th>Environment</th><th>Revision</th>
      <th>Sync</th><th>Health</th><th></th><th>Ready</th><th>Last reconcile request</th>
      <th>Error</th></tr></thead>
      <tbody>${rows}</tbody></table>` : `<p class="muted">No Delivery delivers this project's environments.</p>`}</section>
    ${replicas}`;
}

// -- live -------------------------------------------------------------------------------

function listen() {
  const source = new EventSource("/api/v1/events");
  const live = document.getElementById("live");
  let lost = false;
  source.addEventListener("hello", () => {
    live.classList.add("on");
    // Events sent while the stream was down are gone: draw the page from the API again.
    if (lost && main.dataset.page === "overview") showOverview();
    lost = false;
  });
  source.onerror = () => {
    live.classList.remove("on");
    lost = true;
  };
  const on = (name, handler) => source.addEventListener(name, (e) => handler(JSON.parse(e.data)));
  on("status", (event) => {
    if (main.dataset.page === "overview") overviewStatus(event);
    else overview.cells.set(`${event.env}\u0000${event.app}`, event.cell);
  });
  on("progress", progressEvent);
  on("operation", operationEvent);
}

async function start() {
  const {page, env, app} = main.dataset;
  // The page asks for its data at once, beside the session, not after it.
  const early = page === "app" ? appDetail(env, app) : page === "overview" ? overviewData() : null;
  early?.catch(() => {});
  state.session = await api("/api/v1/session");
  state.csrf = state.session.csrf;
  document.getElementById("user").textContent = state.session.user;
  const signout = document.getElementById("signout");
  signout.hidden = !state.session.signs_in;
  signout.addEventListener("click", async () => {
    await api("/api/v1/session", {method: "DELETE"});
    location.assign("/signin");
  });
  document.getElementById("confirm-cancel").addEventListener("click", () => document.getElementById("confirm").close());
  listen();
  try {
    if (page === "overview") await showOverview(await early);
    else if (page === "app") await showApp(env, app, await early);
    else if (page === "history") await showHistory(env);
    else if (page === "sync") await showSync(env);
    else if (page === "controller") await showController();
    else if (page === "promotion") await showPromotion(env, main.dataset.target);
    main.dataset.ready = "true";
  } catch (error) {
    main.innerHTML = `<p class="error" role="alert">${esc(error.message)}</p>`;
    main.dataset.ready = "error";
  }
}

start();
