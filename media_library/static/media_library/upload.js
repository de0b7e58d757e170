// Drag-and-drop uploads, one request per file so each gets its own progress bar.
(function () {
  "use strict";
  // Two boxes: data-kind="image" takes images only (the server refuses anything
  // else, saying what it is); the other box takes any allowed file.
  const form = document.getElementById("upload-form");
  const list = document.getElementById("uploads");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let pending = 0;

  function row(file) {
    const li = document.createElement("li");
    li.className = "upload";
    const name = document.createElement("span");
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    const result = document.createElement("span");
    result.className = "result";
    li.append(name, bar, result);
    list.append(li);
    return { li, bar, result };
  }

  function finish(ui, ok, cls, text) {
    ui.bar.value = 100;
    ui.result.className = "result " + cls;
    ui.result.textContent = text;
    ui.li.dataset.outcome = ok ? "accepted" : "rejected";
    pending -= 1;
    if (pending === 0) {
      document.body.dataset.uploadsDone = "true";
      if (list.querySelector("[data-outcome=accepted]")) {
        const link = document.createElement("a");
        link.href = window.location.pathname + window.location.search;
        link.textContent = "Show the new files in the library ↻";
        link.id = "reload-library";
        list.append(link);
      }
    }
  }

  // A 503 "busy" means every image decode slot of the server was taken: nothing
  // is wrong with the file, so it is sent again (a few times) after Retry-After.
  const BUSY_RETRIES = 3;

  function send(file, kind, ui = row(file), attempt = 1) {
    const data = new FormData();
    data.append("file", file);
    if (kind) data.append("kind", kind);
    form.querySelectorAll(".mirror-on-upload input:checked").forEach((box) => data.append(box.name, box.value));
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) ui.bar.value = (100 * e.loaded) / e.total; };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = { error: "The server answered " + xhr.status + "." }; }
      if (xhr.status === 503 && body.code === "busy" && attempt <= BUSY_RETRIES) {
        const wait = parseInt(xhr.getResponseHeader("Retry-After") || "5", 10);
        ui.bar.value = 0;
        ui.result.className = "result dup";
        ui.result.textContent = "The server is busy; sending it again in " + wait + " s…";
        setTimeout(() => send(file, kind, ui, attempt + 1), wait * 1000);
      } else if (xhr.status === 201) finish(ui, true, "ok", "Added." + (body.note ? " " + body.note : ""));
      else if (xhr.status === 200) finish(ui, true, "dup", body.note || "Already in the library.");
      else finish(ui, false, "err", "Rejected: " + (body.error || "the server answered " + xhr.status + "."));
    };
    xhr.onerror = () => finish(ui, false, "err", "The upload did not reach the server; check the connection and try again.");
    xhr.onabort = () => finish(ui, false, "err", "The upload was stopped before it finished; try again.");
    // A request that hangs must not leave the batch waiting for ever.
    xhr.timeout = 15 * 60 * 1000;
    xhr.ontimeout = () => finish(ui, false, "err", "The server did not answer within 15 minutes; try again.");
    xhr.send(data);
  }

  function sendAll(files, kind) {
    delete document.body.dataset.uploadsDone;
    const old = document.getElementById("reload-library");
    if (old) old.remove();
    pending += files.length;
    Array.from(files).forEach((file) => send(file, kind));
  }

  form.querySelectorAll(".dropzone").forEach((zone) => {
    const input = document.getElementById(zone.dataset.input);
    const kind = zone.dataset.kind;
    zone.addEventListener("click", (e) => { if (e.target !== input) input.click(); });
    zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
    input.addEventListener("change", () => { sendAll(input.files, kind); input.value = ""; });
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("over"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("over"); }));
    zone.addEventListener("drop", (e) => sendAll(e.dataTransfer.files, kind));
  });
  // Files picked before this script ran would be missed: say when it listens.
  document.body.dataset.uploaderReady = "true";
})();
