// Portfolio page: row selection, the equipment dialog from a row, « Lignes par page ».
// A static file (not inline) so the Content-Security-Policy can refuse inline scripts.
(function () {
  "use strict";

  // Row selection: counts the ticked rows and offers every row of the search.
  function bar() { return document.querySelector("[data-selection-bar]"); }
  function refresh() {
    var form = document.getElementById("portfolio-selection");
    if (!form) return;
    var all = form.querySelector("[data-select-all-input]").value === "1";
    var ticked = form.querySelectorAll("input[name=codes]:checked").length;
    var total = form.querySelector("[data-select-all]").getAttribute("data-total");
    bar().hidden = !all && ticked === 0;
    form.querySelector("[data-selection-count]").textContent = all ? total : ticked;
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]") && e.target.form) {
      e.target.form.requestSubmit();
      return;
    }
    var form = document.getElementById("portfolio-selection");
    if (!form || !form.contains(e.target)) return;
    if (e.target.matches("[data-check-page]")) {
      form.querySelectorAll("input[name=codes]").forEach(function (box) { box.checked = e.target.checked; });
    }
    if (!e.target.checked) form.querySelector("[data-select-all-input]").value = "";
    refresh();
  });
  document.addEventListener("click", function (e) {
    var form = document.getElementById("portfolio-selection");
    if (!form) return;
    if (e.target.matches("[data-select-all]")) {
      form.querySelector("[data-select-all-input]").value = "1";
      form.querySelectorAll("input[name=codes], [data-check-page]").forEach(function (box) { box.checked = true; });
      refresh();
    } else if (e.target.matches("[data-select-none]")) {
      form.querySelector("[data-select-all-input]").value = "";
      form.querySelectorAll("input[type=checkbox]").forEach(function (box) { box.checked = false; });
      refresh();
    }
  });

  // Equipment dialog: « + Ajouter » in ACHAT/VENTE/CAISSE opens it for the row's client;
  // a recorded change (equipmentChanged) refreshes the rows in place.
  document.addEventListener("click", function (e) {
    var add = e.target.closest("#portfolio-results a.add-on-hover");
    var row = add && add.closest("tr[data-code]");
    var filters = document.getElementById("portfolio-filters");
    if (!row || !filters || !window.htmx) return;
    e.preventDefault();
    var url = filters.getAttribute("data-equipment-url").replace("CODE", encodeURIComponent(row.getAttribute("data-code")));
    htmx.ajax("GET", url, {target: "#modal-body"});
  });
  document.addEventListener("equipmentChanged", function () {
    if (window.htmx && document.getElementById("portfolio-results")) {
      htmx.ajax("GET", location.pathname + location.search, {target: "#portfolio-results"});
    }
  });
})();
