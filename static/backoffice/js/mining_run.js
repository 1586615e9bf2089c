// A queued or running mining run: poll its status, move the bar, reload when it ends.
(function () {
  var panel = document.getElementById("run-progress");
  if (!panel) { return; }
  var bar = panel.querySelector("[data-progress]");
  var text = panel.querySelector("[data-progress-text]");
  var status = panel.querySelector("[data-status]");
  function poll() {
    fetch(panel.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (run) {
        bar.value = run.progress;
        bar.textContent = run.progress + "%";
        if (status) { status.textContent = run.status_label; status.dataset.status = run.status; }
        if (run.finished) { window.location.reload(); return; }
        text.textContent = text.textContent.replace(/^\d+%/, run.progress + "%");
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
