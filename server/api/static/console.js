// The responders' triage console: a live queue, keyboard shortcuts, and the resident panel.
"use strict";

const { $, api, kindWords, clock, ago, drawTimeline, OUTCOMES } = carewatch;
const SEVERITY_RANK = { emergency: 0, urgent: 1, advisory: 2, technical: 3 };
// Telecare services are audited on answering within 60 s: mark open alerts past it.
const ANSWER_WITHIN_S = 60;
// Nobody has taken these on yet: they can be acknowledged and their clock runs red.
const UNANSWERED = ["open", "escalated"];

const state = { alerts: new Map(), selected: null, panelFor: null };

async function reload() {
  const alerts = await api("/api/v1/alerts?status=active");
  state.alerts = new Map(alerts.map((a) => [a.id, a]));
  render();
}

// Server-sent events: the browser reconnects by itself; on each (re)connection
// the list is fetched again, so nothing raised in between is missed.
function follow() {
  carewatch.liveAlerts({
    onOpen: () => { setConnection(true); reload(); },
    onLost: () => setConnection(false),
    onReload: () => reload(),
    onAlert: (alert) => {
      const isNew = !state.alerts.has(alert.id);
      if (alert.status === "resolved") state.alerts.delete(alert.id);
      else state.alerts.set(alert.id, alert);
      if (isNew && alert.status === "open") {
        $("announcer").textContent = `New ${alert.severity} alert: ${alert.resident}, ${kindWords(alert.kind)}.`;
      }
      render();
    },
  });
}

function setConnection(live) {
  $("connection").textContent = live ? "Live: new alerts appear here as they are raised." : "Connection lost; reconnecting…";
  $("connection").classList.toggle("lost", !live);
}

function sorted() {
  return [...state.alerts.values()].sort((a, b) =>
    (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]) || (Date.parse(a.raised_at) - Date.parse(b.raised_at)));
}

function render() {
  const list = $("alerts");
  const alerts = sorted();
  const hadFocus = list.contains(document.activeElement);
  const items = alerts.map((alert) => {
    const existing = list.querySelector(`[data-id="${alert.id}"]`);
    const item = existing || $("alert-template").content.firstElementChild.cloneNode(true);
    fill(item, alert);
    return item;
  });
  list.replaceChildren(...items);
  $("empty").hidden = alerts.length > 0;
  $("count").textContent = `(${alerts.length})`;
  if (!state.alerts.has(state.selected)) state.selected = alerts.length ? alerts[0].id : null;
  markSelected(hadFocus);
  tick();
}

function fill(item, alert) {
  item.dataset.id = alert.id;
  item.dataset.severity = alert.severity;
  item.dataset.status = alert.status;
  item.dataset.raisedAt = alert.raised_at;
  item.setAttribute("aria-label", `${alert.severity} alert: ${alert.resident}, ${kindWords(alert.kind)}`);
  item.querySelector(".severity").textContent = alert.severity;
  item.querySelector(".resident").textContent = alert.resident;
  item.querySelector(".kind").textContent = kindWords(alert.kind);
  item.querySelector(".status").textContent = alert.status === "acknowledged"
    ? `acknowledged by ${alert.acknowledged_by}`
    : alert.status === "escalated" ? "escalated to responders" : alert.status;
  item.querySelector(".reason").textContent = alert.reason;
  const buttons = {
    ack: [`Acknowledge alert for ${alert.resident}`, () => act(alert.id, "ack"), !UNANSWERED.includes(alert.status)],
    escalate: [`Escalate alert for ${alert.resident}`, () => act(alert.id, "escalate"), alert.status !== "open"],
    resolve: [`Resolve alert for ${alert.resident}`, () => askResolve(alert.id), false],
    note: [`Add a note to the alert for ${alert.resident}`, () => askNote(alert.id), false],
  };
  for (const [name, [label, handler, disabled]] of Object.entries(buttons)) {
    const button = item.querySelector(`.${name}`);
    button.setAttribute("aria-label", label);
    button.onclick = handler;
    button.disabled = disabled;
  }
  item.onclick = () => select(alert.id, false);
  item.onfocus = () => select(alert.id, false);
}

function markSelected(focus) {
  for (const item of $("alerts").children) {
    const chosen = item.dataset.id === state.selected;
    item.classList.toggle("selected", chosen);
    item.tabIndex = chosen ? 0 : -1;
    if (chosen && focus && !item.contains(document.activeElement)) item.focus();
  }
  showPanel(state.selected ? state.alerts.get(state.selected) : null);
}

function select(id, focus = true) {
  if (state.selected === id) return;
  state.selected = id;
  markSelected(focus);
}

function move(step) {
  const alerts = sorted();
  if (!alerts.length) return;
  const at = alerts.findIndex((a) => a.id === state.selected);
  const next = alerts[Math.min(alerts.length - 1, Math.max(0, at + step))];
  state.selected = next.id;
  markSelected(true);
}

