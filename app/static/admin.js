// A phone: an applied filter leaves the panel shut (its summary says 已筛选), so the
// filtered opinions, not the form, fill the first screen.
(function () {
  "use strict";
  var filters = document.getElementById("filters");
  if (filters && window.matchMedia("(max-width: 40rem)").matches) { filters.open = false; }
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
