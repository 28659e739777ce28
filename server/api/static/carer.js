// A carer's residents, phone first: as usual or what is different, alerts and what to do
// about them, past alerts, today and this week. Live updates change each card in place:
// what the carer opened stays open, what she typed stays typed, the page does not jump.
"use strict";

const { $, api, kindWords, ago, clock, drawTimeline, drawTrends, OUTCOMES } = carewatch;

const OUTCOME_WORDS = Object.fromEntries([...OUTCOMES, ["self_cleared", "Cleared by itself"]]);
const REFRESH_MS = 60_000; // check-ins and the daily picture do not come on the alert stream
const cards = new Map(); // resident id -> { el, record, routine, timeline, busy, again }

const me = () => carewatch.session.me.username;
// "Mrs Edith Clarke" -> "Edith": how a daughter or a neighbour says it.
function firstName(name) {
  const words = name.split(/\s+/).filter((w) => !/^(mrs|mr|ms|miss|mx|dr)\.?$/i.test(w));
  return words[0] || name;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function announce(text) { $("announcer").textContent = text; }

// Who did it, in the carer's words: "you" for herself, names for the people she knows.
function person(username, record) {
  if (username === me()) return "you";
  const contact = record.contacts.find((c) => c.username === username);
  return contact ? contact.name : username;
}

function day(iso, timeZone) {
  return new Date(iso).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone });
}

async function loadResidents() {
  const residents = await api("/api/v1/residents");
  const box = $("residents");
  if (!residents.length) {
    cards.clear();
    box.replaceChildren(el("p", { class: "muted", text: "Nobody has been assigned to you yet." }));
    return;
  }
  box.querySelector(":scope > p")?.remove();
  const ids = new Set(residents.map((r) => r.id));
  for (const [id, entry] of cards) if (!ids.has(id)) { entry.el.remove(); cards.delete(id); }
  residents.forEach((resident, i) => {
    if (!cards.has(resident.id)) cards.set(resident.id, { el: newCard(resident) });
    const node = cards.get(resident.id).el;
    if (box.children[i] !== node) box.insertBefore(node, box.children[i] || null);
  });
  await Promise.all(residents.map((r) => refreshCard(r.id)));
}

function newCard(resident) {
  const item = $("card-template").content.firstElementChild.cloneNode(true);
  item.dataset.residentId = resident.id;
  const link = item.querySelector(".record-link");
  link.textContent = resident.name;
  link.href = `/residents/${resident.id}`;
  // The pictures are drawn when opened, at the width they are shown at.
  item.querySelector(".today").addEventListener("toggle", () => drawPictures(resident.id));
  item.querySelector(".week").addEventListener("toggle", () => drawPictures(resident.id));
  return item;
}

// One card's data, fetched again; a refresh asked for while one runs runs once after it.
async function refreshCard(residentId) {
  const entry = cards.get(residentId);
  if (!entry) return;
  if (entry.busy) { entry.again = true; return; }
  entry.busy = true;
  try {
    do {
      entry.again = false;
      const [record, care, alerts, past, routine, timeline] = await Promise.all([
        api(`/api/v1/residents/${residentId}`),
        // The care record: her phone (a carer sees it, not the health parts).
        api(`/api/v1/residents/${residentId}/record`).catch(() => null),
        api(`/api/v1/alerts?status=active&resident_id=${residentId}`),
        api(`/api/v1/residents/${residentId}/past-alerts?limit=10`),
        api(`/api/v1/residents/${residentId}/routine?days=28`).catch((e) => e),
        api(`/api/v1/residents/${residentId}/timeline?hours=24`).catch((e) => e),
      ]);
      record.care = care;
      Object.assign(entry, { record, routine, timeline });
      // Her place on the page: whatever she is looking at stays where it is on the
      // screen, whatever grew or shrank above it (the browser's own scroll anchoring
      // picks its anchor itself and was seen to let the page move).
      const anchor = [...document.querySelectorAll(".alert, .card")].find((node) => {
        const box = node.getBoundingClientRect();
        return box.top >= 0 && box.top < window.innerHeight;
      });
      const before = anchor?.getBoundingClientRect().top;
      showVerdict(entry, alerts);
      showCheckin(entry);
      showAlerts(entry, alerts);
      showPast(entry, past);
      drawPictures(residentId);
      if (anchor?.isConnected) window.scrollBy(0, anchor.getBoundingClientRect().top - before);
    } while (entry.again);
  } finally {
    entry.busy = false;
  }
}

