// The responders' triage console: the shift bar, a live queue, keyboard shortcuts, the
// resident panel with the alert's response plan.
"use strict";

const { $, api, kindWords, ago, drawTimeline, OUTCOMES } = carewatch;
const SEVERITY_RANK = { emergency: 0, urgent: 1, advisory: 2, technical: 3 };
// Telecare services are audited on answering an emergency within 60 s. An urgent
// alert is the carers' first: it is late for the centre once their window has
// passed, which is when the ladder escalates it to the responders.
const ANSWER_WITHIN_S = 60;
// Nobody has taken these on yet: they can be acknowledged, they sort first, their clock runs.
const UNANSWERED = ["open", "escalated"];
const STATE_WORDS = { unanswered: "unanswered", in_progress: "in progress", needs_review: "needs review", closed: "closed" };
// New alerts of these severities sound the alarm; advisories never wake anyone.
const SOUNDED = ["emergency", "urgent"];
// While an emergency waits unanswered, the sound is repeated this often.
const REPEAT_SOUND_MS = 30_000;
const MUTE_KEY = "carewatch.console.muted";

const state = {
  alerts: new Map(), selected: null, panelFor: null, planFor: null, plans: {}, record: null,
  // Each resident's own checklists (resident id → kind → plan), fetched with the panel.
  residentPlans: new Map(),
  // What has sounded: alert id → "status:presses", so a change that matters sounds once.
  heard: new Map(), lastSound: 0, sounded: 0, firstLoad: true,
};

async function reload() {
  const alerts = await api("/api/v1/alerts?status=active");
  state.alerts = new Map(alerts.map((a) => [a.id, a]));
  // What was already waiting when the page opened does not sound; what arrives later does.
  for (const alert of alerts) if (state.firstLoad || state.heard.has(alert.id)) state.heard.set(alert.id, soundKey(alert));
  state.firstLoad = false;
  render();
  soundForNew(alerts);
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
      if (alert.status === "resolved") { state.alerts.delete(alert.id); loadClosed(); }
      else state.alerts.set(alert.id, alert);
      if (isNew && UNANSWERED.includes(alert.status)) {
        $("announcer").textContent = `New ${alert.severity} alert: ${alert.resident}, ${kindWords(alert.kind)}.`;
      }
      render();
      soundForNew([alert]);
    },
  });
}

function setConnection(live) {
  $("connection").textContent = live ? "Live: new alerts appear here as they are raised." : "Connection lost; reconnecting…";
  $("connection").classList.toggle("lost", !live);
}

// --- The alarm sound --------------------------------------------------------------

const soundKey = (alert) => `${alert.status}:${alert.details.presses || 1}`;
const muted = () => localStorage.getItem(MUTE_KEY) === "yes";

// A new unanswered alarm, a new press (even on an answered alert: the person asked
// again), or an alert escalated to the centre sounds once.
function soundForNew(alerts) {
  let fresh = false;
  for (const alert of alerts) {
    if (alert.status === "resolved") { state.heard.delete(alert.id); continue; }
    const key = soundKey(alert);
    const before = state.heard.get(alert.id);
    if (before === key) continue;
    state.heard.set(alert.id, key);
    const pressedAgain = before !== undefined && before.split(":")[1] !== key.split(":")[1];
    if (SOUNDED.includes(alert.severity) && (UNANSWERED.includes(alert.status) || pressedAgain)) fresh = true;
  }
  if (fresh) sound();
}

function sound() {
  if (muted()) return;
  const audio = $("alarm-sound");
  state.lastSound = Date.now();
  audio.currentTime = 0;
  audio.play().then(() => {
    state.sounded += 1;
    // Read by the browser tests: the alarm really started playing.
    document.body.dataset.alarmsSounded = String(state.sounded);
    $("sound-blocked").hidden = true;
  }).catch(() => { $("sound-blocked").hidden = false; });
}