async function act(id, action, body = {}) {
  try {
    const alert = await api(`/api/v1/alerts/${id}/${action}`, { method: "POST", body });
    if (alert.status === "resolved") state.alerts.delete(alert.id); else state.alerts.set(alert.id, alert);
    $("announcer").textContent = `${alert.resident}: ${action === "notes" ? "note added" : alert.status}.`;
  } catch (error) {
    $("announcer").textContent = error.message;
    await reload();
  }
  render();
}

function askResolve(id) {
  const alert = state.alerts.get(id);
  if (!alert) return;
  const dialog = $("resolve-dialog");
  $("resolve-title").textContent = `Resolve: ${alert.resident}, ${kindWords(alert.kind)}`;
  $("resolve-note").value = "";
  dialog.returnValue = "";
  dialog.onclose = () => {
    if (dialog.returnValue !== "resolve") return;
    const outcome = document.querySelector('input[name="outcome"]:checked').value;
    const note = $("resolve-note").value.trim() || null;
    act(id, "resolve", { outcome, note });
  };
  dialog.showModal();
  document.querySelector('input[name="outcome"]:checked').focus();
}

function askNote(id) {
  const alert = state.alerts.get(id);
  if (!alert) return;
  const dialog = $("note-dialog");
  $("note-title").textContent = `Note: ${alert.resident}, ${kindWords(alert.kind)}`;
  $("note-text").value = "";
  dialog.returnValue = "";
  dialog.onclose = () => {
    const note = $("note-text").value.trim();
    if (dialog.returnValue === "save" && note) act(id, "notes", { note });
  };
  dialog.showModal();
  $("note-text").focus();
}

async function showPanel(alert) {
  const panel = $("panel");
  if (!alert) { panel.hidden = true; state.panelFor = null; return; }
  panel.hidden = false;
  $("panel-reason").textContent = alert.reason;
  if (state.panelFor === alert.resident_id) return;
  state.panelFor = alert.resident_id;
  $("panel-title").textContent = alert.resident;
  $("panel-record").href = `/residents/${alert.resident_id}`;
  try {
    const [resident, timeline] = await Promise.all([
      api(`/api/v1/residents/${alert.resident_id}`),
      api(`/api/v1/residents/${alert.resident_id}/timeline?hours=24`),
    ]);
    if (state.panelFor !== alert.resident_id) return;
    $("panel-address").textContent = resident.address || "not recorded";
    $("panel-access").textContent = resident.access_info === null ? "not shown" : resident.access_info || "not recorded";
    $("panel-health").textContent = resident.health_notes === null ? "not shared by the resident" : resident.health_notes || "none recorded";
    $("panel-away").textContent = resident.away_until ? `until ${new Date(resident.away_until).toLocaleString("en-GB")}` : "at home";
    $("panel-contacts").replaceChildren(...resident.contacts.map((c) => {
      const li = document.createElement("li");
      li.textContent = `${c.name} (${c.role})${c.reach.length ? ": " + c.reach.join(", ") : ""}`;
      return li;
    }));
    if (!resident.contacts.length) $("panel-contacts").textContent = "No carers on the ladder.";
    drawTimeline($("panel-timeline"), timeline, resident.timezone);
  } catch (error) {
    $("panel-timeline").textContent = error.message;
  }
}

function tick() {
  for (const item of document.querySelectorAll("#alerts .alert")) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(item.dataset.raisedAt)) / 1000));
    item.querySelector(".timer").textContent = ago(item.dataset.raisedAt);
    item.classList.toggle("overdue", UNANSWERED.includes(item.dataset.status) && seconds > ANSWER_WITHIN_S);
  }
}

function onKey(event) {
  if (document.querySelector("dialog[open]")) {
    const dialog = document.querySelector("dialog[open]");
    if (dialog.id === "resolve-dialog" && /^[1-5]$/.test(event.key) && event.target.tagName !== "TEXTAREA") {
      const choice = document.querySelectorAll('input[name="outcome"]')[Number(event.key) - 1];
      choice.checked = true; choice.focus(); event.preventDefault();
    }
    if (dialog.id === "resolve-dialog" && event.key === "Enter" && event.target.tagName === "INPUT") {
      event.preventDefault();
      dialog.close("resolve");
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName)) return;
  const id = state.selected;
  const keys = {
    ArrowDown: () => move(1), j: () => move(1), ArrowUp: () => move(-1), k: () => move(-1),
    a: () => id && act(id, "ack"), e: () => id && act(id, "escalate"),
    r: () => id && askResolve(id), n: () => id && askNote(id), "?": () => $("help-dialog").showModal(),
  };
  if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("outcomes").replaceChildren(...OUTCOMES.map(([value, words], i) => {
    const label = document.createElement("label");
    label.className = "choice";
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "outcome", value, checked: i === 0 });
    label.append(input, ` ${i + 1}. ${words}`);
    return label;
  }));
  document.addEventListener("keydown", onKey);
  const me = await carewatch.start();
  if (!me) return;
  $("admin-link").hidden = $("admin-sep").hidden = me.role !== "admin";
  setInterval(tick, 1000);
  await reload();
  follow();
});
