/* The charts of a programme's report (/sponsor/programmes/<id>/), drawn with Chart.js.
 *
 * Progressive enhancement: every figure is in the table that follows its chart; without
 * JavaScript the charts stay hidden. The data come from the JSON of `report-charts-data`
 * (json_script: id, title, type, unit, labels, values); a value the table shows « < 5 » or
 * « masqué » arrives as null and is drawn as a gap, never as a number. Each canvas has an
 * accessible name (aria-label) and points to the sentence naming its table (aria-describedby).
 */
(function () {
  "use strict";

  var COLOUR = "#000091";

  function draw(chart) {
    var canvas = document.getElementById(chart.id);
    if (!canvas) {
      return;
    }
    var figure = document.getElementById(chart.id + "-figure");
    if (figure) {
      figure.hidden = false;
    }
    new window.Chart(canvas, {
      type: chart.type,
      data: {
        labels: chart.labels,
        datasets: [
          {
            label: chart.unit,
            data: chart.values,
            backgroundColor: COLOUR,
            borderColor: COLOUR,
            pointRadius: 3,
            spanGaps: false
          }
        ]
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, title: { display: false } },
        scales: { y: { beginAtZero: true, title: { display: true, text: chart.unit } } }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  function start() {
    var source = document.getElementById("report-charts-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    JSON.parse(source.textContent).forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
