// One campaign's page: live progress while it runs, the retry preview, and a
// confirmation before cancelling.
(function () {
  "use strict";
  const root = document.getElementById("content-main");
  const field = (name) => root.querySelector("[data-field=" + name + "]");

  function duration(seconds) {
    if (seconds === null || seconds === undefined || seconds === "") return "—";
    const s = Math.max(0, Math.round(Number(seconds)));
    if (s < 60) return "about " + s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return "about " + m + " min" + (s % 60 ? " " + (s % 60) + " s" : "");
    return "about " + Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function showProgress(data) {
    field("percent").textContent = data.percent + "%";
    field("settled").textContent = data.settled;
    field("total").textContent = data.total;
    field("bar").style.width = data.percent + "%";
    field("bar").parentElement.setAttribute("aria-valuenow", data.percent);
    field("rate").textContent = Number(data.rate_per_minute).toFixed(1);
    field("eta").textContent = duration(data.eta_seconds);
    const reason = field("state_reason");
    reason.textContent = data.state_reason;
    reason.hidden = !data.state_reason;
    Object.entries(data.counts).forEach(([status, count]) => {
      const item = root.querySelector(".counts [data-status=" + status + "]");
      if (!item) return;
      item.querySelector(".n").textContent = count;
      item.classList.toggle("zero", !count);
    });
  }

  function poll(every) {
    let timer = null;
    async function tick() {
      try {
        const response = await fetch(root.dataset.progressUrl, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error("HTTP " + response.status);
        const data = await response.json();
        showProgress(data);
        if (data.state !== root.dataset.state) {
          // The state changed (paused by a worker, completed…): the buttons and
          // tables change with it, so load the page again.
          window.clearInterval(timer);
          window.location.reload();
        }
        field("live").textContent = " · refreshing every 2 s";
      } catch (err) {
        field("live").textContent = " · could not refresh (" + err.message + "); trying again";
      }
    }
    timer = window.setInterval(tick, every);
  }

  function retryPreview(form) {
    const text = document.getElementById("retry-preview");
    const button = form.querySelector("button[type=submit]");
    let asked = 0;
    form.addEventListener("change", async () => {
      const codes = Array.from(form.querySelectorAll("input[name=code]:checked")).map((box) => box.value);
      const include = form.querySelector("input[name=include_permanent]:checked");
      const mine = ++asked;
      if (!codes.length) {
        text.textContent = "Tick the errors whose recipients should be sent again.";
        button.disabled = true;
        return;
      }
      const pairs = codes.map((code) => ["code", code]);
      if (include) pairs.push(["include_permanent", "1"]);
      const query = new URLSearchParams(pairs);
      try {
        const response = await fetch(form.dataset.previewUrl + "?" + query, { headers: { Accept: "application/json" } });
        const data = await response.json();
        if (mine !== asked) return; // a newer tick answered first
        text.textContent = data.text;
        button.disabled = !data.count;
      } catch (err) {
        text.textContent = "Could not count them (" + err.message + "); you can still retry.";
        button.disabled = false;
      }
    });
  }

  root.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  const eta = field("eta");
  if (eta) eta.textContent = duration(eta.dataset.seconds);
  const retry = document.getElementById("retry-form");
  if (retry) retryPreview(retry);
  if (root.dataset.poll) poll(Number(root.dataset.poll));
})();
