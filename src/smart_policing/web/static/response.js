// Response-times page: call-to-arrival histogram by priority, priority-1 compliance by
// district against the goal, and officer hours by shift (Chart.js, vendored).
window.addEventListener("load", function () {
  "use strict";
  var data = JSON.parse(document.getElementById("response-chart-data").textContent);
  var colours = ["#b3261e", "#d35400", "#1f5fa8", "#6b8e23", "#8e44ad", "#7f8c8d", "#2c3e50"];
  var series = Object.keys(data.histogram.series);
  new window.Chart(document.getElementById("histogram-chart"), {
    type: "bar",
    data: {
      labels: data.histogram.labels,
      datasets: series.map(function (p, i) {
        return { label: "P" + p, data: data.histogram.series[p], backgroundColor: colours[i % colours.length] };
      }),
    },
    options: {
      animation: false,
      scales: {
        x: { stacked: true, title: { display: true, text: "call-to-arrival (minutes)" } },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "calls" } },
      },
    },
  });
  new window.Chart(document.getElementById("district-chart"), {
    type: "bar",
    data: {
      labels: data.districts.map(function (d) { return d.district; }),
      datasets: [
        {
          label: "within " + data.target_min + " min",
          data: data.districts.map(function (d) { return 100 * d.share; }),
          backgroundColor: data.districts.map(function (d) {
            return d.share >= data.target_share ? "#6b8e23" : "#b3261e";
          }),
        },
        {
          type: "line",
          label: "goal " + Math.round(100 * data.target_share) + "%",
          data: data.districts.map(function () { return 100 * data.target_share; }),
          borderColor: "#12263f",
          pointRadius: 0,
        },
      ],
    },
    options: { animation: false, scales: { y: { min: 0, max: 100, title: { display: true, text: "% of P1 calls reached" } } } },
  });
  var parts = [["committed", "#b3261e"], ["proactive", "#6b8e23"], ["admin", "#7f8c8d"], ["remainder", "#1f5fa8"]];
  new window.Chart(document.getElementById("budget-chart"), {
    type: "bar",
    data: {
      labels: data.shifts.map(function (s) { return s.shift; }),
      datasets: parts.map(function (p) {
        return {
          label: p[0] === "proactive" ? "officer-initiated" : p[0],
          data: data.shifts.map(function (s) { return s[p[0]]; }),
          backgroundColor: p[1],
        };
      }),
    },
    options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "officer-hours" } } } },
  });
  document.body.dataset.chartsReady = "true";
});
