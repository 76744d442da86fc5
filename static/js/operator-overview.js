// The operator's overview (/operateur/): draws its two charts from the figures the page passes in
// a JSON script (the CSP forbids inline scripts). Each chart repeats a table that follows it:
// without JavaScript, or with a screen reader, the tables say everything.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("overview-charts");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const data = JSON.parse(source.textContent);
  const common = { responsive: true, animation: false, plugins: { legend: { position: "bottom" } } };

  new Chart(document.getElementById("overview-passes-chart"), {
    type: "bar",
    data: {
      labels: data.passes.labels,
      datasets: [{ label: "Pass", data: data.passes.values, backgroundColor: "#1f4e9e" }],
    },
    options: { ...common, plugins: { legend: { display: false } } },
  });

  // Two series told apart by their pattern of fill as well as their colour (border only vs filled).
  new Chart(document.getElementById("overview-months-chart"), {
    type: "bar",
    data: {
      labels: data.months.labels,
      datasets: [
        { label: "Carnets remis", data: data.months.hand_overs, backgroundColor: "#ffffff", borderColor: "#1f4e9e", borderWidth: 2 },
        { label: "Encaissements", data: data.months.redemptions, backgroundColor: "#b34700" },
      ],
    },
    options: common,
  });
});
