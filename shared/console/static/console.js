// Console behaviour beyond htmx's attributes: say what an action did (or why it was refused) to screen readers
// and in the page, since htmx leaves a failed request's answer unshown.
(function () {
  "use strict";
  function announce(text) {
    var region = document.getElementById("announce");
    if (region) { region.textContent = text; }
  }
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr.responseText || "";
    try { text = JSON.parse(text).error || text; } catch (e) { /* an HTML or text answer */ }
    if (/<html/i.test(text)) {
      var doc = new DOMParser().parseFromString(text, "text/html");
      var node = doc.querySelector("[data-testid=error]");
      text = node ? node.textContent : "the request failed (" + xhr.status + ")";
    }
    var box = document.getElementById("flash");
    if (box) { box.className = "message"; box.textContent = text; box.hidden = false; }
    announce(text);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var flash = event.detail.target.querySelector && event.detail.target.querySelector("[data-announce]");
    if (flash) { announce(flash.textContent); }
  });
})();
