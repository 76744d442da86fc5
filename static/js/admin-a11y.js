// Accessibility of the operator's console: names for the controls Django's admin and its widgets
// (select2, filter_horizontal, split date and time, tabular inlines) leave without one.
(function () {
  "use strict";

  const text = (el) => (el ? el.textContent.replace(/\s+/g, " ").replace(/[:*]\s*$/, "").trim() : "");

  const fieldLabel = (id) => text(document.querySelector(`label[for="${CSS.escape(id)}"]`));

  function nameControls(root) {
    // Date and time of a split field: each part says which field and which part it is.
    root.querySelectorAll("p.datetime input[id$='_0'], p.datetime input[id$='_1']").forEach((input) => {
      if (input.hasAttribute("aria-label")) return;
      const base = input.id.slice(0, -2);
      const row = input.closest("fieldset, .form-row, .fieldBox");
      const label = fieldLabel(base + "_0") || fieldLabel(base)
        || text(row?.querySelector("legend, label, .fieldset-heading, h2")) || base.replace(/^id_/, "");
      input.setAttribute("aria-label", `${label} — ${input.id.endsWith("_0") ? "date" : "heure"}`);
    });

    // Tabular inlines: a cell's control is named by its column heading and its row.
    root.querySelectorAll(".tabular table").forEach((table) => {
      const headings = [...table.querySelectorAll("thead th")].map(text);
      table.querySelectorAll("tbody tr").forEach((row, rowIndex) => {
        [...row.cells].forEach((cell, column) => {
          cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach((control) => {
            if (control.hasAttribute("aria-label") || control.labels?.length) return;
            const heading = headings[column] || (control.name.endsWith("-DELETE") ? "Supprimer" : control.name);
            control.setAttribute("aria-label", `${heading} (ligne ${rowIndex + 1})`);
          });
        });
      });
    });

    // select2 (autocomplete fields): the combobox and the text box showing the choice take the
    // name of the field's label (empty, the text box would have none).
    root.querySelectorAll(".select2-selection[role=combobox]").forEach((combobox) => {
      const select = combobox.closest(".select2")?.previousElementSibling;
      const label = select && select.id ? fieldLabel(select.id) : "";
      if (!label) return;
      if (!combobox.hasAttribute("aria-label")) combobox.setAttribute("aria-label", label);
      combobox.querySelectorAll("[role=textbox]:not([aria-label])").forEach((box) => box.setAttribute("aria-label", label));
    });

    // filter_horizontal: the magnifier icon with a name is an image, not a bare span.
    root.querySelectorAll(".help-tooltip[aria-label], .search-label-icon[aria-label]").forEach((icon) => {
      if (!icon.hasAttribute("role")) icon.setAttribute("role", "img");
    });

    // "Select all" boxes without a label (import-export's field lists).
    root.querySelectorAll("input.select-toggle:not([aria-label])").forEach((box) => {
      box.setAttribute("aria-label", "Tout cocher ou tout décocher");
    });

    // A table of inline rows scrolls on a narrow screen: reachable by keyboard to be scrolled
    // (2.1.1), and named after its heading.
    root.querySelectorAll(".inline-group").forEach((region) => {
      if (region.hasAttribute("tabindex") || !region.querySelector(".tabular table")) return;
      region.setAttribute("tabindex", "0");
      region.setAttribute("role", "region");
      const heading = text(region.querySelector("h2, legend"));
      if (heading) region.setAttribute("aria-label", heading);
    });
  }

  function run() {
    nameControls(document);
    // Rows added by "Ajouter un autre…" and widgets made later get their names too.
    new MutationObserver(() => nameControls(document)).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