function showMute() {
  const button = $("sound-toggle");
  button.setAttribute("aria-pressed", String(muted()));
  button.textContent = muted() ? "Sound muted: turn on" : "Mute sound";
}

// --- The queue ----------------------------------------------------------------------

// Unanswered above in progress, then most severe, then longest waiting.
function sorted() {
  const waiting = (a) => (UNANSWERED.includes(a.status) ? 0 : 1);
  return [...state.alerts.values()].sort((a, b) =>
    (waiting(a) - waiting(b)) || (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity])
    || (Date.parse(a.raised_at) - Date.parse(b.raised_at)));
}

function statusWords(alert) {
  const review = alert.details.needs_review ? "cleared: needs review" : null;
  if (alert.status === "acknowledged") return [`acknowledged by ${alert.acknowledged_by}`, review].filter(Boolean).join(" · ");
  if (review) return review;
  if (alert.status === "escalated") return "escalated to responders";
  return alert.status;
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
  item.dataset.state = alert.state;
  item.dataset.stateSince = alert.state_since;
  item.dataset.review = alert.details.needs_review ? "yes" : "no";
  const responding = (alert.details.responding || []).map((r) => r.by);
  item.setAttribute("aria-label", `${alert.severity} alert: ${alert.resident}, ${kindWords(alert.kind)}, ${statusWords(alert)}`);
  item.querySelector(".severity").textContent = alert.severity;
  item.querySelector(".resident").textContent = alert.resident;
  item.querySelector(".kind").textContent = kindWords(alert.kind);
  item.querySelector(".status").textContent = statusWords(alert)
    + (responding.length ? ` · carer on the way: ${responding.join(", ")}` : "")
    + (alert.details.nobody_notified && UNANSWERED.includes(alert.status) ? " · nobody notified" : "");
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

const DONE_WORDS = { notes: "note added", steps: "step recorded" };

async function act(id, action, body = {}) {
  try {
    const alert = await api(`/api/v1/alerts/${id}/${action}`, { method: "POST", body });
    if (alert.status === "resolved") { state.alerts.delete(alert.id); loadClosed(); } else state.alerts.set(alert.id, alert);
    $("announcer").textContent = `${alert.resident}: ${DONE_WORDS[action] || statusWords(alert)}.`;
    render();
    return alert;
  } catch (error) {
    $("announcer").textContent = error.message;
    await reload();
    throw error;
  }
}

// --- Resolving: the outcome is always chosen, an emergency needs a note -----------------

function askResolve(id) {
  const alert = state.alerts.get(id);
  if (!alert) return;
  const dialog = $("resolve-dialog");
  const noteNeeded = alert.severity === "emergency";
  $("resolve-title").textContent = `Resolve: ${alert.resident}, ${kindWords(alert.kind)}`;
  $("resolve-note").value = "";
  $("resolve-note").required = noteNeeded;
  $("resolve-note-label").textContent = noteNeeded
    ? "Note (needed for an emergency: what happened, who was called)" : "Note (optional)";
  $("resolve-error").textContent = "";
  for (const input of document.querySelectorAll('input[name="outcome"]')) input.checked = false;
  dialog.dataset.alert = id;
  dialog.showModal();
  document.querySelector('input[name="outcome"]').focus();
}

// Enter (or the Resolve button) submits; nothing closes without an outcome chosen.
async function onResolveSubmit(event) {
  const dialog = $("resolve-dialog");
  if (event.submitter && event.submitter.value === "cancel") return;
  event.preventDefault();
  const chosen = document.querySelector('input[name="outcome"]:checked');
  const note = $("resolve-note").value.trim();
  if (!chosen) {
    $("resolve-error").textContent = "Choose an outcome first (keys 1–5).";
    document.querySelector('input[name="outcome"]').focus();
    return;
  }
  if ($("resolve-note").required && !note) {
    $("resolve-error").textContent = "Write a note: what happened and who was called.";
    $("resolve-note").focus();
    return;
  }
  try {
    await act(dialog.dataset.alert, "resolve", { outcome: chosen.value, note: note || null });
    dialog.close("resolve");
  } catch (error) {
    $("resolve-error").textContent = error.message;
  }
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
    if (dialog.returnValue === "save" && note) act(id, "notes", { note }).catch(() => {});
  };
  dialog.showModal();
  $("note-text").focus();
}

