// Administration: residents, the people who sign in, each resident's carers and care record.
"use strict";

const { $, api } = carewatch;
let residents = [];

// What happened, next to the form it happened in (the page's own line for the rest).
function say(text, where = "message") { $(where).textContent = text; }

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell); else td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

function residentOptions(select) {
  const chosen = select.value;
  select.replaceChildren(...residents.map((r) => new Option(`${r.name} (${r.service})`, String(r.id))));
  if (chosen) select.value = chosen;
}

async function loadResidents() {
  residents = await api("/api/v1/residents");
  $("residents").replaceChildren(...residents.map((r) => {
    const link = document.createElement("a");
    link.href = `/residents/${r.id}`;
    link.textContent = r.name;
    const audit = document.createElement("a");
    audit.href = `/api/v1/residents/${r.id}/audit?format=csv`;
    audit.setAttribute("download", "");
    audit.textContent = "Alert trail (CSV)";
    audit.setAttribute("aria-label", `Alert trail of ${r.name} (CSV)`);
    return row([link, r.service, String(r.active_alerts), audit]);
  }));
  residentOptions($("person-resident"));
  residentOptions($("ladder-resident"));
  residentOptions($("hub-resident"));
  residentOptions($("record-resident"));
  await loadLadder();
  await loadRecord();
}

let editing = null;

