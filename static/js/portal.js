// Small behaviours for the portal; loaded as a file so the CSP can forbid inline scripts.
document.addEventListener("click", function (event) {
  const el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
});
document.addEventListener("change", function (event) {
  const el = event.target.closest("[data-autosubmit]");
  if (el && el.form) {
    el.form.requestSubmit();
  }
});
// Formset rows (ticket lines): add a row from the <template id="PREFIX-empty">, remove a row.
// Removed rows simply send no data; the server skips blank lines.
document.addEventListener("click", function (event) {
  const add = event.target.closest("[data-formset-add]");
  if (add) {
    const prefix = add.getAttribute("data-formset-add");
    const template = document.getElementById(prefix + "-empty");
    const rows = document.getElementById(prefix + "-rows");
    const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    if (template && rows && total) {
      const index = parseInt(total.value, 10) || 0;
      rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
      total.value = String(index + 1);
      const first = rows.lastElementChild && rows.lastElementChild.querySelector("select, input");
      if (first) {
        first.focus();
      }
    }
    return;
  }
  const remove = event.target.closest("[data-formset-remove]");
  if (remove) {
    const row = remove.closest("[data-formset-row]");
    const form = remove.closest("form");
    if (row) {
      row.remove();
    }
    if (form) {
      form.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
});

// Long actions: a POST form (rendering or signing a PDF takes seconds) shows a spinner on the
// pressed button and disables its buttons until the next page arrives, so a second click
// cannot submit twice. HTMX forms and forms opening another window are left alone; a form
// can opt out with data-no-busy. The label comes from the page (translated), e.g.
// data-long-action="正在生成统计表 PDF，请稍候…" on the form, else the body's data-busy-label.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || (form.getAttribute("method") || "get").toLowerCase() !== "post") {
    return;
  }
  if (form.hasAttribute("data-no-busy") || form.hasAttribute("target") || form.hasAttribute("hx-post")) {
    return;
  }
  if (form.dataset.busy === "1") {
    event.preventDefault();
    return;
  }
  if (event.defaultPrevented) {
    return;
  }
  form.dataset.busy = "1";
  form.setAttribute("aria-busy", "true");
  const submitter = event.submitter || form.querySelector("button[type=submit], button:not([type]), input[type=submit]");
  // Disabled controls are left out of the submitted data: disable after the browser has
  // collected the pressed button's name and value.
  window.setTimeout(function () {
    form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(function (button) {
      button.dataset.busyDisabled = button.disabled ? "keep" : "1";
      button.disabled = true;
    });
    if (submitter && submitter.tagName === "BUTTON") {
      const spinner = document.createElement("span");
      spinner.className = "spinner-border spinner-border-sm me-1";
      spinner.setAttribute("aria-hidden", "true");
      spinner.setAttribute("data-busy-spinner", "");
      submitter.prepend(spinner);
      submitter.classList.add("is-busy");
    }
    const label = form.hasAttribute("data-long-action")
      ? form.getAttribute("data-long-action") || document.body.getAttribute("data-busy-label")
      : "";
    if (label && submitter) {
      const note = document.createElement("span");
      note.className = "busy-note ms-2";
      note.setAttribute("role", "status");
      note.setAttribute("data-busy-note", "");
      note.textContent = label;
      submitter.insertAdjacentElement("afterend", note);
    }
  }, 0);
});
// Back/forward from the next page shows this page from the cache as it was left: make its
// forms usable again.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    delete form.dataset.busy;
    form.removeAttribute("aria-busy");
    form.querySelectorAll("[data-busy-spinner], [data-busy-note]").forEach(function (el) {
      el.remove();
    });
    form.querySelectorAll("[data-busy-disabled]").forEach(function (button) {
      if (button.dataset.busyDisabled === "1") {
        button.disabled = false;
      }
      delete button.dataset.busyDisabled;
      button.classList.remove("is-busy");
    });
  });
});