function showVerdict({ el: item, record, routine }, alerts) {
  const verdict = item.querySelector(".verdict");
  const differences = item.querySelector(".differences");
  const shared = !(routine instanceof Error);
  item.querySelector(".today").hidden = !shared;
  item.querySelector(".week").hidden = !shared;
  if (!shared) {
    verdict.textContent = "Their daily picture is private: they have not shared it with carers.";
    differences.replaceChildren();
    return;
  }
  if (record.away_until && Date.parse(record.away_until) > Date.now()) {
    verdict.textContent = `Away until ${new Date(record.away_until).toLocaleString("en-GB", {
      weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit", timeZone: record.timezone })}.`;
  } else if (routine.learning && routine.as_usual) {
    verdict.textContent = "Still learning their routine; nothing unusual seen.";
  } else {
    verdict.textContent = routine.as_usual ? "As usual today." : "Different today:";
  }
  verdict.classList.toggle("as-usual", routine.as_usual && !routine.learning && !alerts.length);
  const words = routine.differences.join("\n");
  if (differences.dataset.words !== words) {
    differences.dataset.words = words;
    differences.replaceChildren(...routine.differences.map((d) => el("li", { text: d })));
  }
}

// The resident's own "I'm OK" from their page or their button, as the carer needs it.
function showCheckin({ el: item, record }) {
  const line = item.querySelector(".checkin");
  const name = firstName(record.name);
  const zone = record.timezone;
  const today = day(new Date().toISOString(), zone);
  const last = record.last_checkin;
  if (last && day(last, zone) === today) {
    line.textContent = `✓ ${name} said "I'm OK" today at ${clock(last, zone)}.`;
    line.className = "checkin done";
  } else if (record.checkin_by) {
    line.textContent = `${name} has not said "I'm OK" yet today (due by ${record.checkin_by.slice(0, 5)}).`
      + (last ? ` Last time: ${day(last, zone)} at ${clock(last, zone)}.` : "");
    line.className = "checkin";
  } else if (last) {
    line.textContent = `${name} last said "I'm OK" on ${day(last, zone)} at ${clock(last, zone)}.`;
    line.className = "checkin";
  } else {
    line.textContent = "";
  }
  line.hidden = !line.textContent;
}

// What changed on an alert that the carer would see; an unchanged alert is left alone.
const signature = (alert) => JSON.stringify([alert.status, alert.acknowledged_by,
  (alert.details.responding || []).map((r) => r.by), alert.severity, alert.reason,
  alert.details.passed_on?.at]);