// --- The panel: the alert's plan, then the resident ----------------------------------

// The resident's own checklist once it is fetched (her steps, her contacts as rungs with
// their numbers); until then, the kind's default.
function stepsFor(alert) {
  const own = state.residentPlans.get(alert.resident_id);
  const plan = own && own.find((p) => p.kind === alert.kind);
  return { steps: plan ? plan.steps : state.plans[alert.kind] || [], plan };
}

function showPlan(alert) {
  const list = $("panel-plan");
  const { steps, plan } = stepsFor(alert);
  const done = new Set(alert.details.steps_done || []);
  const drawn = `${alert.id}:${steps.map((s) => s.id + s.words).join("|")}`;
  if (state.planFor !== drawn) {
    state.planFor = drawn;
    $("plan-whose").textContent = !plan ? "" : plan.own
      ? `${alert.resident}'s own plan for this alarm, then their contacts in call order.`
      : "The plan for this alarm, with their contacts in call order.";
    list.replaceChildren(...steps.map((step, i) => {
      const li = document.createElement("li");
      const label = document.createElement("label");
      label.className = "choice";
      const box = document.createElement("input");
      Object.assign(box, { type: "checkbox", value: step.id, id: `step-${i}` });
      box.addEventListener("change", async () => {
        try {
          await act(alert.id, "steps", { step: step.id, done: box.checked });
        } catch { box.checked = !box.checked; }
      });
      label.append(box, ` ${step.words}`);
      li.append(label);
      // A rung that calls someone dials them from the checklist itself.
      if (step.phone) li.append(" ", dial(step.phone, `Call ${step.words.replace(/^Call /, "")} on ${step.phone.display}`));
      return li;
    }));
  }
  for (const box of list.querySelectorAll("input")) box.checked = done.has(box.value);
}

async function loadPlans(residentId) {
  const plans = await api(`/api/v1/residents/${residentId}/plans`);
  state.residentPlans.set(residentId, plans);
  const alert = state.alerts.get(state.selected);
  if (alert && alert.resident_id === residentId) showPlan(alert);
  return plans;
}

function editPlan() {
  const alert = state.alerts.get(state.selected);
  const plans = alert && state.residentPlans.get(alert.resident_id);
  if (!plans) return;
  planEditor.fill(alert.resident_id, alert.resident, plans, alert.kind);
  $("plan-dialog-title").textContent = `Response plans: ${alert.resident}`;
  $("plan-dialog").showModal();
  $("pl-steps").focus();
}

async function showPanel(alert) {
  const panel = $("panel");
  if (!alert) { panel.hidden = true; state.panelFor = null; state.planFor = null; return; }
  panel.hidden = false;
  $("panel-reason").textContent = alert.reason;
  $("panel-review").hidden = !alert.details.needs_review;
  $("panel-review").textContent = alert.details.needs_review
    ? `Cleared by itself after it reached the responders: ${alert.details.cleared_reason || ""} `
      + "Check on the resident, then close it with an outcome." : "";
  const responding = alert.details.responding || [];
  $("panel-responding").hidden = !responding.length;
  $("panel-responding").textContent = responding.length
    ? `${responding.map((r) => r.by).join(", ")} said they are dealing with it. The alert stays with the centre until a responder closes it.` : "";
  $("panel-nobody").hidden = !(alert.details.nobody_notified && UNANSWERED.includes(alert.status));
  showPlan(alert);
  if (state.panelFor === alert.resident_id) return;
  state.panelFor = alert.resident_id;
  state.record = null;
  $("panel-title").textContent = alert.resident;
  $("panel-record").href = `/residents/${alert.resident_id}`;
  $("key-safe-code").textContent = "";
  try {
    const [resident, record, timeline] = await Promise.all([
      api(`/api/v1/residents/${alert.resident_id}`),
      api(`/api/v1/residents/${alert.resident_id}/record`),
      api(`/api/v1/residents/${alert.resident_id}/timeline?hours=24`),
      loadPlans(alert.resident_id),
    ]);
    if (state.panelFor !== alert.resident_id) return;
    showRecord(record);
    $("panel-away").textContent = resident.away_until ? `until ${new Date(resident.away_until).toLocaleString("en-GB")}` : "at home";
    // The alert ladder's carers (people who sign in), apart from the record's contacts.
    $("panel-ladder").textContent = resident.contacts.length
      ? `Alert ladder: ${resident.contacts.map((c) => `${c.name} (${c.role})`).join(", ")}.` : "No carers on the alert ladder.";
    drawTimeline($("panel-timeline"), timeline, resident.timezone);
  } catch (error) {
    $("panel-timeline").textContent = error.message;
  }
}

