// Tenant page: each [data-chart] element fetches its history series (JSON, same origin) and draws it with uPlot.
"use strict";
(function () {
  const PALETTE = ["#0b5cad", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#57606a", "#bc4c00", "#1b7c83"];
  function bytes(v) {
    if (v == null) return "";
    const units = ["B", "KB", "MB", "GB", "TB", "PB"];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(i ? 1 : 0) + " " + units[i];
  }
  function draw(el, data) {
    if (!data.dates.length) {
      el.textContent = "No history yet: figures are added at each collection.";
      el.dataset.drawn = "empty";
      return;
    }
    const fmt = el.dataset.unit === "bytes" ? bytes : (v) => (v == null ? "" : String(v));
    const width = Math.max(280, Math.min(el.clientWidth || 520, 900));
    const opts = {
      width: width, height: 220,
      series: [{}].concat(data.series.map((s, i) => ({
        label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, value: (u, v) => fmt(v),
        points: { show: data.dates.length < 40 },
      }))),
      axes: [{}, { values: (u, vals) => vals.map(fmt), size: 70 }],
      scales: { x: { time: true } },
    };
    const chart = new uPlot(opts, [data.x].concat(data.series.map((s) => s.values)), el);
    el.dataset.drawn = "1";
    window.addEventListener("resize", () => chart.setSize({ width: Math.max(280, Math.min(el.clientWidth, 900)), height: 220 }));
  }
  document.querySelectorAll("[data-chart]").forEach((el) => {
    fetch(el.dataset.chart, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
      .then((data) => draw(el, data))
      .catch((err) => { el.textContent = "History unavailable: " + err.message; el.dataset.drawn = "error"; });
  });
})();
