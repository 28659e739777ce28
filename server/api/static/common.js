// What every carewatch page shares: the session, API calls, words for alerts, and the pictures.
"use strict";

const carewatch = (() => {
  // The one table of alert kinds (server/domain/alerts.py KINDS), put in every page's head.
  const KIND_WORDS = Object.fromEntries(
    Object.entries(JSON.parse(document.getElementById("carewatch-kinds")?.textContent || "{}"))
      .map(([kind, words]) => [kind, words.title]));
  const OUTCOMES = [
    ["resolved_ok", "Resolved: all well"], ["carer_visited", "Carer visited"],
    ["emergency_services", "Emergency services called"], ["false_alarm", "False alarm"],
    ["resident_away", "Resident away"],
  ];
  // Rooms of the timeline with a colour of their own in carewatch.css (.room-…), in
  // both themes (each passes 3:1 against its lane); any other room is drawn in grey.
  const COLOURED_ROOMS = new Set(["bedroom", "bathroom", "kitchen", "lounge", "hall", "out"]);
  const session = { csrf: null, me: null };

  const $ = (id) => document.getElementById(id);

  // The page's session; an expired one goes back to sign-in and returns here after.
  async function start() {
    const response = await fetch("/api/v1/auth/session", { credentials: "same-origin" });
    if (response.status === 401) { toSignIn(); return null; }
    const me = await response.json();
    session.csrf = me.csrf_token;
    session.me = me;
    const who = $("who-name");
    if (who) who.textContent = `${me.username} (${me.role})`;
    const out = $("sign-out");
    if (out) out.addEventListener("click", signOut);
    return me;
  }

  function toSignIn() {
    location.assign(`/?next=${encodeURIComponent(location.pathname)}`);
  }

  async function signOut() {
    await fetch("/api/v1/auth/session", {
      method: "DELETE", credentials: "same-origin", headers: { "X-CSRF-Token": session.csrf || "" },
    });
    location.assign("/");
  }

  // A validation message as a person reads it: pydantic's "Value error, " prefix dropped,
  // a sentence with its capital and its full stop.
  function plainWords(message) {
    const text = String(message).replace(/^(Value|Assertion) error, /, "");
    const sentence = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = {};
    if (method !== "GET") headers["X-CSRF-Token"] = session.csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) { toSignIn(); throw new Error("Your session has ended."); }
    if (!response.ok) {
      const detail = (await response.json().catch(() => ({}))).detail;
      const message = typeof detail === "string" ? detail
        : Array.isArray(detail) ? detail.map((d) => plainWords(d.msg)).join(" ") : `request failed (${response.status})`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  // A live stream of alert changes. The browser retries a dropped connection by itself,
  // but gives up on an error answer (a restarting server's 502, an expired session's 401):
  // then sign in again, or start a new stream.
  function liveAlerts({ onOpen, onAlert, onReload, onLost }) {
    const stream = new EventSource("/api/v1/alerts/stream");
    stream.addEventListener("open", () => onOpen && onOpen());
    stream.addEventListener("reload", () => onReload && onReload());
    stream.addEventListener("alert", (event) => onAlert(JSON.parse(event.data)));
    stream.addEventListener("error", async () => {
      if (onLost) onLost();
      if (stream.readyState !== EventSource.CLOSED) return;
      const session = await fetch("/api/v1/auth/session", { credentials: "same-origin" }).catch(() => null);
      if (session && session.status === 401) { toSignIn(); return; }
      setTimeout(() => liveAlerts({ onOpen, onAlert, onReload, onLost }), 2000);
    });
  }

  const kindWords = (kind) => KIND_WORDS[kind] || kind.replaceAll("_", " ");

  // --- A closed alert and its trail (the console's recently closed, the record's history) ----

  const TRAIL_WORDS = {
    raise: "raised", acknowledge: "acknowledged", escalate: "escalated to responders",
    resolve: "closed", note: "note", step_done: "step done", step_undone: "step undone",
    carer_responding: "carer on the way", cleared_needs_review: "cleared by itself: needs review",
    self_cleared: "cleared by itself", condition_cleared: "condition ended",
    nobody_to_notify: "nobody on duty to notify", notified: "notified", escalated: "escalated",
  };
  const outcomeWords = (outcome) => (OUTCOMES.find(([value]) => value === outcome) || [outcome, outcome || "no outcome"])[1];

  function trailList(events, timeZone) {
    const ol = document.createElement("ol");
    ol.className = "trail";
    ol.replaceChildren(...events.map((e) => {
      const li = document.createElement("li");
      const what = TRAIL_WORDS[e.action] || e.action.replaceAll("_", " ");
      li.textContent = `${clock(e.at, timeZone)} ${e.actor}: ${what}${e.note ? ` — ${e.note}` : ""}`;
      return li;
    }));
    return ol;
  }

  // One closed alert: kind, outcome, who closed it and when, and its trail behind a
  // disclosure. ``trail`` is the events, or a function fetching them when first opened.
  function closedAlert(alert, trail, { timeZone, withResident = false } = {}) {
    const li = document.createElement("li");
    li.className = "closed-alert";
    const head = document.createElement("p");
    const when = alert.resolved_at ? new Date(alert.resolved_at).toLocaleString("en-GB", { timeZone, dateStyle: "medium", timeStyle: "short" }) : "";
    head.textContent = `${withResident ? `${alert.resident}: ` : ""}${kindWords(alert.kind)} (${alert.severity}): `
      + `${outcomeWords(alert.outcome)}, closed by ${alert.resolved_by || "nobody"} ${when}`;
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `Trail${withResident ? `: ${alert.resident}, ${kindWords(alert.kind)}` : ""}`;
    details.append(summary);
    const fill = (events) => details.append(trailList(events, timeZone));
    if (typeof trail === "function") {
      details.addEventListener("toggle", () => {
        if (!details.open || details.dataset.loaded) return;
        details.dataset.loaded = "yes";
        trail().then(fill).catch((error) => { details.append(error.message); });
      });
    } else fill(trail);
    li.append(head, details);
    return li;
  }

  function clock(iso, timeZone) {
    return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone });
  }

  function ago(iso) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    const minutes = Math.floor(seconds / 60);
    if (minutes >= 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
    return minutes ? `${minutes} min ${seconds % 60} s` : `${seconds} s`;
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svgEl(name, attributes = {}, text) {
    const el = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // Charts are drawn at the width they are shown at (one SVG unit a CSS pixel), so their
  // words keep the page's text size on a phone and on a desktop alike.
  function widthOf(container, fallback = 340) {
    return Math.max(260, Math.round(container.clientWidth || container.parentElement?.clientWidth || fallback));
  }

  // The last hours room by room: one row per room, a bar wherever the resident was.
  // A text summary goes with it for screen readers.
  function drawTimeline(container, data, timeZone) {
    const start = Date.parse(data.start); const end = Date.parse(data.end);
    const rows = data.rooms.length ? data.rooms : ["(no activity)"];
    const width = widthOf(container);
    const label = 88; const rowHeight = 30; const top = 4; const axis = 26;
    const height = top + rows.length * rowHeight + axis;
    const x = (t) => label + ((t - start) / (end - start)) * (width - label - 8);
    const svg = svgEl("svg", {
      viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "timeline",
      "aria-label": `Where the resident was, room by room, from ${clock(data.start, timeZone)} to ${clock(data.end, timeZone)}`,
    });
    rows.forEach((room, i) => {
      const y = top + i * rowHeight;
      svg.append(svgEl("text", { x: 0, y: y + 20, class: "room-label" }, room.replaceAll("_", " ")));
      svg.append(svgEl("rect", { x: label, y: y + 3, width: width - label - 8, height: rowHeight - 6, class: "lane" }));
    });
    for (const span of data.spans) {
      const i = rows.indexOf(span.room);
      if (i < 0) continue;
      const from = x(Date.parse(span.start)); const to = x(Date.parse(span.end));
      const bar = svgEl("rect", {
        x: from, y: top + i * rowHeight + 3, width: Math.max(2, to - from), height: rowHeight - 6,
        class: COLOURED_ROOMS.has(span.room) ? `room room-${span.room}` : "room",
      });
      bar.append(svgEl("title", {}, `${span.room}: ${clock(span.start, timeZone)}–${clock(span.end, timeZone)}`));
      svg.append(bar);
    }
    // About one time label per 70 px: every 3, 4 or 6 hours on a phone, every 1 or 2 on a desktop.
    const hours = (end - start) / 3_600_000;
    const room = (width - label) / 70;
    const step = [1, 2, 3, 4, 6, 12].find((s) => hours / s <= room) || 12;
    const first = new Date(start); first.setMinutes(0, 0, 0);
    for (let t = first.getTime() + 3_600_000; t < end; t += 3_600_000) {
      const hour = Number(clock(new Date(t).toISOString(), timeZone).slice(0, 2));
      if (hour % step) continue;
      const tx = x(t);
      svg.append(svgEl("line", { x1: tx, x2: tx, y1: top, y2: height - axis + 2, class: "tick" }));
      svg.append(svgEl("text", { x: tx, y: height - 6, class: "tick-label", "text-anchor": "middle" },
        clock(new Date(t).toISOString(), timeZone)));
    }
    const summary = document.createElement("ul");
    summary.className = "visually-hidden";
    for (const span of data.spans.slice(-12)) {
      const li = document.createElement("li");
      li.textContent = `${span.room} from ${clock(span.start, timeZone)} to ${clock(span.end, timeZone)}`;
      summary.append(li);
    }
    container.replaceChildren(svg, summary);
  }

  const WEEKDAY = (day) => new Date(`${day}T12:00:00Z`).toLocaleDateString("en-GB", { weekday: "short", timeZone: "UTC" });
  const hhmm = (minutes) => `${String(Math.floor(minutes / 60) % 24).padStart(2, "0")}:${String(Math.round(minutes) % 60).padStart(2, "0")}`;

  // One routine measure over the last days: a labelled axis, a day label under each day,
  // the resident's usual band shaded, today marked. Amounts are bars; times of day are
  // dots on a time axis (a later morning is lower down the clock, not a taller bar).
  function drawTrend(container, { title, days, value, format, usual, time = false }) {
    const values = days.map(value);
    const known = values.filter((v) => v !== null && v !== undefined);
    const figure = document.createElement("figure");
    figure.className = "trend";
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    const width = widthOf(container); const height = 150;
    const left = time ? 52 : 36; const right = 8; const top = 10; const bottom = 26;
    const plot = height - top - bottom;
    let low; let high;
    if (time) {
      const spread = [...known, ...(usual ? [usual.low, usual.high] : [])];
      low = Math.floor((Math.min(...spread, 7 * 60) - 30) / 60) * 60;
      high = Math.ceil((Math.max(...spread, 8 * 60) + 30) / 60) * 60;
    } else {
      low = 0;
      high = Math.max(1, ...known, usual ? usual.high : 0);
      high = high <= 4 ? Math.ceil(high) : Math.ceil(high / 5) * 5;
    }
    // Time runs down the axis as on a clock face read top to bottom; amounts grow upwards.
    const y = time ? (v) => top + ((v - low) / (high - low)) * plot : (v) => top + plot - ((v - low) / (high - low)) * plot;
    const slot = (width - left - right) / values.length;
    const words = days.map((d, i) => `${WEEKDAY(d.day)}: ${values[i] === null || values[i] === undefined ? "no data" : format(values[i])}`).join(", ");
    const usualWords = usual ? `; usual ${format(usual.low)} to ${format(usual.high)}` : "";
    const svg = svgEl("svg", {
      viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "trend-chart",
      "aria-label": `${title}: ${words}${usualWords}`,
    });
    if (usual) {
      const a = y(Math.max(low, usual.low)); const b = y(Math.min(high, usual.high));
      const band = svgEl("rect", { x: left, y: Math.min(a, b), width: width - left - right, height: Math.abs(b - a), class: "usual" });
      band.append(svgEl("title", {}, `Usual: ${format(usual.low)} to ${format(usual.high)}`));
      svg.append(band);
    }
    // The value axis: whole hours for times, a few round numbers for amounts.
    const ticks = [];
    if (time) {
      const every = high - low > 6 * 60 ? 120 : 60;
      for (let t = low; t <= high; t += every) ticks.push(t);
    } else {
      const every = high <= 4 ? 1 : high <= 20 ? 5 : Math.ceil(high / 4 / 10) * 10;
      for (let t = 0; t <= high; t += every) ticks.push(t);
    }
    for (const t of ticks) {
      svg.append(svgEl("line", { x1: left, x2: width - right, y1: y(t), y2: y(t), class: "tick" }));
      svg.append(svgEl("text", { x: left - 6, y: y(t) + 5, class: "tick-label", "text-anchor": "end" },
        time ? hhmm(t) : String(t)));
    }
    values.forEach((v, i) => {
      const cx = left + slot * i + slot / 2;
      const today = i === values.length - 1;
      svg.append(svgEl("text", { x: cx, y: height - 6, class: today ? "day-label today" : "day-label", "text-anchor": "middle" },
        today ? "Today" : WEEKDAY(days[i].day)));
      const tip = `${days[i].day}: ${v === null || v === undefined ? "no data" : format(v)}`;
      let mark;
      if (v === null || v === undefined) {
        mark = svgEl("text", { x: cx, y: top + plot / 2 + 5, class: "no-data", "text-anchor": "middle" }, "–");
      } else if (time) {
        mark = svgEl("circle", { cx, cy: y(v), r: today ? 7 : 5, class: today ? "dot today" : "dot" });
      } else {
        const barWidth = Math.min(28, slot * 0.6);
        mark = svgEl("rect", {
          x: cx - barWidth / 2, y: y(v), width: barWidth, height: Math.max(1, y(0) - y(v)),
          class: today ? "bar today" : "bar",
        });
      }
      mark.append(svgEl("title", {}, tip));
      svg.append(mark);
    });
    const last = values[values.length - 1];
    const latest = document.createElement("p");
    latest.className = "trend-latest";
    latest.textContent = `Today: ${last === null || last === undefined ? "—" : format(last)}`
      + (usual ? ` (usual ${format(usual.low)}–${format(usual.high)})` : "");
    figure.append(caption, svg, latest);
    container.append(figure);
  }

  // The week's measures, each with the usual band from the routine's own judgement.
  function drawTrends(container, days, usual = {}) {
    const week = days.slice(-7);
    container.replaceChildren();
    const measured = ["wake_time", "sleep_hours", "night_toilet_visits", "meals", "time_out_min"];
    if (!week.some((d) => measured.some((m) => d[m] !== null && d[m] !== undefined))) {
      // Seven empty charts say less than one sentence.
      const none = document.createElement("p");
      none.className = "hint";
      none.textContent = "No readings from the home this week yet, so there is nothing to chart.";
      container.append(none);
      return;
    }
    const minutes = (t) => (t ? Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5)) : null);
    const whole = (v) => String(Math.round(v));
    drawTrend(container, { title: "Up at", days: week, value: (d) => minutes(d.wake_time), format: hhmm, usual: usual.wake_time, time: true });
    drawTrend(container, { title: "Sleep (hours)", days: week, value: (d) => d.sleep_hours, format: (v) => v.toFixed(1), usual: usual.sleep_hours });
    drawTrend(container, { title: "Night toilet visits", days: week, value: (d) => d.night_toilet_visits, format: whole, usual: usual.night_toilet_visits });
    drawTrend(container, { title: "Meals", days: week, value: (d) => d.meals, format: whole, usual: usual.meals });
    drawTrend(container, { title: "Time out (minutes)", days: week, value: (d) => d.time_out_min, format: whole, usual: usual.time_out_min });
    const key = document.createElement("p");
    key.className = "hint trend-key";
    const swatch = document.createElement("span");
    swatch.className = "usual-swatch";
    swatch.setAttribute("aria-hidden", "true");
    key.append(swatch, " Shaded: the usual range. Outside it, a day counts as different.");
    container.append(key);
  }

  // "Away until" as a person says it: a day by name and the end of a part of the day,
  // in the home's (or the service's) time zone, with no date format to guess.
  const longDay = (date, timeZone) =>
    date.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", timeZone });
  // The local calendar day of an instant in a time zone, as YYYY-MM-DD.
  const localDay = (date, timeZone) => date.toLocaleDateString("en-CA", { timeZone });

  // The instant of a wall-clock time in a zone (the offset found by asking Intl).
  function atZoneTime(day, hour, timeZone) {
    const guess = Date.parse(`${day}T${String(hour).padStart(2, "0")}:00:00Z`);
    const shown = new Date(guess).toLocaleString("en-US", { timeZone, hour12: false,
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    const [, m, d, y, h, min] = shown.match(/(\d+)\/(\d+)\/(\d+), (\d+):(\d+)/);
    const offset = Date.UTC(+y, m - 1, +d, h % 24, +min) - guess;
    return new Date(guess - offset);
  }

  const DAY_PARTS = [[12, "morning"], [18, "afternoon"], [22, "evening"]];
  function partOfDay(date, timeZone) {
    const hour = Number(date.toLocaleTimeString("en-GB", { hour: "2-digit", hourCycle: "h23", timeZone }));
    return (DAY_PARTS.find(([end]) => hour <= end) || DAY_PARTS[DAY_PARTS.length - 1])[1];
  }

  // Today and the next 90 days, by name, in a <select>; tomorrow chosen.
  function fillAwayDays(select, timeZone) {
    if (select.options.length) return;
    const now = Date.now();
    for (let i = 0; i <= 90; i += 1) {
      const date = new Date(now + i * 86_400_000);
      const option = document.createElement("option");
      option.value = localDay(date, timeZone);
      const words = longDay(date, timeZone);
      option.textContent = i === 0 ? `Today, ${words}` : i === 1 ? `Tomorrow, ${words}` : words;
      select.append(option);
    }
    select.selectedIndex = 1;
  }

  return { $, start, api, signOut, liveAlerts, kindWords, clock, ago, drawTimeline, drawTrends, closedAlert, OUTCOMES, session, plainWords,
    longDay, localDay, atZoneTime, partOfDay, fillAwayDays };
})();