// --- The care record on the panel: what to say, whom to dial, what to watch for -----------

function dial(phone, label) {
  const link = document.createElement("a");
  link.href = phone.tel;
  link.textContent = phone.display;
  link.setAttribute("aria-label", label);
  return link;
}

function flag(label, text, urgent = false) {
  const li = document.createElement("li");
  if (urgent) li.className = "urgent-flag";
  const strong = document.createElement("strong");
  strong.textContent = `${label}: `;
  li.append(strong, text);
  return li;
}

function showRecord(record) {
  state.record = record;
  $("panel-phone").replaceChildren(record.phone
    ? dial(record.phone, `Call ${record.name} on ${record.phone.display}`) : "not recorded");
  $("panel-address").textContent = record.address || "not recorded";
  $("panel-access").textContent = record.access === null ? "not shown" : record.access.notes || "not recorded";
  const hasCode = Boolean(record.access && record.access.has_key_safe_code);
  $("reveal-key-safe").hidden = !(record.may_reveal_key_safe && hasCode);
  // A code shown before is hidden again whenever the record is drawn (after an edit, too).
  $("key-safe-code").textContent = hasCode ? "" : record.access ? "none on file" : "not shown";
  const health = record.health;
  const flags = [];
  if (health) {
    if (health.resuscitation !== "none") {
      flags.push(flag(health.resuscitation_words, health.resuscitation_form_at ? `form ${health.resuscitation_form_at}` : "ask where the form is", true));
    }
    if (health.allergies) flags.push(flag("Allergies", health.allergies, true));
  }
  if (record.hazards.length) flags.push(flag("Hazards", record.hazards.join("; "), true));
  if (record.hearing_sight) flags.push(flag("Hearing, sight", record.hearing_sight));
  if (record.language) flags.push(flag("Language", record.language));
  if (!health) flags.push(flag("Health", "not shared by the resident"));
  else if (health.resuscitation === "none") flags.push(flag("DNACPR / ReSPECT", "none recorded"));
  $("panel-flags").replaceChildren(...flags);
  $("panel-medication").textContent = health === null ? "not shared" : health.medication || "none recorded";
  $("panel-health").textContent = health === null ? "not shared" : health.medical_summary || "none recorded";
  $("panel-contacts").replaceChildren(...record.contacts.map((c) => {
    const li = document.createElement("li");
    const who = [c.relationship, c.keyholder ? "keyholder" : ""].filter(Boolean).join(", ");
    li.append(`${c.name}${who ? ` (${who})` : ""}`);
    if (c.phone) li.append(": ", dial(c.phone, `Call ${c.name} on ${c.phone.display}`));
    return li;
  }));
  if (!record.contacts.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = "No contacts recorded.";
    $("panel-contacts").replaceChildren(none);
  }
  $("edit-record").hidden = !record.may_edit;
  $("edit-plan").hidden = !record.may_edit;
}

