// One resident's record: what this viewer may see of it, alerts, today and this week.
"use strict";

const { $, api, kindWords, clock, drawTimeline, drawTrends } = carewatch;

function dial(phone) {
  const link = document.createElement("a");
  link.href = phone.tel;
  link.textContent = phone.display;
  return link;
}

// The care record's parts this viewer may see (GET .../record withholds the rest).
async function showCareRecord(id) {
  const record = await api(`/api/v1/residents/${id}/record`);
  $("phone").replaceChildren(record.phone ? dial(record.phone) : "not recorded");
  $("hazards").textContent = record.hazards.join("; ") || "none recorded";
  $("language").textContent = record.language || "not recorded";
  $("hearing-sight").textContent = record.hearing_sight || "none recorded";
  const items = record.contacts.map((c) => {
    const li = document.createElement("li");
    const who = [c.relationship, c.keyholder ? "keyholder" : ""].filter(Boolean).join(", ");
    li.append(`${c.name}${who ? ` (${who})` : ""}`);
    if (c.phone) li.append(": ", dial(c.phone));
    return li;
  });
  if (!items.length) {
    const none = document.createElement("li");
    none.textContent = "None recorded.";
    items.push(none);
  }
  $("record-contacts").replaceChildren(...items);
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await carewatch.start();
  if (!me) return;
  $("home-link").href = me.home_page;
  const id = Number(location.pathname.split("/").pop());
  try {
    const resident = await api(`/api/v1/residents/${id}`);
    document.title = `${resident.name} — carewatch`;
    $("name").textContent = resident.name;
    $("address").textContent = resident.address || "not recorded";
    $("access").textContent = resident.access_info === null ? "shown to responders only" : resident.access_info || "not recorded";
    $("health").textContent = resident.health_notes === null ? "not shared with you" : resident.health_notes || "none recorded";
    $("away").textContent = resident.away_until ? `until ${new Date(resident.away_until).toLocaleString("en-GB")}` : "at home";
    $("checkin").textContent = resident.checkin_by
      ? `by ${resident.checkin_by.slice(0, 5)}; last ${resident.last_checkin ? new Date(resident.last_checkin).toLocaleString("en-GB") : "never"}`
      : "none";
    $("contacts").replaceChildren(...resident.contacts.map((c) => {
      const li = document.createElement("li");
      const reach = [...(c.phone ? [c.phone] : []), ...c.reach];
      li.textContent = `${c.name} (${c.role})${reach.length ? ": " + reach.join(", ") : ""}`;
      return li;
    }));
    await showCareRecord(id);
    const alerts = await api(`/api/v1/alerts?status=active&resident_id=${id}`);
    $("alerts").replaceChildren(...alerts.map((a) => {
      const li = document.createElement("li");
      li.textContent = `${a.severity}: ${kindWords(a.kind)} at ${clock(a.raised_at, resident.timezone)}: ${a.reason}`;
      return li;
    }));
    // A list holds only items (axe): "none" is an item too.
    const none = (text) => Object.assign(document.createElement("li"), { className: "muted", textContent: text });
    if (!alerts.length) $("alerts").replaceChildren(none("No active alerts."));
    // Every closed alert, newest first: how each ended and, opened, its whole trail.
    const past = await api(`/api/v1/residents/${id}/past-alerts?limit=100`);
    $("past-alerts").replaceChildren(...past.map((a) => carewatch.closedAlert(
      a, async () => (await api(`/api/v1/alerts/${a.id}/history`)).events, { timeZone: resident.timezone },
    )));
    if (!past.length) $("past-alerts").replaceChildren(none("No closed alerts."));
    try {
      const [timeline, routine] = await Promise.all([
        api(`/api/v1/residents/${id}/timeline?hours=24`),
        api(`/api/v1/residents/${id}/routine?days=28`),
      ]);
      drawTimeline($("timeline"), timeline, resident.timezone);
      $("verdict").textContent = routine.as_usual ? "All as usual today." : routine.differences.join(" ");
      drawTrends($("trends"), routine.days, routine.usual);
    } catch (error) {
      $("timeline").textContent = error.message;
    }
  } catch (error) {
    $("message").textContent = error.message;
  }
});
