// Bar widths come as data-width="<percent>" and are set here: the CSP allows no
// inline style attributes, and setting element.style from a script file is fine.
(function () {
  "use strict";
  document.querySelectorAll("[data-width]").forEach((bar) => {
    const percent = Math.max(0, Math.min(100, Number(bar.dataset.width) || 0));
    bar.style.width = percent + "%";
  });
})();