async function revealKeySafe() {
  const record = state.record;
  if (!record) return;
  try {
    const shown = await api(`/api/v1/residents/${record.resident_id}/record/key-safe`, { method: "POST" });
    if (state.panelFor !== record.resident_id) return;
    const at = new Date(shown.shown_at).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
    $("key-safe-code").textContent = `${shown.code || "none on file"} (shown at ${at}; this is logged)`;
  } catch (error) { $("key-safe-code").textContent = error.message; }
}

function editRecord() {
  if (!state.record) return;
  careRecord.fill(state.record);
  $("record-title").textContent = `Care record: ${state.record.name}`;
  $("record-dialog").showModal();
  $("cr-phone").focus();
}

// --- Recently closed: what the shift has just dealt with, each with its trail --------------

async function loadClosed() {
  let closed;
  try { closed = await api("/api/v1/alerts/recently-closed?hours=12"); } catch { return; }
  const open = new Set([...$("closed").querySelectorAll("details[open]")].map((d) => d.dataset.alert));
  $("closed").replaceChildren(...closed.map(({ alert, trail }) => {
    const item = carewatch.closedAlert(alert, trail, { withResident: true });
    const details = item.querySelector("details");
    details.dataset.alert = alert.id;
    details.open = open.has(alert.id);  // a trail being read stays open when the list redraws
    return item;
  }));
  if (!closed.length) $("closed").replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: "Nothing closed in the last 12 hours." }));
  $("closed-count").textContent = `(${closed.length})`;
}

// --- The shift bar ---------------------------------------------------------------------

async function loadShift() {
  let shift;
  try { shift = await api("/api/v1/shift"); } catch { return; }
  const onDuty = $("shift-on-duty");
  onDuty.replaceChildren(...shift.on_duty.flatMap((c, i) => {
    const parts = [i ? ", " : "", c.name];
    if (c.phone) {
      const link = document.createElement("a");
      link.href = `tel:${c.phone.replaceAll(" ", "")}`;
      link.textContent = c.phone;
      parts.push(" (", link, ")");
    }
    return parts;
  }));
  if (!shift.on_duty.length) onDuty.textContent = "nobody";
  $("nobody").hidden = shift.on_duty.length > 0;
  $("shift-hubs-offline").textContent = String(shift.hubs_offline);
  const duty = $("duty-toggle");
  duty.hidden = shift.you_on_duty === null;
  duty.textContent = shift.you_on_duty ? "Go off duty" : "Go on duty";
  duty.setAttribute("aria-pressed", String(Boolean(shift.you_on_duty)));
}

async function toggleDuty() {
  const on = $("duty-toggle").getAttribute("aria-pressed") !== "true";
  try {
    await api("/api/v1/me/duty", { method: "PUT", body: { on_duty: on } });
    $("announcer").textContent = on ? "You are on duty." : "You are off duty.";
  } catch (error) { $("announcer").textContent = error.message; }
  await loadShift();
}

function tick() {
  let unanswered = 0; let oldest = null; let emergencyWaiting = false;
  for (const item of document.querySelectorAll("#alerts .alert")) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(item.dataset.raisedAt)) / 1000));
    const waiting = UNANSWERED.includes(item.dataset.status);
    // The clock counts from the server's moment of the state (raised, first
    // acknowledged, cleared), so a reload or a colleague's screen shows the same.
    const timer = item.querySelector(".timer");
    timer.textContent = `${STATE_WORDS[item.dataset.state] || item.dataset.state} ${ago(item.dataset.stateSince)}`;
    timer.title = `raised ${ago(item.dataset.raisedAt)} ago`;
    const late = item.dataset.severity === "emergency" ? seconds > ANSWER_WITHIN_S
      : item.dataset.severity === "urgent" && item.dataset.status === "escalated";
    item.classList.toggle("overdue", waiting && late);
    if (waiting) {
      unanswered += 1;
      if (oldest === null || item.dataset.raisedAt < oldest) oldest = item.dataset.raisedAt;
      if (item.dataset.severity === "emergency") emergencyWaiting = true;
    }
  }
  $("shift-unanswered").textContent = String(unanswered);
  $("shift-oldest").textContent = oldest ? ago(oldest) : "none";
  document.title = `${unanswered ? `(${unanswered}) ` : ""}Triage console — carewatch`;
  if (emergencyWaiting && Date.now() - state.lastSound > REPEAT_SOUND_MS) sound();
}