function showAlerts(entry, alerts) {
  const list = entry.el.querySelector(".alert-list");
  const byId = new Map([...list.children].map((li) => [li.dataset.alertId, li]));
  alerts.forEach((alert, i) => {
    let li = byId.get(alert.id);
    byId.delete(alert.id);
    if (!li || li.dataset.signature !== signature(alert)) {
      const fresh = alertLine(alert, entry);
      if (li) {
        // Keep what she was typing, and her place, across the redraw.
        const typed = li.querySelector("textarea")?.value;
        const focused = li.contains(document.activeElement) ? document.activeElement.dataset.role : null;
        li.replaceWith(fresh);
        if (typed) fresh.querySelector("textarea").value = typed;
        if (focused) fresh.querySelector(`[data-role="${focused}"]`)?.focus();
      }
      li = fresh;
    }
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  for (const gone of byId.values()) gone.remove();
  entry.el.querySelector(".card-alerts").hidden = !alerts.length;
}

function alertLine(alert, entry) {
  const { record } = entry;
  const name = firstName(alert.resident);
  const li = el("li", { class: "alert" });
  li.dataset.alertId = alert.id;
  li.dataset.signature = signature(alert);
  li.dataset.severity = alert.severity;
  li.append(
    el("p", { class: "alert-head" },
      el("span", { class: "severity", text: alert.severity }), " ",
      el("strong", { text: `${kindWords(alert.kind)}, ${ago(alert.raised_at)} ago` })),
    el("p", { class: "reason", text: alert.reason }),
  );
  const responding = (alert.details.responding || []).map((r) => r.by);
  const mine = responding.includes(me()) || (alert.status === "acknowledged" && alert.acknowledged_by === me());
  const emergency = alert.severity === "emergency";
  if (responding.length) {
    // An emergency stays with the alarm centre; the carer sees her tap was recorded.
    const who = responding.map((u) => person(u, record));
    const line = `${who.join(", ")} ${who.length === 1 && who[0] !== "you" ? "is" : "are"} dealing with it. The alarm centre is handling it too.`;
    li.append(el("p", { class: "status", tabindex: "-1", "data-role": "status", text: line[0].toUpperCase() + line.slice(1) }));
  } else if (alert.status === "acknowledged") {
    const who = person(alert.acknowledged_by, record);
    li.append(el("p", { class: "status", tabindex: "-1", "data-role": "status",
      text: `${who === "you" ? "You are" : `${who} is`} dealing with it (since ${clock(alert.acknowledged_at, record.timezone)}).` }));
  } else if (alert.status === "escalated") {
    li.append(el("p", { class: "status", tabindex: "-1", "data-role": "status", text: "Passed to the alarm centre." }));
  }
  const passed = alert.details.passed_on;
  if (passed && alert.status === "open") {
    const who = person(passed.by, record);
    li.append(el("p", { class: "status", tabindex: "-1", "data-role": "status",
      text: `${who === "you" ? "You" : who} passed it on to ${passed.to} at ${clock(passed.at, record.timezone)}: they have been told.` }));
  }
  if (!mine && (alert.status === "open" || alert.status === "escalated")) {
    const button = el("button", { type: "button", class: "big", "data-role": "ack",
      "aria-label": `I'm dealing with it: ${alert.resident}, ${kindWords(alert.kind)}`, text: "I'm dealing with it" });
    button.onclick = () => act(entry, li, button, () => api(`/api/v1/alerts/${alert.id}/ack`, { method: "POST", body: {} }),
      `Recorded: you are dealing with ${name}'s alert.`);
    li.append(button);
  }
  if (mine) li.append(nextSteps(alert, entry, li, { emergency }));
  return li;
}

// After "I'm dealing with it": ring her, say she is fine (or how it ended), leave a note, pass it on.
function nextSteps(alert, entry, li, { emergency }) {
  const { record } = entry;
  const name = firstName(alert.resident);
  const steps = el("div", { class: "next-steps" });
  // The resident's own number comes with the care record.
  const phone = record.care?.phone || null;
  if (phone) {
    steps.append(el("a", { class: "button big", href: phone.tel, "data-role": "call",
      text: `Call ${name} (${phone.display})` }));
  } else {
    steps.append(el("p", { class: "hint no-phone",
      text: `There is no phone number for ${name} on record yet: ring ${name} on the number you have, and ask the care team to add it.` }));
  }
  const actions = el("div", { class: "actions" });
  if (!emergency) {
    const fine = el("button", { type: "button", class: "big", "data-role": "fine", text: `${name} is fine` });
    fine.onclick = () => act(entry, li, fine, () => resolve(alert, "resolved_ok", li),
      `Closed: ${name} is fine. It is under Past alerts.`);
    actions.append(fine);
  }
  if (!emergency) {
    // The next carer on the ladder (after the last, the alarm centre) is told now.
    const next = el("button", { type: "button", class: "secondary", "data-role": "pass-on",
      text: "I can't help: pass it on to the next person" });
    next.onclick = () => act(entry, li, next, async () => {
      const passedOn = await api(`/api/v1/alerts/${alert.id}/pass-on`, { method: "POST", body: {} });
      announce(`Passed on to ${passedOn.details.passed_on.to}: they have been told.`);
    }, null);
    actions.append(next);
  }
  const pass = el("button", { type: "button", class: "secondary", "data-role": "pass",
    text: emergency ? "I can't help: leave it to the alarm centre" : "Pass it on to the alarm centre" });
  pass.onclick = () => act(entry, li, pass, () => api(`/api/v1/alerts/${alert.id}/escalate`, { method: "POST", body: {} }),
    `Passed on: the alarm centre has ${name}'s alert now.`);
  if (alert.status !== "escalated") actions.append(pass);
  steps.append(actions);

  const noteId = `note-${alert.id}`;
  const note = el("textarea", { id: noteId, rows: "2", maxlength: "2000", "data-role": "note" });
  const saveNote = el("button", { type: "button", class: "secondary", "data-role": "save-note", text: "Save the note" });
  saveNote.onclick = () => {
    const text = note.value.trim();
    if (!text) { announce("Write the note first."); note.focus(); return; }
    act(entry, li, saveNote, async () => {
      await api(`/api/v1/alerts/${alert.id}/notes`, { method: "POST", body: { note: text } });
      note.value = "";
    }, "Note saved on the alert.");
  };
  steps.append(el("div", { class: "stack" }, el("label", { for: noteId, text: `A note about ${name} (what happened, what was said)` }), note, saveNote));

  if (!emergency) {
    const other = el("details", { class: "other-outcome" }, el("summary", { text: "It ended another way" }));
    const group = `outcome-${alert.id}`;
    const fieldset = el("fieldset", {}, el("legend", { text: "How did it end?" }));
    for (const [value, words] of OUTCOMES.filter(([v]) => v !== "resolved_ok")) {
      const id = `${group}-${value}`;
      fieldset.append(el("label", { class: "choice", for: id },
        el("input", { type: "radio", name: group, id, value }), ` ${words}`));
    }
    const close = el("button", { type: "button", "data-role": "close", text: "Close the alert" });
    close.onclick = () => {
      const chosen = fieldset.querySelector("input:checked");
      if (!chosen) { announce("Choose how it ended first."); fieldset.querySelector("input").focus(); return; }
      act(entry, li, close, () => resolve(alert, chosen.value, li), `Closed: ${OUTCOME_WORDS[chosen.value]}.`);
    };
    other.append(fieldset, close);
    steps.append(other);
  }
  return steps;
}

// A note typed but not saved goes with the closing.
function resolve(alert, outcome, li) {
  const note = li.querySelector("textarea")?.value.trim() || null;
  return api(`/api/v1/alerts/${alert.id}/resolve`, { method: "POST", body: { outcome, note } });
}

async function act(entry, li, button, action, done) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await action();
    if (done) announce(done);
  } catch (error) {
    announce(`That did not work: ${error.message}`);
    button.disabled = false;
    button.removeAttribute("aria-busy");
    return;
  }
  await refreshCard(Number(entry.el.dataset.residentId));
  // Focus to what took the button's place, so the keyboard is not dropped at the top.
  const again = entry.el.querySelector(`[data-alert-id="${li.dataset.alertId}"] [data-role="status"]`);
  (again || entry.el.querySelector(".past summary")).focus();
}

