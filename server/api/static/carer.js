// A carer's residents, phone first: as usual or what is different, alerts, today and this week.
"use strict";

const { $, api, kindWords, ago, drawTimeline, drawTrends } = carewatch;

async function loadResidents() {
  const residents = await api("/api/v1/residents");
  const cards = await Promise.all(residents.map(card));
  $("residents").replaceChildren(...cards);
  if (!residents.length) $("residents").textContent = "Nobody has been assigned to you yet.";
}

async function card(resident) {
  const item = $("card-template").content.firstElementChild.cloneNode(true);
  item.dataset.residentId = resident.id;
  const link = item.querySelector(".record-link");
  link.textContent = resident.name;
  link.href = `/residents/${resident.id}`;
  const [alerts, routine, timeline, record] = await Promise.all([
    api(`/api/v1/alerts?status=active&resident_id=${resident.id}`),
    api(`/api/v1/residents/${resident.id}/routine?days=28`).catch((e) => e),
    api(`/api/v1/residents/${resident.id}/timeline?hours=24`).catch((e) => e),
    api(`/api/v1/residents/${resident.id}`),
  ]);
  const verdict = item.querySelector(".verdict");
  const differences = item.querySelector(".differences");
  if (routine instanceof Error) {
    verdict.textContent = "Their daily picture is private: they have not shared it with carers.";
    item.querySelector(".today").hidden = true;
    item.querySelector(".week").hidden = true;
  } else {
    if (record.away_until) verdict.textContent = `Away until ${new Date(record.away_until).toLocaleString("en-GB")}.`;
    else if (routine.learning && routine.as_usual) verdict.textContent = "Still learning their routine; nothing unusual seen.";
    else verdict.textContent = routine.as_usual ? "All as usual today." : "Different today:";
    verdict.classList.toggle("as-usual", routine.as_usual && !alerts.length);
    differences.replaceChildren(...routine.differences.map((d) => {
      const li = document.createElement("li"); li.textContent = d; return li;
    }));
    drawTimeline(item.querySelector(".today .timeline-box"), timeline, record.timezone);
    drawTrends(item.querySelector(".week .trends"), routine.days);
  }
  const list = item.querySelector(".alert-list");
  list.replaceChildren(...alerts.map((alert) => alertLine(alert)));
  item.querySelector(".card-alerts").hidden = !alerts.length;
  return item;
}

function alertLine(alert) {
  const li = document.createElement("li");
  li.className = "alert";
  li.dataset.severity = alert.severity;
  const head = document.createElement("p");
  head.className = "alert-head";
  const severity = document.createElement("span");
  severity.className = "severity";
  severity.textContent = alert.severity;
  const what = document.createElement("strong");
  what.textContent = `${kindWords(alert.kind)}, ${ago(alert.raised_at)} ago`;
  head.append(severity, " ", what);
  const reason = document.createElement("p");
  reason.className = "reason";
  reason.textContent = alert.reason;
  li.append(head, reason);
  const responding = (alert.details.responding || []).map((r) => r.by);
  if (responding.length) {
    // An emergency stays with the alarm centre; the carer sees their tap was recorded.
    const note = document.createElement("p");
    note.className = "status";
    note.textContent = `Dealing with it: ${responding.join(", ")}. The alarm centre is handling it too.`;
    li.append(note);
  }
  if ((alert.status === "open" || alert.status === "escalated") && !responding.includes(carewatch.session.me.username)) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "big";
    button.textContent = "I'm dealing with it";
    button.setAttribute("aria-label", `I'm dealing with it: ${alert.resident}, ${kindWords(alert.kind)}`);
    button.onclick = async () => {
      button.disabled = true;
      try {
        await api(`/api/v1/alerts/${alert.id}/ack`, { method: "POST", body: {} });
        $("announcer").textContent = `Recorded: you are dealing with ${alert.resident}'s alert.`;
      } catch (error) { $("announcer").textContent = error.message; }
      await loadResidents();
    };
    li.append(button);
  } else if (alert.status === "acknowledged") {
    const status = document.createElement("p");
    status.className = "status";
    status.textContent = `Acknowledged by ${alert.acknowledged_by}`;
    li.append(status);
  }
  return li;
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
  if (!(await carewatch.start())) return;
  if ("serviceWorker" in navigator && "PushManager" in window && "Notification" in window) {
    $("push").hidden = false;
    $("push-on").addEventListener("click", sendAlertsHere);
  }
  await loadResidents();
  // New alerts for my residents arrive on the live stream: refresh the cards.
  carewatch.liveAlerts({
    onAlert: () => loadResidents(),
    onReload: () => loadResidents(),
    onLost: () => { $("connection").textContent = "Reconnecting…"; },
    onOpen: () => { $("connection").textContent = ""; },
  });
});