// --- Keys --------------------------------------------------------------------------------

function onKey(event) {
  const dialog = document.querySelector("dialog[open]");
  if (dialog) {
    // Ctrl+Enter in the note sends the form, so the whole dialog works from the keyboard.
    if (dialog.id === "resolve-dialog" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      $("resolve-form").requestSubmit();
      return;
    }
    if (dialog.id === "resolve-dialog" && /^[1-5]$/.test(event.key) && event.target.tagName !== "TEXTAREA") {
      const choice = document.querySelectorAll('input[name="outcome"]')[Number(event.key) - 1];
      choice.checked = true; choice.focus(); event.preventDefault();
      $("resolve-error").textContent = "";
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = ["TEXTAREA", "SELECT"].includes(event.target.tagName)
    || (event.target.tagName === "INPUT" && event.target.type !== "checkbox");
  if (typing) return;
  const id = state.selected;
  const keys = {
    ArrowDown: () => move(1), j: () => move(1), ArrowUp: () => move(-1), k: () => move(-1),
    a: () => id && act(id, "ack").catch(() => {}), e: () => id && act(id, "escalate").catch(() => {}),
    p: () => { const box = $("panel-plan").querySelector("input:not(:checked)") || $("panel-plan").querySelector("input"); if (box) box.focus(); },
    r: () => id && askResolve(id), n: () => id && askNote(id), "?": () => $("help-dialog").showModal(),
  };
  if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("outcomes").replaceChildren(...OUTCOMES.map(([value, words], i) => {
    const label = document.createElement("label");
    label.className = "choice";
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "outcome", value });
    label.append(input, ` ${i + 1}. ${words}`);
    return label;
  }));
  $("resolve-form").addEventListener("submit", onResolveSubmit);
  document.addEventListener("keydown", onKey);
  $("sound-toggle").addEventListener("click", () => {
    localStorage.setItem(MUTE_KEY, muted() ? "no" : "yes");
    showMute();
  });
  $("duty-toggle").addEventListener("click", toggleDuty);
  $("reveal-key-safe").addEventListener("click", revealKeySafe);
  $("edit-record").addEventListener("click", editRecord);
  $("record-close").addEventListener("click", () => $("record-dialog").close());
  careRecord.setUp((record) => {
    $("record-dialog").close();
    if (state.panelFor === record.resident_id) showRecord(record);
    $("announcer").textContent = `${record.name}: care record saved.`;
    loadPlans(record.resident_id).catch(() => {});  // the contacts are the plan's rungs
  });
  $("edit-plan").addEventListener("click", editPlan);
  $("plan-close").addEventListener("click", () => $("plan-dialog").close());
  planEditor.setUp((residentId, name, plan) => {
    const plans = (state.residentPlans.get(residentId) || []).map((p) => (p.kind === plan.kind ? plan : p));
    state.residentPlans.set(residentId, plans);
    const alert = state.alerts.get(state.selected);
    if (alert) showPlan(alert);
    $("announcer").textContent = `${name}: ${kindWords(plan.kind).toLowerCase()} plan saved.`;
  });
  showMute();
  const me = await carewatch.start();
  if (!me) return;
  $("admin-link").hidden = $("admin-sep").hidden = me.role !== "admin";
  state.plans = await api("/api/v1/plans");
  setInterval(tick, 1000);
  setInterval(loadShift, 30_000);
  await Promise.all([reload(), loadShift(), loadClosed()]);
  follow();
});
