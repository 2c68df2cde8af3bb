// Vigie: the little JavaScript the pages need (htmx does the rest).
(function () {
  "use strict";

  function toast(text, kind) {
    var box = document.getElementById("toasts");
    if (!box || !text) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (kind || "success");
    el.setAttribute("role", "status");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5000);
  }
  window.vigieToast = toast;

  // Server-sent toasts: HX-Trigger: {"showMessage": {"text": "...", "kind": "success"}}
  document.addEventListener("showMessage", function (e) {
    var d = e.detail || {};
    toast(d.text || d.value, d.kind);
  });

  // Modal pattern: a fragment swapped into #modal-body opens the dialog;
  // the server answers "closeModal" on success.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "modal-body") {
      var dialog = document.getElementById("modal");
      if (!dialog.open) dialog.showModal();
    }
  });
  document.addEventListener("closeModal", function () {
    var dialog = document.getElementById("modal");
    if (dialog && dialog.open) dialog.close();
  });
  document.addEventListener("click", function (e) {
    var closer = e.target.closest("[data-close-modal]");
    if (closer) { e.preventDefault(); document.getElementById("modal").close(); }
    var copier = e.target.closest("[data-copy]");
    if (copier && navigator.clipboard) {
      e.preventDefault();
      navigator.clipboard.writeText(copier.getAttribute("data-copy")).then(function () { toast("Copié"); });
    }
  });

  // <form data-confirm="Question ?">: asks before submitting (no inline handlers: CSP).
  document.addEventListener("submit", function (e) {
    var question = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  }, true);

  // Page-load toasts fade out too.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 6000);
    });
  });
})();