function when(iso) {
  return iso ? new Date(iso).toLocaleString("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) : "never";
}

// A hub's health in words: revoked, offline, not heard for long, or online.
function hubHealth(hub) {
  if (hub.revoked_at) return `revoked ${when(hub.revoked_at)}`;
  if (!hub.last_seen_at) return "never connected";
  const quiet = (Date.now() - Date.parse(hub.last_seen_at)) / 60_000;
  if (hub.state === "offline") return "offline";
  if (quiet > 15) return `silent for ${Math.round(quiet)} min`;
  return `online${hub.firmware ? `, firmware ${hub.firmware}` : ""}`;
}

async function loadHubs() {
  const hubs = await api("/api/v1/hubs");
  $("hubs").replaceChildren(...hubs.map((hub) => {
    const sensors = document.createElement("ul");
    sensors.className = "sensors";
    for (const s of hub.sensors) {
      const li = document.createElement("li");
      const low = s.battery !== null && s.battery < 20;
      li.textContent = `${s.sensor}: ${s.room || "no room"}, battery ${s.battery === null ? "—" : `${Math.round(s.battery)} %`}${low ? " (low)" : ""}, signal ${s.link === null ? "—" : Math.round(s.link)}`;
      if (low) li.className = "low";
      sensors.append(li);
    }
    if (!hub.sensors.length) {
      const none = document.createElement("li");
      none.textContent = "none reported yet";
      sensors.append(none);
    }
    const action = document.createElement("div");
    action.className = "actions";
    if (!hub.revoked_at) {
      const map = document.createElement("button");
      map.type = "button";
      map.className = "secondary";
      map.textContent = "Sensor map";
      map.setAttribute("aria-label", `Sensor map of ${hub.hub}`);
      map.addEventListener("click", () => openMap(hub).catch((error) => say(error.message)));
      const revoke = document.createElement("button");
      revoke.type = "button";
      revoke.className = "secondary";
      revoke.textContent = "Revoke";
      revoke.setAttribute("aria-label", `Revoke ${hub.hub}`);
      revoke.addEventListener("click", () => revokeHub(hub.hub));
      action.append(map, revoke);
    }
    const tr = row([hub.hub, hub.resident, hubHealth(hub), when(hub.last_seen_at), sensors, action]);
    tr.dataset.hub = hub.hub;
    return tr;
  }));
}

// The sensor map of one hub: sensor id, kind and room per row, saved whole and sent to the hub.
const mapState = { hub: null, kinds: [], rows: 0, reported: [] };

function mapRow(sensor = { sensor: "", kind: "motion", room: "" }) {
  mapState.rows += 1;
  const n = mapState.rows;
  const cell = (tag, attributes, label) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
    node.setAttribute("aria-label", label);
    return node;
  };
  const id = cell("input", { maxlength: "128", autocomplete: "off", "data-field": "sensor" }, `Sensor ${n} id`);
  id.value = sensor.sensor;
  const kind = cell("select", { "data-field": "kind" }, `Sensor ${n} kind`);
  kind.replaceChildren(...mapState.kinds.map((k) => new Option(k.replaceAll("_", " "), k)));
  kind.value = sensor.kind;
  const room = cell("input", { maxlength: "64", autocomplete: "off", "data-field": "room" }, `Sensor ${n} room`);
  room.value = sensor.room;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "secondary";
  remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove sensor ${n}`);
  const tr = row([id, kind, room, remove]);
  remove.addEventListener("click", () => { tr.remove(); $("map-add").focus(); });
  return tr;
}

// What the hub reports that the map does not place: the installer's to-do list.
function showUnmapped(sensors) {
  const mapped = new Set(sensors.map((s) => s.sensor));
  const unmapped = mapState.reported.filter((s) => !mapped.has(s));
  $("map-unmapped").textContent = unmapped.length
    ? `The hub reports sensors not on the map: ${unmapped.join(", ")}. Add them so the detectors know their rooms.` : "";
}

async function openMap(hub) {
  const map = await api(`/api/v1/hubs/${encodeURIComponent(hub.hub)}/sensors`);
  Object.assign(mapState, { hub: hub.hub, kinds: map.kinds, rows: 0 });
  $("map-title").textContent = `Sensor map of ${hub.hub} (${hub.resident})`;
  $("map-rows").replaceChildren(...map.sensors.map((s) => mapRow(s)));
  mapState.reported = hub.sensors.map((s) => s.sensor);
  showUnmapped(map.sensors);
  $("map-error").textContent = "";
  $("map-message").textContent = "";
  $("map-editor").hidden = false;
  if (!map.sensors.length) $("map-rows").append(mapRow());
  $("map-title").focus();
}

async function saveMap(event) {
  event.preventDefault();
  $("map-error").textContent = "";
  $("map-message").textContent = "";
  const value = (tr, field) => tr.querySelector(`[data-field="${field}"]`).value.trim();
  // A row left wholly empty is a row not used.
  const sensors = [...$("map-rows").children]
    .map((tr) => ({ sensor: value(tr, "sensor"), kind: value(tr, "kind"), room: value(tr, "room") }))
    .filter((s) => s.sensor || s.room);
  const missing = sensors.find((s) => !s.sensor || !s.room);
  if (missing) {
    $("map-error").textContent = `Give every sensor an id and a room (${missing.sensor || "a sensor without an id"} is not complete).`;
    return;
  }
  const button = event.submitter;
  button.disabled = true;
  try {
    const saved = await api(`/api/v1/hubs/${encodeURIComponent(mapState.hub)}/sensors`, { method: "PUT", body: { sensors } });
    (saved.sent ? $("map-message") : $("map-error")).textContent = saved.note;
    showUnmapped(saved.sensors);
  } catch (error) {
    $("map-error").textContent = `Not saved: ${carewatch.plainWords(error.message)}`;
  } finally { button.disabled = false; }
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(name, attributes, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Labelled horizontal bars, 0–100 %, with the figure written at the end of each bar.
function shareChart(title, items) {
  const figure = document.createElement("figure");
  figure.className = "share-chart";
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  const width = 560; const label = 170; const barHeight = 26; const gap = 8;
  const height = items.length * (barHeight + gap) + 4;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": `${title}: ${items.map(([name, v]) => `${name} ${v === null ? "no alerts" : `${Math.round(v * 100)} %`}`).join(", ")}` });
  items.forEach(([name, value], i) => {
    const y = i * (barHeight + gap);
    chart.append(svg("text", { x: 0, y: y + 18, class: "bar-label" }, name));
    chart.append(svg("rect", { x: label, y, width: width - label - 60, height: barHeight, class: "lane" }));
    if (value !== null) chart.append(svg("rect", { x: label, y, width: (width - label - 60) * value, height: barHeight, class: "bar" }));
    chart.append(svg("text", { x: width - 52, y: y + 18, class: "bar-value" }, value === null ? "—" : `${Math.round(value * 100)} %`));
  });
  figure.append(caption, chart);
  return figure;
}

const seconds = (s) => (s === null ? "—" : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

async function loadFigures() {
  const figures = await api("/api/v1/reports/service?days=30");
  const box = $("figures");
  if (!figures.by_severity.some((f) => f.alerts)) { box.textContent = "No alerts in the last 30 days."; return; }
  const table = document.createElement("table");
  table.className = "listing";
  const head = table.createTHead().insertRow();
  for (const h of ["Severity", "Alerts", "Alert to acknowledged (median, 90 %)", "Acknowledged to closed (median)"]) {
    const th = document.createElement("th"); th.scope = "col"; th.textContent = h; head.append(th);
  }
  const body = table.createTBody();
  for (const f of figures.by_severity) {
    body.append(row([f.severity, String(f.alerts),
      `${seconds(f.alert_to_acknowledgement.p50_s)}, ${seconds(f.alert_to_acknowledgement.p90_s)}`,
      seconds(f.acknowledgement_to_resolution.p50_s)]));
  }
  const within = figures.by_severity.map((f) => [f.severity, f.acknowledged_within_180s]);
  const falseAlarms = Object.entries(figures.false_alarm_rate).map(([kind, rate]) => [carewatch.kindWords(kind), rate]);
  box.replaceChildren(table, shareChart("Acknowledged within 3 minutes", within),
    ...(falseAlarms.length ? [shareChart("False alarms, by kind of alert", falseAlarms)] : []));
}

async function loadDeadLetters() {
  const letters = await api("/api/v1/dead-letters?limit=20");
  $("dead-letters").replaceChildren(...(letters.length ? letters.map((d) =>
    row([when(d.received_at), d.hub_id || "unknown", d.reason, `${d.payload_size} bytes`]))
    : [row(["None refused.", "", "", ""])]));
}

async function addHub(event) {
  event.preventDefault();
  const select = $("hub-resident");
  const resident = residents.find((r) => String(r.id) === select.value);
  try {
    const made = await api("/api/v1/hubs", { method: "POST", body: { hub: $("hub-id").value.trim(), resident: resident.name } });
    $("hub-settings-text").value = Object.entries(made.agent_settings).map(([k, v]) => `${k}=${v}`).join("\n");
    $("hub-settings").hidden = false;
    $("hub-message").textContent = `${made.hub} added to ${made.resident}'s home.${made.broker_account_written ? "" : " Add its broker account by hand (see docs/hub-install.md)."}`;
    $("add-hub").reset();
    await loadHubs();
    $("hub-settings-text").focus();
  } catch (error) { $("hub-message").textContent = `Not added: ${error.message}`; }
}