function showPast({ el: item, record }, past) {
  const list = item.querySelector(".past-list");
  const summary = item.querySelector(".past summary");
  summary.textContent = past.length ? `Past alerts (${past.length === 10 ? "last 10" : past.length})` : "Past alerts (none)";
  const key = past.map((a) => `${a.id}:${a.outcome}`).join(",");
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  const zone = record.timezone;
  list.replaceChildren(...past.map((alert) => {
    const closed = alert.resolved_by && alert.outcome !== "self_cleared"
      ? `${OUTCOME_WORDS[alert.outcome] || alert.outcome} (closed by ${person(alert.resolved_by, record)})`
      : OUTCOME_WORDS[alert.outcome] || "Closed";
    return el("li", {},
      el("strong", { text: `${day(alert.raised_at, zone)} ${clock(alert.raised_at, zone)}: ${kindWords(alert.kind)}` }),
      el("br"), closed + ".");
  }));
  if (!past.length) list.replaceChildren(el("li", { text: "No alerts have been closed yet." }));
}

// Drawn only while open (a closed box has no width); redrawn when the data changes.
function drawPictures(residentId) {
  const entry = cards.get(residentId);
  if (!entry || !entry.routine || entry.routine instanceof Error) return;
  const today = entry.el.querySelector(".today");
  const week = entry.el.querySelector(".week");
  const timelineKey = JSON.stringify(entry.timeline);
  if (today.open && today.dataset.drawn !== timelineKey && !(entry.timeline instanceof Error)) {
    today.dataset.drawn = timelineKey;
    drawTimeline(today.querySelector(".timeline-box"), entry.timeline, entry.record.timezone);
  }
  const weekKey = JSON.stringify([entry.routine.days.slice(-7), entry.routine.usual]);
  if (week.open && week.dataset.drawn !== weekKey) {
    week.dataset.drawn = weekKey;
    drawTrends(week.querySelector(".trends"), entry.routine.days, entry.routine.usual);
  }
}

// Web Push: the server's key in base64url, as pushManager.subscribe wants it.
function keyBytes(base64url) {
  const base64 = base64url.replaceAll("-", "+").replaceAll("_", "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function sendAlertsHere() {
  const state = $("push-state");
  try {
    if ((await Notification.requestPermission()) !== "granted") {
      state.textContent = "Notifications are turned off for this site in the phone's settings.";
      return;
    }
    const registration = await navigator.serviceWorker.register("/static/sw.js");
    const { public_key: key } = await api("/api/v1/push/key");
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: keyBytes(key),
    });
    await api("/api/v1/me/push-subscriptions", { method: "POST", body: subscription.toJSON() });
    state.textContent = "Done: alerts come to this phone first.";
  } catch (error) {
    state.textContent = `This phone could not be set up for alerts: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  const session = await carewatch.start();
  if (!session) return;
  $("who-name").textContent = `Signed in as ${session.username}`;
  if ("serviceWorker" in navigator && "PushManager" in window && "Notification" in window) {
    $("push").hidden = false;
    $("push-on").addEventListener("click", sendAlertsHere);
  }
  await Promise.all([loadResidents(), carewatch.loadReach()]);
  // A changed alert refreshes its resident's card only; a new resident, the list.
  carewatch.liveAlerts({
    onAlert: (alert) => (cards.has(alert.resident_id) ? refreshCard(alert.resident_id) : loadResidents()),
    onReload: () => loadResidents(),
    onLost: () => { $("connection").textContent = "Reconnecting…"; },
    onOpen: () => { $("connection").textContent = ""; },
  });
  setInterval(() => { for (const id of cards.keys()) refreshCard(id); }, REFRESH_MS);
});
