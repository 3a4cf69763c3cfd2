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
