// The triage console: sign in, list active alerts, follow changes live, act on them.
"use strict";

const SEVERITY_RANK = { emergency: 0, urgent: 1, advisory: 2, technical: 3 };
const KIND_WORDS = {
  pendant: "Pendant pressed", pull_cord: "Pull cord", fall: "Fall detected", smoke: "Smoke",
  co: "Carbon monoxide", flood: "Flood", no_movement: "No movement", hub_offline: "Hub offline",
};
// Telecare services are audited on answering within 60 s: mark open alerts past it.
const ANSWER_WITHIN_S = 60;
// Nobody has taken these on yet: they can be acknowledged and their clock runs red.
const UNANSWERED = ["open", "escalated"];

const state = { token: sessionStorage.getItem("carewatch-token"), alerts: new Map(), stream: null };
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}), Authorization: `Bearer ${state.token}` };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { signOut("Your session has ended; sign in again."); throw new Error("unauthorised"); }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(typeof body.detail === "string" ? body.detail : `request failed (${response.status})`);
  }
  return response.json();
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("sign-in-error").textContent = "";
  const response = await fetch("/api/v1/auth/token", { method: "POST", body: new URLSearchParams(form) });
  if (!response.ok) { $("sign-in-error").textContent = "Wrong username or password."; return; }
  state.token = (await response.json()).access_token;
  sessionStorage.setItem("carewatch-token", state.token);
  await start();
}

function signOut(message = "") {
  state.token = null;
  sessionStorage.removeItem("carewatch-token");
  if (state.stream) state.stream.abort();
  state.alerts.clear();
  $("queue").hidden = true; $("who").hidden = true; $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
}

async function start() {
  const me = await api("/api/v1/me");
  $("username").textContent = `${me.username} (${me.role})`;
  $("sign-in").hidden = true; $("who").hidden = false; $("queue").hidden = false;
  await reload();
  follow();
}

async function reload() {
  const alerts = await api("/api/v1/alerts?status=active");
  state.alerts = new Map(alerts.map((a) => [a.id, a]));
  render();
}

// Server-sent events read through fetch, so the token travels in a header, not the URL.
async function follow() {
  const controller = new AbortController();
  state.stream = controller;
  while (state.token && !controller.signal.aborted) {
    try {
      const response = await fetch("/api/v1/alerts/stream", {
        headers: { Authorization: `Bearer ${state.token}` }, signal: controller.signal,
      });
      if (response.status === 401) { signOut("Your session has ended; sign in again."); return; }
      setConnection(true);
      await reload();  // anything raised while we were away
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          handleEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    setConnection(false);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function handleEvent(block) {
  let name = "message"; const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (name === "reload") { reload(); return; }
  if (name !== "alert") return;
  const alert = JSON.parse(data.join("\n"));
  const isNew = !state.alerts.has(alert.id);
  if (alert.status === "resolved") state.alerts.delete(alert.id);
  else state.alerts.set(alert.id, alert);
  if (isNew && alert.status === "open") {
    $("announcer").textContent = `New ${alert.severity} alert: ${alert.resident}, ${KIND_WORDS[alert.kind] || alert.kind}.`;
  }
  render();
}

function setConnection(live) {
  $("connection").textContent = live ? "Live: new alerts appear here as they are raised." : "Connection lost; reconnecting…";
  $("connection").classList.toggle("lost", !live);
}

function sorted() {
  return [...state.alerts.values()].sort((a, b) =>
    (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]) || (Date.parse(b.raised_at) - Date.parse(a.raised_at)));
}

function render() {
  const list = $("alerts");
  const alerts = sorted();
  const items = alerts.map((alert) => {
    const existing = list.querySelector(`[data-id="${alert.id}"]`);
    const item = existing || $("alert-template").content.firstElementChild.cloneNode(true);
    fill(item, alert);
    return item;
  });
  list.replaceChildren(...items);
  $("empty").hidden = alerts.length > 0;
  $("count").textContent = `(${alerts.length})`;
  tick();
}

function fill(item, alert) {
  item.dataset.id = alert.id;
  item.dataset.severity = alert.severity;
  item.dataset.status = alert.status;
  item.dataset.raisedAt = alert.raised_at;
  item.querySelector(".severity").textContent = alert.severity;
  item.querySelector(".resident").textContent = alert.resident;
  item.querySelector(".kind").textContent = KIND_WORDS[alert.kind] || alert.kind;
  item.querySelector(".status").textContent = alert.status === "acknowledged"
    ? `acknowledged by ${alert.acknowledged_by}`
    : alert.status === "escalated" ? "escalated to responders" : alert.status;
  item.querySelector(".reason").textContent = alert.reason;
  const ack = item.querySelector(".ack");
  ack.disabled = !UNANSWERED.includes(alert.status);
  ack.setAttribute("aria-label", `Acknowledge alert for ${alert.resident}`);
  ack.onclick = () => act(item, `/api/v1/alerts/${alert.id}/ack`, {});
  const resolve = item.querySelector(".resolve");
  resolve.disabled = false;
  resolve.setAttribute("aria-label", `Resolve alert for ${alert.resident}`);
  resolve.onclick = () => act(item, `/api/v1/alerts/${alert.id}/resolve`,
    { outcome: item.querySelector(".outcome").value });
}

async function act(item, path, body) {
  for (const button of item.querySelectorAll("button")) button.disabled = true;
  try {
    const alert = await api(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (alert.status === "resolved") state.alerts.delete(alert.id); else state.alerts.set(alert.id, alert);
  } catch (error) {
    $("announcer").textContent = error.message;
    await reload();
  }
  render();
}

function tick() {
  const now = Date.now();
  for (const item of document.querySelectorAll("#alerts .alert")) {
    const seconds = Math.max(0, Math.floor((now - Date.parse(item.dataset.raisedAt)) / 1000));
    const minutes = Math.floor(seconds / 60);
    item.querySelector(".timer").textContent = minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
    item.classList.toggle("overdue", UNANSWERED.includes(item.dataset.status) && seconds > ANSWER_WITHIN_S);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  setInterval(tick, 1000);
  if (state.token) start().catch(() => signOut());
});
