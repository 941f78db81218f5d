// The status page: waiting hours by lot and a self-contained SVG map (no tiles, no CDN).
// Data comes from GET /v1/status/overview with the key typed in; the key stays in this tab.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];
const KEY_STORE = "carealloc-key";

function el(tag, attrs, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function say(text, isError) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = isError ? "error" : "";
}

function rings(polygon) {
  if (!polygon) return [];
  if (polygon.type === "Polygon") return polygon.coordinates;
  return polygon.coordinates.flat();
}

function projection(points) {
  let [minLon, maxLon, minLat, maxLat] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [lon, lat] of points) {
    minLon = Math.min(minLon, lon); maxLon = Math.max(maxLon, lon);
    minLat = Math.min(minLat, lat); maxLat = Math.max(maxLat, lat);
  }
  const kx = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
  const width = Math.max((maxLon - minLon) * kx, 1e-3);
  const height = Math.max(maxLat - minLat, 1e-3);
  const scale = Math.min(760 / width, 560 / height);
  const dx = (800 - width * scale) / 2;
  const dy = (600 - height * scale) / 2;
  return ([lon, lat]) => [dx + (lon - minLon) * kx * scale, dy + (maxLat - lat) * scale];
}

function renderTable(data) {
  const body = document.querySelector("#waiting tbody");
  body.replaceChildren();
  const lots = [...data.lots].sort((a, b) => b.waiting_hours - a.waiting_hours || a.name.localeCompare(b.name));
  for (const lot of lots) {
    const row = el("tr", { "data-lot": lot.id });
    row.append(el("td", {}, lot.name), el("td", { class: "num" }, String(lot.waiting_packages)),
      el("td", { class: "num" }, lot.waiting_hours.toFixed(1)), el("td", {}, lot.provider_names.join(", ")));
    body.append(row);
  }
  document.getElementById("summary").textContent =
    `${data.waiting.length} packages waiting, ${data.waiting_hours.toFixed(1)} hours of care a week; ` +
    `${data.placed.length} clients placed with ${data.providers.length} providers.`;
}

function renderMap(data) {
  const svg = document.getElementById("map");
  svg.replaceChildren();
  const points = [];
  for (const lot of data.lots) for (const ring of rings(lot.polygon)) points.push(...ring);
  for (const dot of [...data.placed, ...data.waiting]) points.push(dot.location);
  if (points.length === 0) { svg.append(el("svg:text", { x: 20, y: 40 }, "Nothing to draw yet.")); return; }
  const project = projection(points);
  const most = Math.max(1, ...data.lots.map((lot) => lot.waiting_hours));
  for (const lot of data.lots) {
    const paths = rings(lot.polygon).map((ring) => "M" + ring.map((p) => project(p).map((v) => v.toFixed(1)).join(",")).join("L") + "Z");
    if (paths.length === 0) continue;
    const shade = 0.08 + 0.6 * (lot.waiting_hours / most);
    const path = el("svg:path", { d: paths.join(" "), class: "lot", "data-lot": lot.id,
      fill: `rgba(230, 126, 34, ${shade.toFixed(2)})`, "fill-rule": "evenodd" });
    path.append(el("svg:title", {}, `${lot.name}: ${lot.waiting_hours.toFixed(1)} hours a week waiting`));
    svg.append(path);
    const ring = rings(lot.polygon)[0].map(project);
    const cx = ring.reduce((s, p) => s + p[0], 0) / ring.length;
    const cy = ring.reduce((s, p) => s + p[1], 0) / ring.length;
    svg.append(el("svg:text", { x: cx.toFixed(1), y: cy.toFixed(1), class: "lot-label", "text-anchor": "middle" }, lot.name));
  }
  const colour = new Map(data.providers.map((p, i) => [p.id, PALETTE[i % PALETTE.length]]));
  // Waiting squares first, so a placed client at the same address stays visible on top.
  for (const dot of data.waiting) {
    const [x, y] = project(dot.location);
    const square = el("svg:rect", { x: (x - 5).toFixed(1), y: (y - 5).toFixed(1), width: 10, height: 10,
      class: "waiting", "data-package": dot.package_id });
    square.append(el("svg:title", {}, `${dot.package_id}: waiting (${dot.urgency}), ${dot.hours_per_week.toFixed(1)} h/week`));
    svg.append(square);
  }
  for (const dot of data.placed) {
    const [x, y] = project(dot.location);
    const circle = el("svg:circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 5, class: "placed",
      fill: colour.get(dot.provider_id) || "#777", "data-package": dot.package_id });
    circle.append(el("svg:title", {}, `${dot.package_id}: ${dot.provider_name}, ${dot.hours_per_week.toFixed(1)} h/week`));
    svg.append(circle);
  }
  const legend = document.getElementById("legend");
  legend.replaceChildren();
  for (const provider of data.providers) {
    const item = el("li", { "data-provider": provider.id });
    const swatch = el("span", { class: "swatch" });
    swatch.style.backgroundColor = colour.get(provider.id);  // CSSOM: allowed by the page's CSP
    item.append(swatch, document.createTextNode(`${provider.name} (${provider.lot_names.join(", ")})`));
    legend.append(item);
  }
}

async function load(key) {
  say("Loading…", false);
  let response;
  try {
    response = await fetch("/v1/status/overview", { headers: { "X-API-Key": key } });
  } catch (error) {
    say("The service did not answer.", true);
    return;
  }
  if (!response.ok) {
    const reason = response.status === 401 ? "That key was not accepted." :
      response.status === 403 ? "This page needs a broker or admin key." : `Error ${response.status}.`;
    say(reason, true);
    document.getElementById("content").hidden = true;
    return;
  }
  const data = await response.json();
  document.getElementById("council").textContent = data.council;
  renderTable(data);
  renderMap(data);
  document.getElementById("content").hidden = false;
  say(`Updated ${new Date().toLocaleTimeString()}.`, false);
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("key-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = document.getElementById("key").value.trim();
    sessionStorage.setItem(KEY_STORE, key);
    load(key);
  });
  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) load(saved);
  setInterval(() => { const key = sessionStorage.getItem(KEY_STORE); if (key) load(key); }, 60000);
});
