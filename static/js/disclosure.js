// Menus that fold on small screens (the header's and the site space's): a button shows or hides
// its menu and says so (aria-expanded), by keyboard and screen reader like any button. Loaded in
// <head> without defer so that the "js" class is set before the first paint: without
// JavaScript, no class, and every menu stays open.
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  const toggles = document.querySelectorAll("button[data-disclosure]");

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", String(open));
    document.getElementById(button.getAttribute("aria-controls")).classList.toggle("is-open", open);
  }

  for (const button of toggles) {
    button.addEventListener("click", () => setOpen(button, button.getAttribute("aria-expanded") !== "true"));
  }

  // Escape closes an open menu and gives the focus back to its button.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const button of toggles) {
      const menu = document.getElementById(button.getAttribute("aria-controls"));
      if (button.getAttribute("aria-expanded") === "true" && menu.contains(document.activeElement)) {
        setOpen(button, false);
        button.focus();
      }
    }
  });

  // The skip link « Aller au menu » opens the folded header menu it leads to.
  for (const link of document.querySelectorAll('a[href="#navigation"]')) {
    link.addEventListener("click", () => {
      const button = document.querySelector('button[data-disclosure][aria-controls="header-menu"]');
      if (button) setOpen(button, true);
    });
  }
});
