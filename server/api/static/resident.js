// The resident's own page: "I'm OK", time away, their choices, who sees what, their data.
"use strict";

const { $, api, clock, drawTimeline, drawTrends } = carewatch;
let residentId = null;

function say(text) { $("message").textContent = text; }

async function load() {
  const me = await api(`/api/v1/residents/${residentId}`);
  $("greeting").textContent = `Hello, ${me.name}`;
  const today = new Date().toDateString();
  const checked = me.last_checkin && new Date(me.last_checkin).toDateString() === today;
  $("checkin-state").textContent = checked
    ? `You said "I'm OK" today at ${clock(me.last_checkin, me.timezone)}. Thank you.`
    : me.checkin_by ? `Please press by ${me.checkin_by.slice(0, 5)} each day.` : "Press it whenever you like.";
  const away = me.away_until && Date.parse(me.away_until) > Date.now();
  $("away-state").textContent = away ? `You are away until ${new Date(me.away_until).toLocaleString("en-GB")}.` : "You are at home.";
  $("back-home").hidden = !away;
  $("share-health").checked = me.share_health_notes;
  $("share-activity").checked = me.share_activity_with_carers;
  $("checkin-by").value = me.checkin_by ? me.checkin_by.slice(0, 5) : "";
  const who = [
    `The responders of the ${me.service} service, when they answer an alert${me.share_health_notes ? " (with your health notes)" : ""}.`,
    ...me.contacts.map((c) => `${c.name}, your carer${me.share_activity_with_carers ? ", with your daily timeline" : ""}.`),
    "The service's administrators.",
  ];
  $("who-can-see").replaceChildren(...who.map((w) => { const li = document.createElement("li"); li.textContent = w; return li; }));
  // Other people's looks: the resident's own are not news to them.
  const reads = (await api(`/api/v1/residents/${residentId}/reads?limit=100`))
    .filter((r) => r.username !== carewatch.session.me.username).slice(0, 10);
  if (!reads.length) $("reads").textContent = "Nobody else has looked yet.";
  else $("reads").replaceChildren(...reads.map((r) => {
    const li = document.createElement("li");
    li.textContent = `${new Date(r.at).toLocaleString("en-GB")}: ${r.username} (${r.role}) ${r.allowed ? "looked at" : "was refused"} your ${r.what}`;
    return li;
  }));
  const [timeline, routine] = await Promise.all([
    api(`/api/v1/residents/${residentId}/timeline?hours=24`),
    api(`/api/v1/residents/${residentId}/routine?days=28`),
  ]);
  drawTimeline($("timeline"), timeline, me.timezone);
  drawTrends($("trends"), routine.days);
}

async function run(action, done) {
  try { await action(); say(done); await load(); } catch (error) { say(error.message); }
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await carewatch.start();
  if (!me) return;
  residentId = me.resident_id;
  $("checkin").addEventListener("click", () =>
    run(() => api(`/api/v1/residents/${residentId}/checkin`, { method: "POST" }), "Thank you: your carers know you're OK."));
  $("away-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const until = new Date($("away-until").value).toISOString();
    run(() => api(`/api/v1/residents/${residentId}/away`, { method: "PUT", body: { until } }),
      "Have a good time away. Your pendant still works.");
  });
  $("back-home").addEventListener("click", () =>
    run(() => api(`/api/v1/residents/${residentId}/away`, { method: "PUT", body: { until: null } }), "Welcome home."));
  $("choices-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {
      share_health_notes: $("share-health").checked,
      share_activity_with_carers: $("share-activity").checked,
      checkin_by: $("checkin-by").value || null,
    };
    run(() => api(`/api/v1/residents/${residentId}/choices`, { method: "PUT", body }), "Your choices are saved.");
  });
  await load();
});
