// Small enhancements; every page works without them.
(function () {
  "use strict";

  // A cover that fails to load (offline, moved) leaves the drawn placeholder visible.
  function hideBrokenCover(img) { img.remove(); }
  document.querySelectorAll("img[data-cover]").forEach(function (img) {
    if (img.complete && img.naturalWidth === 0) hideBrokenCover(img);
    else img.addEventListener("error", function () { hideBrokenCover(img); });
  });

  // Rating selects save as soon as they change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });

  // Destructive forms ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Until a version is live, the first training's progress (home page, For you) follows the public status; once
  // a version is live the page reloads, and the recommendations, the map and "books like this" take its place.
  var training = document.querySelector("[data-training-progress]");
  if (training) {
    var bar = training.querySelector("progress"), state = training.querySelector("[data-training-state]");
    var show = function (run) {
      if (!run) { state.textContent = "Waiting for the first training to start."; bar.value = 0; return; }
      var stage = run.stage || "waiting for a worker", percent = document.createElement("strong");
      percent.textContent = run.percent + "%";
      bar.value = run.percent;
      state.replaceChildren(percent, " · " + stage.charAt(0).toUpperCase() + stage.slice(1) +
        (run.epochs ? " · epoch " + run.epoch + " of " + run.epochs : ""));
    };
    var poll = function () {
      fetch(training.dataset.trainingProgress, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && data.live) { window.location.reload(); return; }
          if (data) show(data.run);
          setTimeout(poll, 2000);
        }, function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 2000);
  }

  // Share links: select on focus, copy on click.
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.dataset.copy);
      if (!input) return;
      var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy link"; }, 2000); };
      if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
      else { input.select(); document.execCommand("copy"); done(); }
    });
  });
})();
