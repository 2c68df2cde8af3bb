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
  // the server answers "closeModal" on success. htmx fires the HX-Trigger events
  // before it swaps, so an empty answer (an action done) must not reopen the dialog.
  // The dialog is named by its fragment's first heading (a screen reader says which
  // dialog opened); when it closes, the focus goes back to what opened it, or to the
  // control that replaced it once the page behind is refreshed.
  var opener = null;
  function openerKey(el) { return el && (el.getAttribute("hx-get") || el.getAttribute("href")); }
  function openerNow() {
    if (!opener) return null;
    if (opener.el.isConnected) return opener.el;
    var found = null;
    document.querySelectorAll("[hx-get], a[href]").forEach(function (el) {
      if (!found && openerKey(el) === opener.key && el.textContent.trim() === opener.text) found = el;
    });
    return found;
  }
  function refocus() {
    var now = document.activeElement;
    if (now && now !== document.body && now.isConnected) return;
    var el = openerNow();
    if (el) el.focus();
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var dialog = document.getElementById("modal");
    if (e.detail.target && e.detail.target.id === "modal-body" && dialog && !dialog.open) {
      var el = document.activeElement;
      opener = el && el !== document.body ? {el: el, key: openerKey(el), text: el.textContent.trim()} : null;
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var dialog = document.getElementById("modal");
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      refocus();
      document.addEventListener("htmx:afterSettle", function once() {
        document.removeEventListener("htmx:afterSettle", once);
        refocus();
      });
    });
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "modal-body") {
      var dialog = document.getElementById("modal");
      var heading = e.detail.target.querySelector("h1, h2");
      if (heading) {
        heading.id = heading.id || "modal-title";
        dialog.setAttribute("aria-labelledby", heading.id);
      } else {
        dialog.removeAttribute("aria-labelledby");
      }
      if (!e.detail.target.children.length) {
        if (dialog.open) dialog.close();
      } else if (!dialog.open) {
        dialog.showModal();
      }
      // « J'envoie »: the collaborator's mail app opens with the text at once.
      var mailto = e.detail.target.querySelector("a[data-open-mailto]");
      if (mailto) mailto.click();
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

  // The bulk Shine form: choosing another plan brings that plan's wording of the email,
  // unless the collaborator has already edited it.
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (e.target.name !== "plan" || !form || !form.hasAttribute("data-plan-templates")) return;
    var source = document.getElementById(form.getAttribute("data-plan-templates"));
    var templates = source ? JSON.parse(source.textContent) : {};
    var before = templates[form.getAttribute("data-plan")], after = templates[e.target.value];
    if (!before || !after) return;
    ["subject", "body"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value === before[name]) field.value = after[name];
    });
    form.setAttribute("data-plan", e.target.value);
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
