// New campaign form: show the fields of the chosen kind, only the chosen app's
// templates, and whether the chosen image has a media id for that app.
(function () {
  "use strict";
  const form = document.getElementById("campaign-form");
  const app = form.querySelector("#id_partner_app");
  const template = form.querySelector("#id_template");
  const media = form.querySelector("#id_media_file");
  const readiness = document.getElementById("media-readiness");

  function kind() {
    const checked = form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "";
  }

  function showKind() {
    const direct = kind() === "direct";
    document.getElementById("row-template").hidden = direct;
    document.getElementById("row-caption").hidden = !direct;
  }

  function filterTemplates() {
    Array.from(template.options).forEach((option) => {
      if (!option.value) return;
      const mine = !app.value || option.dataset.app === app.value;
      option.hidden = !mine;
      option.disabled = !mine;
      if (!mine && option.selected) template.value = "";
    });
  }

  function showReadiness() {
    const option = media.options[media.selectedIndex];
    readiness.className = "readiness help";
    if (!option || !option.value || !app.value) { readiness.textContent = ""; return; }
    const appName = app.options[app.selectedIndex].text;
    const ready = (option.dataset.readyApps || "").split(",").includes(app.value);
    readiness.classList.add(ready ? "ok-text" : "warn-text");
    readiness.textContent = ready
      ? "✓ This image has a media id for " + appName + "."
      : "⚠ No media id for " + appName + " yet: it is mirrored when you start (or mirror it on the media page now).";
  }

  form.querySelectorAll("input[name=kind]").forEach((radio) => radio.addEventListener("change", showKind));
  app.addEventListener("change", () => { filterTemplates(); showReadiness(); });
  media.addEventListener("change", showReadiness);
  showKind();
  filterTemplates();
  showReadiness();
})();
