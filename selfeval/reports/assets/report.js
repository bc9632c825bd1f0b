/* Sorting (tablesort, vendored in assets/tablesort) and a filter box for every table.data;
   runs offline, nothing is fetched. */
(function () {
  "use strict";
  function setup(block) {
    var table = block.querySelector("table.data");
    if (!table) { return; }
    if (window.Tablesort) { new window.Tablesort(table); }
    var input = block.querySelector("input.filter");
    if (!input) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var counter = block.querySelector(".count");
    var unit = counter ? counter.textContent.replace(/^[\d,]+\s*/, "") : "";
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var keep = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.classList.toggle("hidden", !keep);
        if (keep) { shown += 1; }
      });
      if (counter) { counter.textContent = (words.length ? shown + " / " + rows.length : rows.length) + " " + unit; }
    });
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-block"), setup);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
