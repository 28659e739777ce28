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
        : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : `request failed (${response.status})`;
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

  // The last hours room by room: one row per room, a bar wherever the resident was.
  // A text summary goes with it for screen readers.
  function drawTimeline(container, data, timeZone) {
    const start = Date.parse(data.start); const end = Date.parse(data.end);
    const rows = data.rooms.length ? data.rooms : ["(no activity)"];
    const label = 72; const width = 480; const rowHeight = 24; const top = 4; const axis = 20;
    const height = top + rows.length * rowHeight + axis;
    const x = (t) => label + ((t - start) / (end - start)) * (width - label - 8);
    const svg = svgEl("svg", {
      viewBox: `0 0 ${width} ${height}`, role: "img", class: "timeline",
      "aria-label": `Where the resident was, room by room, from ${clock(data.start, timeZone)} to ${clock(data.end, timeZone)}`,
    });
    rows.forEach((room, i) => {
      const y = top + i * rowHeight;
      svg.append(svgEl("text", { x: 0, y: y + 17, class: "room-label" }, room));
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
    const hours = (end - start) / 3_600_000;
    const step = hours > 12 ? 3 : 1;
    const first = new Date(start); first.setMinutes(0, 0, 0);
    for (let t = first.getTime() + 3_600_000; t < end; t += step * 3_600_000) {
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

  // A small bar chart of one routine measure over the last days, with its numbers in words.
  function drawTrend(container, title, days, value, format) {
    const values = days.map(value);
    const known = values.filter((v) => v !== null && v !== undefined);
    const figure = document.createElement("figure");
    figure.className = "trend";
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    const width = 210; const height = 56; const gap = 3;
    const max = Math.max(1, ...known);
    const barWidth = (width - gap * (values.length - 1)) / values.length;
    const words = days.map((d, i) => `${d.day.slice(5)}: ${values[i] === null ? "no data" : format(values[i])}`).join(", ");
    const svg = svgEl("svg", {
      viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": `${title}: ${words}`,
    });
    values.forEach((v, i) => {
      const h = v === null ? 2 : Math.max(2, (v / max) * (height - 14));
      const bar = svgEl("rect", {
        x: i * (barWidth + gap), y: height - h, width: barWidth, height: h,
        class: v === null ? "bar missing" : i === values.length - 1 ? "bar today" : "bar",
      });
      bar.append(svgEl("title", {}, `${days[i].day}: ${v === null ? "no data" : format(v)}`));
      svg.append(bar);
    });
    const last = values[values.length - 1];
    const latest = document.createElement("p");
    latest.className = "trend-latest";
    latest.textContent = `Today: ${last === null ? "—" : format(last)}`;
    figure.append(caption, svg, latest);
    container.append(figure);
  }

  function drawTrends(container, days) {
    const week = days.slice(-7);
    container.replaceChildren();
    const time = (t) => (t ? t.slice(0, 5) : "—");
    const minutes = (t) => (t ? Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5)) : null);
    drawTrend(container, "Sleep (hours)", week, (d) => d.sleep_hours, (v) => v.toFixed(1));
    drawTrend(container, "Night toilet visits", week, (d) => d.night_toilet_visits, (v) => String(v));
    drawTrend(container, "Meals", week, (d) => d.meals, (v) => String(v));
    drawTrend(container, "Time out (min)", week, (d) => d.time_out_min, (v) => String(v));
    drawTrend(container, "Up at", week, (d) => minutes(d.wake_time),
      (v) => time(`${String(Math.floor(v / 60)).padStart(2, "0")}:${String(v % 60).padStart(2, "0")}`));
  }

  return { $, start, api, signOut, liveAlerts, kindWords, clock, ago, drawTimeline, drawTrends, OUTCOMES, session };
})();
