/* The map of the public finder (/trouver/), an extra on top of the list of places.
 *
 * Progressive enhancement: the page works without JavaScript (the list is the product). This
 * script reads the places from the JSON of `finder-map-data` (json_script: id, name, commune,
 * postcode, lat, lon, url, in_page) and the tile server from the same data, then shows the
 * section `finder-map-section`, hidden until then. A place without coordinates is not on the map.
 * Keyboard: each marker is a button reached with Tab (Leaflet's default); Enter opens its bubble,
 * whose link takes the focus; Escape closes it and gives the focus back to the marker.
 */
(function () {
  "use strict";

  function paragraph(className) {
    var element = document.createElement("p");
    element.className = className;
    return element;
  }

  function link(href, text) {
    var element = document.createElement("a");
    element.href = href;
    element.textContent = text;
    return element;
  }

  // Built from DOM nodes with textContent: names typed by the sites are never read as HTML.
  function popupContent(point) {
    var box = document.createElement("div");
    box.className = "finder-map-popup";
    var title = paragraph("finder-map-popup-title");
    title.appendChild(link(point.url, point.name));
    box.appendChild(title);
    var place = paragraph("finder-map-popup-place");
    place.textContent = (point.postcode ? point.postcode + " " : "") + point.commune;
    box.appendChild(place);
    if (point.in_page) {
      var inList = paragraph("finder-map-popup-list");
      inList.appendChild(link("#lieu-" + point.id, "Voir ce lieu dans la liste"));
      box.appendChild(inList);
    }
    return box;
  }

  function hasCoordinates(point) {
    return typeof point.lat === "number" && typeof point.lon === "number" && isFinite(point.lat) && isFinite(point.lon);
  }

  function addMarker(map, point) {
    var label = point.name + ", " + point.commune;
    var marker = L.marker([point.lat, point.lon], { title: label, alt: label, riseOnHover: true });
    marker.bindPopup(popupContent(point));
    marker.on("popupopen", function (event) {
      var element = event.popup.getElement();
      if (!element) {
        return;
      }
      var close = element.querySelector(".leaflet-popup-close-button");
      if (close) {
        close.setAttribute("aria-label", "Fermer la bulle");
        close.setAttribute("title", "Fermer");
      }
      // Leaflet closes a bubble on Escape only while the map itself has the focus.
      if (!element.hasAttribute("data-escape")) {
        element.setAttribute("data-escape", "");
        element.addEventListener("keydown", function (keyEvent) {
          if (keyEvent.key === "Escape") {
            keyEvent.preventDefault();
            marker.closePopup();
          }
        });
      }
      var first = element.querySelector(".finder-map-popup a");
      if (first) {
        first.focus();
      }
    });
    marker.on("popupclose", function (event) {
      var element = event.popup.getElement();
      var active = document.activeElement;
      var icon = marker.getElement();
      if (icon && (!active || active === document.body || (element && element.contains(active)))) {
        icon.focus();
      }
    });
    marker.addTo(map);
    return [point.lat, point.lon];
  }

  function start() {
    var section = document.getElementById("finder-map-section");
    var source = document.getElementById("finder-map-data");
    if (!section || !source || typeof window.L === "undefined") {
      return;
    }
    var data;
    try {
      data = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    var points = (data.points || []).filter(hasCoordinates);
    if (!points.length || !data.tiles || !data.tiles.url) {
      return;
    }
    section.hidden = false;
    // No zoom on the mouse wheel: scrolling the page must not get stuck on the map.
    var map = L.map("finder-map", { zoomControl: false, scrollWheelZoom: false });
    L.control.zoom({ zoomInTitle: "Zoomer", zoomOutTitle: "Dézoomer" }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" hreflang="en">Leaflet</a>');
    L.tileLayer(data.tiles.url, {
      attribution: data.tiles.attribution || "",
      maxZoom: 19,
      // Tile servers (OpenStreetMap's among them) ask for the page's origin.
      referrerPolicy: "strict-origin-when-cross-origin",
    }).addTo(map);
    var bounds = points.map(function (point) {
      return addMarker(map, point);
    });
    map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 });
    section.setAttribute("data-markers", String(points.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
