// Simulation page: simulated response-time distribution per priority, P1 compliance by
// district with confidence intervals, and staffing curves before/after a diversion.
window.addEventListener("load", function () {
  "use strict";
  var d = JSON.parse(document.getElementById("simulate-chart-data").textContent);
  var colours = ["#b3261e", "#d35400", "#1f5fa8", "#6b8e23", "#8e44ad", "#7f8c8d"];
  var pct = function (v) { return v === null ? null : 100 * v; };
  new window.Chart(document.getElementById("sim-histogram"), {
    type: "line",
    data: {
      labels: d.histogram.length ? d.histogram[0].labels : [],
      datasets: d.histogram.map(function (p, i) {
        return { label: "P" + p.priority, data: p.shares.map(pct), borderColor: colours[i % colours.length], pointRadius: 1 };
      }),
    },
    options: {
      animation: false,
      scales: {
        x: { title: { display: true, text: "response time (minutes)" } },
        y: { beginAtZero: true, title: { display: true, text: "% of reached calls" } },
      },
    },
  });
  new window.Chart(document.getElementById("sim-districts"), {
    type: "bar",
    data: {
      labels: d.districts.map(function (x) { return x.district; }),
      datasets: [
        {
          label: "mean",
          data: d.districts.map(function (x) { return pct(x.mean); }),
          backgroundColor: d.districts.map(function (x) { return x.mean >= d.target_share ? "#6b8e23" : "#b3261e"; }),
        },
        { type: "line", label: "95% CI low", data: d.districts.map(function (x) { return pct(x.low); }), borderColor: "#12263f", showLine: false, pointStyle: "line", pointRadius: 8 },
        { type: "line", label: "95% CI high", data: d.districts.map(function (x) { return pct(x.high); }), borderColor: "#12263f", showLine: false, pointStyle: "line", pointRadius: 8 },
        { type: "line", label: "goal", data: d.districts.map(function () { return 100 * d.target_share; }), borderColor: "#7f8c8d", borderDash: [4, 4], pointRadius: 0 },
      ],
    },
    options: { animation: false, scales: { y: { min: 0, max: 100, title: { display: true, text: "% of P1 calls" } } } },
  });
  var line = function (points, key) {
    return points.map(function (p) { return { x: p.units_per_day, y: pct(p[key]) }; });
  };
  new window.Chart(document.getElementById("sim-curves"), {
    type: "line",
    data: {
      datasets: [
        { label: "P1 share, before", data: line(d.before, "p1_share"), borderColor: "#b3261e" },
        { label: "P1 share, after diversion", data: line(d.after, "p1_share"), borderColor: "#b3261e", borderDash: [6, 3] },
        { label: "proactive share, before", data: line(d.before, "proactive_share"), borderColor: "#1f5fa8" },
        { label: "proactive share, after diversion", data: line(d.after, "proactive_share"), borderColor: "#1f5fa8", borderDash: [6, 3] },
      ],
    },
    options: {
      animation: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "unit tours a day" } },
        y: { min: 0, max: 100, title: { display: true, text: "%" } },
      },
    },
  });
  document.body.dataset.chartsReady = "true";
});
