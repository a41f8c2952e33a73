// Progressive enhancement only: the form works without this file.
(function () {
  "use strict";
  var form = document.getElementById("intake");
  if (!form) { return; }
  var text = document.getElementById("text");
  var counter = document.getElementById("counter");
  var anon = document.getElementById("anonymous");
  var named = document.getElementById("named");
  function count() { counter.textContent = String(text.value.length); }
  function toggle() { named.hidden = anon.checked; }
  text.addEventListener("input", count);
  anon.addEventListener("change", toggle);
  count();
  toggle();
  // A second tap while the first is on its way would only replay the same key; stop it anyway.
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });
})();
