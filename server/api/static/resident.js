// The resident's own page: "I'm OK", who to ring, time away, their choices, who sees what, their data.
"use strict";

const { $, api, clock, drawTimeline, drawTrends } = carewatch;
let residentId = null;
let zone = "Europe/London";

function say(text) { $("message").textContent = text; }

function item(...children) {
  const li = document.createElement("li");
  li.append(...children);
  return li;
}

const longDay = (date) => carewatch.longDay(date, zone);
const localDay = (date) => carewatch.localDay(date, zone);
const atHomeTime = (day, hour) => carewatch.atZoneTime(day, hour, zone);
const partOfDay = (date) => carewatch.partOfDay(date, zone);

// "Who looked": one sentence per person and day, newest first.
const WHAT = (what) => (what.startsWith("record") ? "your record" : what.startsWith("alert") ? "your alerts"
  : what === "name on a list" ? "your name on their list" : `your ${what.replace(/ \(change\)$/, "")}`);
const ROLE = { carer: "your carer", responder: "a responder at the alarm centre", admin: "an administrator", resident: "you" };

function whoLooked(reads) {
  const groups = new Map();
  for (const read of reads) {
    const key = `${read.username}|${localDay(new Date(read.at))}|${read.allowed}`;
    if (!groups.has(key)) groups.set(key, { ...read, whats: new Set(), times: 0 });
    const group = groups.get(key);
    group.whats.add(WHAT(read.what));
    group.times += 1;
  }
  return [...groups.values()].map((g) => {
    const whats = [...g.whats];
    const list = whats.length > 1 ? `${whats.slice(0, -1).join(", ")} and ${whats[whats.length - 1]}` : whats[0];
    const when = localDay(new Date(g.at)) === localDay(new Date()) ? "Today" : longDay(new Date(g.at));
    const who = `${g.name}, ${ROLE[g.role] || g.role},`;
    const times = g.times === 1 ? "once" : g.times === 2 ? "twice" : `${g.times} times`;
    const strong = document.createElement("strong");
    strong.textContent = `${when}: `;
    return item(strong, g.allowed
      ? `${who} looked at ${list} (${times}, last at ${clock(g.at, zone)}).`
      : `${who} tried to see ${list} and was refused (${times}).`);
  });
}

async function load() {
  const me = await api(`/api/v1/residents/${residentId}`);
  zone = me.timezone;
  carewatch.fillAwayDays($("away-day"), zone);
  $("greeting").textContent = `Hello, ${me.name}`;
  const checked = me.last_checkin && localDay(new Date(me.last_checkin)) === localDay(new Date());
  const button = $("checkin");
  button.classList.toggle("done", Boolean(checked));
  button.textContent = checked ? `✓ I'm OK: said at ${clock(me.last_checkin, zone)}` : "I'm OK";
  $("checkin-state").textContent = checked
    ? "Your carers can see you said you're OK today. Thank you."
    : me.checkin_by ? `Please press by ${me.checkin_by.slice(0, 5)} each day.` : "Press it whenever you like.";

  $("ring").replaceChildren(...(me.contacts.length ? me.contacts.map((c) => {
    if (!c.phone) return item(`${c.name}, your carer (no phone number on record: ask the care team to add it).`);
    const call = document.createElement("a");
    call.href = `tel:${c.phone.replace(/[^0-9+]/g, "")}`;
    call.textContent = c.phone;
    return item(`${c.name}, your carer: `, call);
  }) : [item("No carers are set up for you yet: ask the care team.")]));

  const away = me.away_until && Date.parse(me.away_until) > Date.now();
  const until = away ? new Date(me.away_until) : null;
  $("away-state").textContent = away
    ? `You are away until ${longDay(until)}, by the end of the ${partOfDay(until)}.`
    : "You are at home.";
  $("back-home").hidden = !away;
  $("share-health").checked = me.share_health_notes;
  $("share-activity").checked = me.share_activity_with_carers;
  $("checkin-by").value = me.checkin_by ? me.checkin_by.slice(0, 5) : "";
  const health = await api(`/api/v1/residents/${residentId}/health-sharing`);
  $("share-with-health").checked = health.share_with_health;
  const who = [
    `The alarm centre's responders, when they answer one of your alerts${me.share_health_notes ? " (with your health notes)" : ""}.`,
    ...me.contacts.map((c) => `${c.name}, your carer${me.share_activity_with_carers ? ", with your daily timeline" : ""}.`),
    "The care team's administrators.",
    ...(health.share_with_health ? ["Your GP and hospital, through the health systems your care team has connected."] : []),
  ];
  $("who-can-see").replaceChildren(...who.map((w) => item(w)));
  // Other people's looks: the resident's own are not news to them.
  const reads = (await api(`/api/v1/residents/${residentId}/reads?limit=200`))
    .filter((r) => r.username !== carewatch.session.me.username);
  if (!reads.length) $("reads").replaceChildren(item("Nobody else has looked yet."));
  else $("reads").replaceChildren(...whoLooked(reads).slice(0, 12));
  const [timeline, routine] = await Promise.all([
    api(`/api/v1/residents/${residentId}/timeline?hours=24`),
    api(`/api/v1/residents/${residentId}/routine?days=28`),
  ]);
  drawTimeline($("timeline"), timeline, zone);
  drawTrends($("trends"), routine.days, routine.usual);
}

async function run(action, done, button) {
  if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
  try { await action(); say(done); await load(); return true; } catch (error) { say(error.message); return false; }
  finally { if (button) { button.disabled = false; button.removeAttribute("aria-busy"); } }
}

document.addEventListener("DOMContentLoaded", async () => {
  const me = await carewatch.start();
  if (!me) return;
  residentId = me.resident_id;
  $("checkin").addEventListener("click", (event) =>
    run(() => api(`/api/v1/residents/${residentId}/checkin`, { method: "POST" }),
      "Thank you: your carers can see you're OK.", event.currentTarget));
  $("away-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const hour = Number(document.querySelector("input[name='away-part']:checked").value);
    const until = atHomeTime($("away-day").value, hour);
    const error = $("away-error");
    error.textContent = "";
    if (until <= new Date()) {
      error.textContent = "That time has already passed today: choose a later day or part of the day.";
      $("away-day").focus();
      return;
    }
    const body = { until: until.toISOString() };
    const saved = await run(() => api(`/api/v1/residents/${residentId}/away`, { method: "PUT", body }),
      "Have a good time away. Your pendant still works.", event.submitter);
    if (!saved) error.textContent = $("message").textContent;
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
    const health = { share_with_health: $("share-with-health").checked };
    run(async () => {
      await api(`/api/v1/residents/${residentId}/choices`, { method: "PUT", body });
      await api(`/api/v1/residents/${residentId}/health-sharing`, { method: "PUT", body: health });
    }, "Your choices are saved.", event.submitter);
  });
  await load();
});