async function revokeHub(hub) {
  if (!confirm(`Revoke ${hub}? It is locked out of the broker at once; its history stays.`)) return;
  try {
    await api(`/api/v1/hubs/${encodeURIComponent(hub)}/revoke`, { method: "POST" });
    await loadHubs();
    say(`${hub} revoked: its messages are refused from now on.`, "hub-message");
  } catch (error) { say(`Not revoked: ${error.message}`, "hub-message"); }
}

async function loadPeople() {
  const people = await api("/api/v1/users");
  carerAccounts = people.filter((p) => p.role === "carer" && !p.disabled)
    .map((p) => ({ username: p.username, name: p.display_name || p.username }));
  showLadder();
  const names = new Map(residents.map((r) => [r.id, r.name]));
  $("people").replaceChildren(...people.map((p) => {
    const change = document.createElement("button");
    change.type = "button";
    change.className = "secondary";
    change.textContent = "Change";
    change.setAttribute("aria-label", `Change ${p.username}`);
    change.addEventListener("click", () => openPerson(p, change));
    const state = [p.disabled ? "turned off" : "can sign in", p.role === "responder" ? (p.on_duty ? "on duty" : "off duty") : ""];
    const tr = row([
      p.display_name ? `${p.username} (${p.display_name})` : p.username,
      p.role,
      p.role === "resident" ? names.get(p.resident_id) || `resident ${p.resident_id}` : p.service || "",
      [p.phone, p.email].filter(Boolean).join(", ") || "none",
      state.filter(Boolean).join(", "),
      change,
    ]);
    tr.dataset.username = p.username;
    return tr;
  }));
}

function openPerson(person, opener) {
  editing = { person, opener };
  $("person-dialog-title").textContent = `Change ${person.username}`;
  $("edit-name").value = person.display_name || "";
  $("edit-phone").value = person.phone || "";
  $("edit-email").value = person.email || "";
  $("edit-duty").checked = person.on_duty;
  $("edit-duty-field").hidden = person.role !== "responder";
  $("edit-disabled").checked = person.disabled;
  $("person-error").textContent = "";
  $("reset-box").hidden = true;
  $("person-dialog").showModal();
}

