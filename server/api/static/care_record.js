// The care record's form (templates/_care_record_form.html): filled from GET .../record,
// sent as PUT .../record and PUT .../record/contacts. Used by the console and the admin page.
"use strict";

const careRecord = (() => {
  const { $, api } = carewatch;
  const HEALTH = [["cr-allergies", "allergies"], ["cr-medication", "medication"], ["cr-summary", "medical_summary"]];
  const form = { residentId: null, healthHidden: false, onSaved: () => {} };

  // --- Contacts, one row each, in call order -----------------------------------------

  function contactRow(contact = {}) {
    const li = $("cr-contact-template").content.firstElementChild.cloneNode(true);
    li.querySelector(".cr-name").value = contact.name || "";
    li.querySelector(".cr-relationship").value = contact.relationship || "";
    li.querySelector(".cr-phone").value = contact.phone ? contact.phone.display : "";
    li.querySelector(".cr-kind").value = contact.kind || "family_or_friend";
    li.querySelector(".cr-keyholder").checked = Boolean(contact.keyholder);
    li.querySelector(".cr-username").value = contact.username || "";
    // Sent back on save, so ticks on an open alert stay on this person when the order changes.
    li.dataset.contactId = contact.id || "";
    li.querySelector(".cr-name").addEventListener("input", nameButtons);
    li.querySelector(".cr-up").addEventListener("click", () => {
      if (li.previousElementSibling) li.parentNode.insertBefore(li, li.previousElementSibling);
      li.querySelector(".cr-up").focus();
      nameButtons();
    });
    li.querySelector(".cr-remove").addEventListener("click", () => {
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      (next ? next.querySelector(".cr-name") : $("cr-add-contact")).focus();
      nameButtons();
    });
    return li;
  }

  // Each row's buttons say whose they are (a screen reader hears "Remove: Jo Clarke").
  function nameButtons() {
    [...$("cr-contacts").children].forEach((li, i) => {
      const name = li.querySelector(".cr-name").value.trim() || `contact ${i + 1}`;
      li.querySelector(".cr-up").setAttribute("aria-label", `Call earlier: ${name}`);
      li.querySelector(".cr-up").disabled = i === 0;
      li.querySelector(".cr-remove").setAttribute("aria-label", `Remove: ${name}`);
    });
  }

  // --- Filling and reading the form ----------------------------------------------------

  function fill(record) {
    form.residentId = record.resident_id;
    $("cr-error").textContent = "";
    $("cr-phone").value = record.phone ? record.phone.display : "";
    $("cr-address").value = record.address;
    $("cr-access").value = record.access ? record.access.notes : "";
    $("cr-key-safe").value = "";
    $("cr-key-safe-remove").checked = false;
    $("cr-key-safe-state").textContent = record.access && record.access.has_key_safe_code
      ? "A code is on file." : "No code is on file.";
    form.healthHidden = record.health === null;
    $("cr-health-hidden").hidden = !form.healthHidden;
    const health = record.health || { resuscitation: "none", resuscitation_form_at: "" };
    $("cr-resus").value = health.resuscitation;
    $("cr-resus-at").value = health.resuscitation_form_at;
    for (const [id, key] of HEALTH) $(id).value = health[key] || "";
    $("cr-hazards").value = record.hazards.join("\n");
    $("cr-language").value = record.language;
    $("cr-hearing").value = record.hearing_sight;
    $("cr-contacts").replaceChildren(...record.contacts.map(contactRow));
    nameButtons();
  }

  function recordChange() {
    const change = {
      phone: $("cr-phone").value.trim(),
      address: $("cr-address").value.trim(),
      access_notes: $("cr-access").value.trim(),
      hazards: $("cr-hazards").value.split("\n").map((h) => h.trim()).filter(Boolean),
      language: $("cr-language").value.trim(),
      hearing_sight: $("cr-hearing").value.trim(),
    };
    if ($("cr-key-safe-remove").checked) change.key_safe_code = "";
    else if ($("cr-key-safe").value.trim()) change.key_safe_code = $("cr-key-safe").value.trim();
    // Health the editor cannot see is left alone unless they write something new.
    const health = {
      resuscitation: $("cr-resus").value, resuscitation_form_at: $("cr-resus-at").value.trim(),
    };
    for (const [id, key] of HEALTH) health[key] = $(id).value.trim();
    for (const [key, value] of Object.entries(health)) {
      if (!form.healthHidden || (value && value !== "none")) change[key] = value;
    }
    return change;
  }

  function contactsChange() {
    return [...$("cr-contacts").children].map((li) => ({
      name: li.querySelector(".cr-name").value.trim(),
      relationship: li.querySelector(".cr-relationship").value.trim(),
      phone: li.querySelector(".cr-phone").value.trim(),
      kind: li.querySelector(".cr-kind").value,
      keyholder: li.querySelector(".cr-keyholder").checked,
      username: li.querySelector(".cr-username").value.trim() || null,
      id: li.dataset.contactId || "",
    })).filter((c) => c.name || c.phone);
  }

  async function save(event) {
    event.preventDefault();
    const base = `/api/v1/residents/${form.residentId}/record`;
    const contacts = contactsChange();
    const incomplete = contacts.findIndex((c) => !c.name || !c.phone);
    if (incomplete >= 0) {
      $("cr-error").textContent = `Contact ${incomplete + 1} needs a name and a phone number.`;
      $("cr-contacts").children[incomplete].querySelector(contacts[incomplete].name ? ".cr-phone" : ".cr-name").focus();
      return;
    }
    let saved;
    try {
      await api(base, { method: "PUT", body: recordChange() });
    } catch (error) {
      $("cr-error").textContent = `Not saved: ${error.message}`;
      return;
    }
    try {
      saved = await api(`${base}/contacts`, { method: "PUT", body: { contacts } });
    } catch (error) {
      $("cr-error").textContent = `The record was saved; the contacts were not: ${error.message}`;
      return;
    }
    fill(saved);
    form.onSaved(saved);
  }

  // The form on this page, and what to do once a record is saved.
  function setUp(onSaved) {
    form.onSaved = onSaved;
    $("care-record-form").addEventListener("submit", save);
    $("cr-add-contact").addEventListener("click", () => {
      const row = contactRow();
      $("cr-contacts").append(row);
      nameButtons();
      row.querySelector(".cr-name").focus();
    });
  }

  return { fill, setUp };
})();
