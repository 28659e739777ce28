// Administration: residents, the people who sign in, each resident's carers and care record.
"use strict";

const { $, api } = carewatch;
let residents = [];

function say(text) { $("message").textContent = text; }

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
    return row([link, r.service, String(r.active_alerts)]);
  }));
  residentOptions($("person-resident"));
  residentOptions($("ladder-resident"));
  residentOptions($("record-resident"));
  await loadLadder();
  await loadRecord();
}

async function loadPeople() {
  const people = await api("/api/v1/users");
  const names = new Map(residents.map((r) => [r.id, r.name]));
  $("people").replaceChildren(...people.map((p) => row([
    p.display_name ? `${p.username} (${p.display_name})` : p.username,
    p.role,
    p.role === "resident" ? names.get(p.resident_id) || `resident ${p.resident_id}` : p.service || "",
  ])));
}

async function loadLadder() {
  const id = $("ladder-resident").value;
  if (!id) return;
  // Nothing typed while the resident's carers load is overwritten by them.
  const box = $("ladder-carers");
  box.disabled = true;
  $("ladder-state").textContent = "Loading their carers…";
  let record;
  try { record = await api(`/api/v1/residents/${id}`); } finally { box.disabled = false; }
  box.value = record.contacts.map((c) => c.username).join("\n");
  $("ladder-state").textContent = record.contacts.length
    ? `${record.name}'s carers now: ${record.contacts.map((c) => c.name).join(", ")}.`
    : `${record.name} has no carers yet.`;
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
    say(`${made.name} added to the ${made.service} service.`);
  } catch (error) { say(`Not added: ${error.message}`); }
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
    say(`${made.username} can now sign in as a ${made.role}.`);
  } catch (error) { say(`Not added: ${error.message}`); }
}

async function saveLadder(event) {
  event.preventDefault();
  const carers = $("ladder-carers").value.split("\n").map((c) => c.trim()).filter(Boolean);
  const select = $("ladder-resident");
  try {
    await api(`/api/v1/residents/${select.value}/carers`, { method: "PUT", body: { carers } });
    await loadLadder();
    say(`Carers of ${select.selectedOptions[0].text} saved: ${carers.join(", ") || "none"}.`);
  } catch (error) { say(`Not saved: ${error.message}`); }
}

(async () => {
  if (!(await carewatch.start())) return;
  $("add-resident").addEventListener("submit", addResident);
  $("add-person").addEventListener("submit", addPerson);
  $("ladder").addEventListener("submit", saveLadder);
  $("person-role").addEventListener("change", showRoleFields);
  $("ladder-resident").addEventListener("change", () => loadLadder().catch((e) => say(e.message)));
  $("record-resident").addEventListener("change", () => loadRecord().catch((e) => say(e.message)));
  careRecord.setUp((record) => say(`${record.name}'s care record and contacts saved.`));
  showRoleFields();
  try {
    await loadResidents();
    await loadPeople();
  } catch (error) { say(error.message); }
})();
