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
