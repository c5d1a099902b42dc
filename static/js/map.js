/* The schools map: each school a dot coloured by delivery progress. With no tile server
 * (a closed network) the dots are drawn on a plain background. */
(function () {
  "use strict";
  var box = document.getElementById("school-map");
  if (!box || !window.L) return;
  var map = window.L.map(box, { preferCanvas: true, zoomSnap: 0.5, zoomControl: false });
  // The zoom buttons' titles in the page's language (Leaflet's own are English).
  window.L.control.zoom({ zoomInTitle: box.dataset.zoomIn, zoomOutTitle: box.dataset.zoomOut }).addTo(map);
  var tiles = box.dataset.tiles;
  if (tiles) {
    window.L.tileLayer(tiles, { maxZoom: 18, attribution: "© OpenStreetMap" }).addTo(map);
  } else {
    box.classList.add("no-tiles");
    document.getElementById("map-note").textContent = box.dataset.noTiles;
  }
  function colour(point) {
    if (point.percent === null) return "#9e9e9e";
    if (point.percent >= 100) return "#2e7d32";
    if (point.percent > 0) return "#f9a825";
    return "#c62828";
  }
  fetch(box.dataset.points, { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (data) {
      var bounds = [];
      data.schools.forEach(function (point) {
        var marker = window.L.circleMarker([point.lat, point.lon], {
          radius: 7, color: "#263238", weight: 1, fillColor: colour(point), fillOpacity: 0.9
        }).addTo(map);
        // A school's page for who may open it; its name only on a donor's map.
        var link = document.createElement(box.dataset.schoolUrl ? "a" : "strong");
        if (box.dataset.schoolUrl) link.href = box.dataset.schoolUrl.replace(/0$/, String(point.id));
        var arabic = document.documentElement.lang === "ar" && point.name_ar;
        link.textContent = point.code + " · " + (arabic ? point.name_ar : point.name);
        var body = document.createElement("div");
        body.appendChild(link);
        body.appendChild(document.createElement("br"));
        body.appendChild(document.createTextNode(point.allocated === null
          ? point.delivered + " " + box.dataset.delivered
          : point.delivered + " / " + point.allocated + " " + box.dataset.delivered));
        marker.bindPopup(body);
        bounds.push([point.lat, point.lon]);
      });
      box.dataset.count = String(data.schools.length);
      if (bounds.length) map.fitBounds(bounds, { padding: [20, 20] });
      else map.setView([31.8, -7.1], 5);
    });
})();
