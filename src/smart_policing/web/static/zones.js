// Zones page: the zone set on a map (Leaflet, no tiles: the zone polygons are the only
// layer, so the page works without internet), each zone shaded by its minutes of
// proactive activity in the period or in the week chosen.
window.addEventListener("load", function () {
  "use strict";
  var box = document.getElementById("zones-map");
  if (!box) {
    return;
  }
  var weekSelect = document.getElementById("zones-week");
  var map = window.L.map(box, { zoomSnap: 0.25, attributionControl: false });

  function dose(f, week) {
    if (!week) {
      return { activities: f.properties.activities, minutes: f.properties.minutes };
    }
    return f.properties.weeks[week] || { activities: 0, minutes: 0 };
  }

  fetch(box.dataset.src, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (fc) {
      var layer = window.L.geoJSON(fc, {
        onEachFeature: function (f, l) {
          l.bindTooltip(function () {
            var d = dose(f, weekSelect.value);
            var p = f.properties;
            return p.zone_key + (p.district ? " (" + p.district + ")" : "") + ": " +
              d.activities + " activities, " + Math.round(d.minutes) + " minutes" +
              (weekSelect.value ? " in " + weekSelect.value : "");
          });
        },
      }).addTo(map);

      function shade() {
        var week = weekSelect.value;
        var max = Math.max.apply(null, fc.features.map(function (f) {
          return dose(f, week).minutes;
        }).concat([1]));
        layer.setStyle(function (f) {
          var v = dose(f, week).minutes / max;
          return { color: "#12263f", weight: 1, fillColor: "#1f5fa8", fillOpacity: 0.08 + 0.8 * v };
        });
      }

      shade();
      weekSelect.addEventListener("change", shade);
      if (fc.features.length) {
        map.fitBounds(layer.getBounds());
      } else {
        map.setView([0, 0], 1);
      }
      box.dataset.ready = "true";
    });
});
