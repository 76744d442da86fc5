/* Communes by name in the forms that take a commune (hand-over, programme, place).
 *
 * Progressive enhancement: an <input data-commune-search="/communes/chercher" list="…"> already
 * works without JavaScript (its datalist lists the programme's communes, or nothing). As the person
 * types two letters or more, this script asks the server for the communes whose name contains them,
 * accents aside (« saint barth » finds Saint-Barthélemy), and fills the datalist with their codes,
 * each labelled with its name: choosing « Bordeaux (33) » puts 33063 in the field.
 */
(function () {
  "use strict";

  function fill(datalist, communes) {
    while (datalist.firstChild) {
      datalist.removeChild(datalist.firstChild);
    }
    communes.forEach(function (commune) {
      var option = document.createElement("option");
      option.value = commune.code;
      option.label = commune.libelle + " — " + commune.code;
      option.textContent = commune.libelle;
      datalist.appendChild(option);
    });
  }

  function watch(input) {
    var datalist = document.getElementById(input.getAttribute("list"));
    if (!datalist) {
      return;
    }
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      // Only the last word after a comma is searched: the programme form takes several codes.
      var query = input.value.split(",").pop().trim();
      if (query.length < 2 || query === asked || /^\d{5}$/.test(query)) {
        return;
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        asked = query;
        fetch(input.dataset.communeSearch + "?q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" },
        })
          .then(function (response) {
            return response.ok ? response.json() : { communes: [] };
          })
          .then(function (data) {
            if (asked === query) {
              fill(datalist, data.communes || []);
            }
          })
          .catch(function () {
            /* The field still takes a code typed by hand. */
          });
      }, 200);
    });
  }

  document.querySelectorAll("input[data-commune-search]").forEach(watch);
})();
