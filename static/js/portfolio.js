// Portfolio page: row selection, the equipment dialog from a row, « Lignes par page ».
// A static file (not inline) so the Content-Security-Policy can refuse inline scripts.
(function () {
  "use strict";

  // Row selection, kept across pages, views and searches until « Annuler la sélection »
  // (in this tab's sessionStorage, per firm): the ticked codes, or « all », every client
  // of the search it was chosen on. Codes ticked on other pages travel with the form as
  // hidden inputs, so the bar's buttons act on the whole selection.
  function selectionForm() { return document.getElementById("portfolio-selection"); }
  function storeKey(form) { return "vigie-selection:" + form.getAttribute("data-selection-key"); }
  function load(form) {
    var kept = {};
    try { kept = JSON.parse(sessionStorage.getItem(storeKey(form)) || "{}") || {}; } catch (err) { kept = {}; }
    return {codes: kept.codes || [], all: !!kept.all, query: kept.query || "", total: kept.total || 0};
  }
  function save(form, kept) { sessionStorage.setItem(storeKey(form), JSON.stringify(kept)); }
  function boxes(form) { return form.querySelectorAll("input[type=checkbox][name=codes]"); }
  function label(n) {
    return n === 1 ? "1 client sélectionné" : n + " clients sélectionnés";
  }
  function show(form) {
    var kept = load(form);
    var onPage = {};
    boxes(form).forEach(function (box) {
      box.checked = kept.all || kept.codes.indexOf(box.value) !== -1;
      onPage[box.value] = true;
    });
    var all = form.querySelector("[data-select-all-input]");
    all.value = kept.all ? "1" : "";
    if (kept.all) form.querySelector("input[name=query]").value = kept.query;
    var holder = form.querySelector("[data-selection-kept]");
    holder.replaceChildren();
    if (!kept.all) {
      kept.codes.forEach(function (code) {
        if (onPage[code]) return;
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "codes"; input.value = code;
        holder.appendChild(input);
      });
    }
    var list = Array.prototype.slice.call(boxes(form));
    var page = form.querySelector("[data-check-page]");
    if (page) page.checked = list.length > 0 && list.every(function (box) { return box.checked; });
    var count = kept.all ? kept.total : kept.codes.length;
    form.querySelector("[data-selection-bar]").hidden = count === 0;
    form.querySelector("[data-selection-label]").textContent = label(count);
  }
  function pageTicked(form, kept) {
    // The codes ticked, with this page's boxes as they are now.
    var onPage = {};
    boxes(form).forEach(function (box) { onPage[box.value] = box.checked; });
    var codes = kept.all ? [] : kept.codes.filter(function (code) { return !(code in onPage); });
    Object.keys(onPage).forEach(function (code) { if (onPage[code]) codes.push(code); });
    return codes;
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches("select[data-autosubmit]") && e.target.form) {
      e.target.form.requestSubmit();
      return;
    }
    var form = selectionForm();
    if (!form || !form.contains(e.target) || e.target.type !== "checkbox") return;
    if (e.target.matches("[data-check-page]")) {
      boxes(form).forEach(function (box) { box.checked = e.target.checked; });
    } else if (e.target.name !== "codes") {
      return;
    }
    var kept = load(form);
    // Unticking a row of « all » leaves the rows still ticked on this page.
    save(form, {codes: pageTicked(form, kept), all: false});
    show(form);
  });
  document.addEventListener("click", function (e) {
    var form = selectionForm();
    if (!form) return;
    if (e.target.matches("[data-select-all]")) {
      save(form, {
        codes: [], all: true,
        query: form.getAttribute("data-query"),
        total: parseInt(e.target.getAttribute("data-total"), 10) || 0
      });
      show(form);
    } else if (e.target.matches("[data-select-none]")) {
      save(form, {codes: [], all: false});
      show(form);
    }
  });
  function showSelection() { var form = selectionForm(); if (form) show(form); }
  document.addEventListener("DOMContentLoaded", showSelection);
  document.addEventListener("htmx:afterSettle", showSelection);
  document.addEventListener("htmx:historyRestore", showSelection);
  window.addEventListener("pageshow", showSelection);

  // Equipment dialog: « + Ajouter » in ACHAT/VENTE/CAISSE opens it for the slot it was
  // clicked in: for the ticked clients when there are any (the guide's step 1: tick the
  // clients, then « + Ajouter »), else for the row's client. A recorded change
  // (equipmentChanged) refreshes the rows in place.
  document.addEventListener("click", function (e) {
    var add = e.target.closest("#portfolio-results a.add-on-hover");
    var row = add && add.closest("tr[data-code]");
    var filters = document.getElementById("portfolio-filters");
    var form = selectionForm();
    if (!row || !filters || !form || !window.htmx) return;
    e.preventDefault();
    var slot = add.getAttribute("data-slot") || "";
    var kept = load(form);
    var url;
    if (kept.all || kept.codes.length) {
      var data = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (name === "codes" || name === "all" || name === "query") data.append(name, value);
      });
      data.append("slot", slot);
      url = form.getAttribute("data-selection-url") + "?" + data.toString();
    } else {
      url = filters.getAttribute("data-equipment-url").replace("CODE", encodeURIComponent(row.getAttribute("data-code")));
      url += (url.indexOf("?") === -1 ? "?" : "&") + "slot=" + encodeURIComponent(slot);
    }
    htmx.ajax("GET", url, {target: "#modal-body"});
  });
  document.addEventListener("equipmentChanged", function () {
    if (window.htmx && document.getElementById("portfolio-results")) {
      htmx.ajax("GET", location.pathname + location.search, {target: "#portfolio-results"});
    }
  });

  // Keyboard users keep their place: a swap of the results (a page, a sort, a view, the
  // refresh after an equipment change) replaces the element that had the focus, which
  // would drop it to the top of the page. The focus goes to its counterpart in the new
  // results: the same control of the same row, the same column's sort link, the same
  // tab; from « next » on the last page, to « previous ».
  function signature(el) {
    var row = el.closest("tr[data-code]");
    return [
      row ? row.getAttribute("data-code") : "",
      el.tagName, el.getAttribute("name") || "", el.getAttribute("data-slot") || "",
      el.getAttribute("data-testid") || "", el.getAttribute("role") || "",
      el.getAttribute("aria-label") || el.textContent.trim()
    ].join("|");
  }
  function counterpart(results, kept) {
    var found = null;
    results.querySelectorAll("a[href], button, input, select, [tabindex]").forEach(function (el) {
      if (!found && signature(el) === kept.signature) found = el;
    });
    if (!found && kept.rel) found = results.querySelector("a[rel=" + (kept.rel === "next" ? "prev" : "next") + "]");
    return found;
  }
  // The results change in place: a status message tells a screen reader what a search,
  // a filter or a page now shows (the range, or that nothing matches). The live region
  // lives outside the swapped results, so that it is there before its text changes.
  function statusRegion(results) {
    var status = document.getElementById("portfolio-status");
    if (!status) {
      status = document.createElement("p");
      status.id = "portfolio-status";
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      results.parentNode.insertBefore(status, results);
    }
    return status;
  }
  function announce(results) {
    var empty = results.querySelector("td.empty");
    var range = results.querySelector("[data-testid=page-range]");
    statusRegion(results).textContent = (empty || range || {textContent: ""}).textContent.trim();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var results = document.getElementById("portfolio-results");
    if (results) statusRegion(results);
  });

  var keptFocus = null;
  document.addEventListener("htmx:beforeSwap", function (e) {
    var results = document.getElementById("portfolio-results");
    var el = document.activeElement;
    keptFocus = null;
    if (!results || e.detail.target !== results || !el || !results.contains(el)) return;
    keptFocus = {signature: signature(el), rel: el.getAttribute("rel")};
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    var results = document.getElementById("portfolio-results");
    if (results && e.detail.target === results) announce(results);
    if (!keptFocus || e.detail.target !== results) return;
    var kept = keptFocus;
    keptFocus = null;
    var now = document.activeElement;
    if (now && now !== document.body && document.contains(now)) return;  // moved on already
    var el = counterpart(results, kept);
    if (el) el.focus();
  });
})();
