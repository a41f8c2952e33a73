// A phone: the counts by check, status and unit (rows of cards; a bureau's units alone fill
// screens) and an applied filter's form start shut, their summaries showing, so the
// opinions fill the first screen. Without this script they stay open.
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 40rem)").matches) { return; }
  ["overview", "filters"].forEach(function (id) {
    var panel = document.getElementById(id);
    if (panel) { panel.open = false; }
  });
})();
// "Select all" for the queue's bulk form; the page works without it.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) { return; }
  var boxes = document.querySelectorAll("#queue input[name=ids]");
  if (!boxes.length) { return; }
  all.closest("label").hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    });
  });
})();
