// Staffing page: service level, P(wait) and occupancy against the number of servers.
window.addEventListener("load", function () {
  "use strict";
  var d = JSON.parse(document.getElementById("staffing-chart-data").textContent);
  var pct = function (v) { return v === null ? null : 100 * v; };
  var sets = [
    { label: "P(wait)", data: d.p_wait.map(pct), borderColor: "#b3261e" },
    { label: "occupancy", data: d.occupancy.map(pct), borderColor: "#7f8c8d" },
  ];
  if (d.service_level.some(function (v) { return v !== null; })) {
    sets.unshift({ label: "service level", data: d.service_level.map(pct), borderColor: "#1f5fa8" });
  }
  if (d.target_sl !== null) {
    sets.push({
      label: "goal", data: d.servers.map(function () { return 100 * d.target_sl; }),
      borderColor: "#12263f", borderDash: [4, 4], pointRadius: 0,
    });
  }
  new window.Chart(document.getElementById("staffing-chart"), {
    type: "line",
    data: { labels: d.servers, datasets: sets },
    options: {
      animation: false,
      scales: {
        x: { title: { display: true, text: "servers" } },
        y: { min: 0, max: 100, title: { display: true, text: "%" } },
      },
    },
  });
  document.body.dataset.chartsReady = "true";
});