function closePerson() {
  $("person-dialog").close();
  editing?.opener.focus();
}

async function savePerson(event) {
  event.preventDefault();
  const { person } = editing;
  const body = {
    display_name: $("edit-name").value, phone: $("edit-phone").value, email: $("edit-email").value,
    disabled: $("edit-disabled").checked,
  };
  if (person.role === "responder") body.on_duty = $("edit-duty").checked;
  try {
    await api(`/api/v1/users/${encodeURIComponent(person.username)}`, { method: "PATCH", body });
    await loadPeople();
    closePerson();
    say(`${person.username} saved.`, "people-message");
  } catch (error) { $("person-error").textContent = `Not saved: ${error.message}`; }
}

async function makeResetLink() {
  const { person } = editing;
  try {
    const link = await api(`/api/v1/users/${encodeURIComponent(person.username)}/reset-link`, { method: "POST" });
    $("reset-url").value = link.url;
    $("reset-box").hidden = false;
    $("reset-url").focus();
    $("reset-url").select();
  } catch (error) { $("person-error").textContent = `No link made: ${error.message}`; }
}

// The resident's carers in the order an alert tries them, changed with buttons, not typed.
let ladderCarers = []; // [{ username, name }]
let carerAccounts = []; // every carer who can sign in, for "Add a carer"

function showLadder(focusOn) {
  const list = $("ladder-list");
  const button = (role, text, label, onClick, disabled = false) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.role = role;
    b.className = "secondary";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.disabled = disabled;
    b.addEventListener("click", onClick);
    return b;
  };
  const move = (from, to, role) => {
    const [carer] = ladderCarers.splice(from, 1);
    ladderCarers.splice(to, 0, carer);
    showLadder({ username: carer.username, role });
  };
  list.replaceChildren(...ladderCarers.map((carer, i) => {
    const li = document.createElement("li");
    li.dataset.username = carer.username;
    const who = carer.name && carer.name !== carer.username ? `${carer.name} (${carer.username})` : carer.username;
    const actions = document.createElement("span");
    actions.className = "actions";
    actions.append(
      button("up", "Move up", `Move up: ${who}`, () => move(i, i - 1, "up"), i === 0),
      button("down", "Move down", `Move down: ${who}`, () => move(i, i + 1, "down"), i === ladderCarers.length - 1),
      button("remove", "Remove", `Remove ${who}`, () => { ladderCarers.splice(i, 1); showLadder(); $("ladder-add").focus(); }),
    );
    li.append(`${who} `, actions);
    return li;
  }));
  if (!ladderCarers.length) {
    const none = document.createElement("li");
    none.textContent = "Nobody yet: urgent alerts go straight to the responders.";
    list.append(none);
  }
  const taken = new Set(ladderCarers.map((c) => c.username));
  const free = carerAccounts.filter((c) => !taken.has(c.username));
  $("ladder-add").replaceChildren(...free.map((c) =>
    new Option(c.name && c.name !== c.username ? `${c.name} (${c.username})` : c.username, c.username)));
  $("ladder-add-button").disabled = !free.length;
  if (focusOn) {
    const target = list.querySelector(`[data-username="${CSS.escape(focusOn.username)}"] [data-role="${focusOn.role}"]`);
    // At the top or the bottom the button is disabled: its neighbour takes the focus.
    (target && !target.disabled ? target : list.querySelector(`[data-username="${CSS.escape(focusOn.username)}"] button:not(:disabled)`))?.focus();
  }
}

async function loadLadder() {
  const id = $("ladder-resident").value;
  if (!id) return;
  $("ladder-state").textContent = "Loading their carers…";
  const record = await api(`/api/v1/residents/${id}`);
  ladderCarers = record.contacts.map((c) => ({ username: c.username, name: c.name }));
  showLadder();
  $("ladder-state").textContent = record.contacts.length
    ? `${record.name}'s carers now: ${record.contacts.map((c) => c.name).join(", ")}.`
    : `${record.name} has no carers yet.`;
}

function addToLadder() {
  const username = $("ladder-add").value;
  const carer = carerAccounts.find((c) => c.username === username);
  if (!carer) return;
  ladderCarers.push(carer);
  showLadder({ username, role: "remove" });
}

let recordLoads = 0;

