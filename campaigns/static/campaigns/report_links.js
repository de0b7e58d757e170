// The campaign page's recipient table: each phone links to that recipient's
// timeline (the URL comes from this script tag, with 0 standing for the id).
(function () {
  "use strict";
  const script = document.currentScript;
  const template = script && script.dataset.recipientUrl;
  if (!template) return;
  document.querySelectorAll("#recipients-table tr[data-recipient]").forEach((row) => {
    const cell = row.querySelector("td");
    if (!cell || cell.querySelector("a")) return;
    const link = document.createElement("a");
    link.href = template.replace(/\/0\/$/, "/" + row.dataset.recipient + "/");
    link.className = "recipient-link";
    link.textContent = cell.textContent;
    cell.textContent = "";
    cell.appendChild(link);
  });
})();
