// Compstat page: the monthly chart (Chart.js) and the district map (Leaflet, no tiles:
// the district polygons are the base layer, so the page works without internet).
window.addEventListener("load", function () {
  "use strict";
  var data = JSON.parse(document.getElementById("compstat-chart-data").textContent);
  var colours = ["#b3261e", "#1f5fa8", "#6b8e23", "#8e44ad", "#d35400"];
  var datasets = Object.keys(data.series).map(function (g, i) {
    return {
      label: data.labels[g] || g,
      data: data.series[g],
      borderColor: colours[i % colours.length],
      backgroundColor: colours[i % colours.length],
      tension: 0.2,
      pointRadius: 2,
    };
  });
  new window.Chart(document.getElementById("monthly-chart"), {
    type: "line",
    data: { labels: data.months, datasets: datasets },
    options: {
      animation: false,
      responsive: true,
      scales: { y: { beginAtZero: true, title: { display: true, text: "victims per month" } } },
    },
  });

  var box = document.getElementById("district-map");
  var map = window.L.map(box, { zoomSnap: 0.25, attributionControl: false });
  fetch(box.dataset.src, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (fc) {
      var values = fc.features.map(function (f) { return f.properties.counts.violent_crime || 0; });
      var max = Math.max.apply(null, values.concat([1]));
      var layer = window.L.geoJSON(fc, {
        style: function (f) {
          var v = (f.properties.counts.violent_crime || 0) / max;
          return { color: "#12263f", weight: 1, fillColor: "#b3261e", fillOpacity: 0.1 + 0.75 * v };
        },
        onEachFeature: function (f, l) {
          var c = f.properties.counts;
          l.bindTooltip(
            f.properties.name + ": " + (c.violent_crime || 0).toLocaleString() + " violent, " +
            (c.shootings || 0).toLocaleString() + " shootings, " +
            (c.homicide || 0).toLocaleString() + " homicides"
          );
        },
      }).addTo(map);
      if (fc.features.length) {
        map.fitBounds(layer.getBounds());
      } else {
        map.setView([0, 0], 1);
        document.getElementById("map-note").textContent =
          "No district polygons imported: smart-policing import boundaries FILE --kind district";
      }
      if (fc.unmapped.length) {
        document.getElementById("map-note").textContent =
          "Not on the map (no polygon of that name): " +
          fc.unmapped.map(function (u) { return (u.district || "unknown") + " " + u.incidents; }).join(", ");
      }
      box.dataset.ready = "true";
    });
});