async function loadRecord() {
  const id = $("record-resident").value;
  if (!id) return;
  const mine = ++recordLoads;
  // Nothing typed while a record loads is overwritten by it: the form waits, disabled.
  const parts = $("care-record-form").querySelectorAll("fieldset, button[type=submit]");
  for (const part of parts) part.disabled = true;
  $("record-state").textContent = "Loading the record…";
  try {
    const record = await api(`/api/v1/residents/${id}/record`);
    if (mine !== recordLoads) return;  // a later choice is loading: it fills the form
    careRecord.fill(record);
    await planEditor.load(record.resident_id, record.name);
    $("record-state").textContent = `Editing ${record.name}'s record.`;
  } finally {
    if (mine === recordLoads) for (const part of parts) part.disabled = false;
  }
}

function showRoleFields() {
  const role = $("person-role").value;
  $("person-service-field").hidden = role !== "responder";
  $("person-resident-field").hidden = role !== "resident";
}

async function addResident(event) {
  event.preventDefault();
  try {
    const made = await api("/api/v1/residents", { method: "POST", body: {
      name: $("resident-name").value.trim(),
      service: $("resident-service").value.trim(),
      timezone: $("resident-timezone").value.trim(),
      address: $("resident-address").value.trim(),
    } });
    $("add-resident").reset();
    await loadResidents();
    say(`${made.name} added to the ${made.service} service.`, "resident-message");
  } catch (error) { say(`Not added: ${error.message}`, "resident-message"); }
}

async function addPerson(event) {
  event.preventDefault();
  const role = $("person-role").value;
  const body = {
    username: $("person-username").value.trim(),
    password: $("person-password").value,
    role,
    display_name: $("person-name").value.trim() || null,
  };
  if (role === "responder") body.service = $("person-service").value.trim();
  if (role === "resident") body.resident_id = Number($("person-resident").value);
  try {
    const made = await api("/api/v1/users", { method: "POST", body });
    $("add-person").reset();
    showRoleFields();
    await loadPeople();
    say(`${made.username} can now sign in as a ${made.role}.`, "person-message");
  } catch (error) { say(`Not added: ${error.message}`, "person-message"); }
}

async function saveLadder(event) {
  event.preventDefault();
  const carers = ladderCarers.map((c) => c.username);
  const select = $("ladder-resident");
  const message = $("ladder-message");
  try {
    await api(`/api/v1/residents/${select.value}/carers`, { method: "PUT", body: { carers } });
    await loadLadder();
    message.textContent = `Carers of ${select.selectedOptions[0].text} saved: ${carers.join(", ") || "none"}.`;
  } catch (error) { message.textContent = `Not saved: ${carewatch.plainWords(error.message)}`; }
}

(async () => {
  if (!(await carewatch.start())) return;
  $("add-resident").addEventListener("submit", addResident);
  $("add-person").addEventListener("submit", addPerson);
  $("ladder").addEventListener("submit", saveLadder);
  $("ladder-add-button").addEventListener("click", addToLadder);
  $("person-form").addEventListener("submit", savePerson);
  $("add-hub").addEventListener("submit", addHub);
  $("map-form").addEventListener("submit", saveMap);
  $("map-add").addEventListener("click", () => {
    const added = mapRow();
    $("map-rows").append(added);
    added.querySelector("input").focus();
  });
  $("map-close").addEventListener("click", () => { $("map-editor").hidden = true; });
  $("person-reset").addEventListener("click", makeResetLink);
  $("person-cancel").addEventListener("click", closePerson);
  $("person-role").addEventListener("change", showRoleFields);
  $("ladder-resident").addEventListener("change", () => loadLadder().catch((e) => say(e.message)));
  $("record-resident").addEventListener("change", () => loadRecord().catch((e) => say(e.message)));
  careRecord.setUp((record) => {
    say(`${record.name}'s care record and contacts saved.`, "record-message");
    // The plans' rungs are the contacts: draw them again in the new call order.
    planEditor.load(record.resident_id, record.name, $("pl-kind").value).catch((e) => say(e.message));
  });
  planEditor.setUp((_id, name, plan) => say(`${name}'s ${carewatch.kindWords(plan.kind).toLowerCase()} plan saved.`, "plans-message"));
  showRoleFields();
  try {
    await loadResidents();
    await loadPeople();
    await loadHubs();
    await Promise.all([loadFigures(), loadDeadLetters()]);
  } catch (error) { say(error.message); }
})();
