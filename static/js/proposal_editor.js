// Row editors of proposals and templates: add, remove and reorder rows, and fill a line from
// the product chosen. Rows post as parallel lists (line_name, line_quantity…), so the order in
// the page is the order saved. Changes bubble a "change" event so the totals refresh (htmx).
"use strict";

function refresh(form) {
  if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-row-action]");
  if (!button) return;
  const form = button.closest("form");
  const action = button.dataset.rowAction;
  if (action === "add") {
    const template = document.getElementById(button.dataset.template);
    const body = document.getElementById(button.dataset.target);
    body.appendChild(template.content.cloneNode(true));
    const first = body.lastElementChild.querySelector("input, select");
    if (first) first.focus();
    return; // an empty row changes no total
  }
  const row = button.closest("[data-row]");
  if (action === "remove") {
    row.remove();
  } else if (action === "up" && row.previousElementSibling) {
    row.parentNode.insertBefore(row, row.previousElementSibling);
  } else if (action === "down" && row.nextElementSibling) {
    row.parentNode.insertBefore(row.nextElementSibling, row);
  }
  refresh(form);
});

// capture phase: the line is filled before htmx (listening on the form) sends it for totals
document.addEventListener(
  "change",
  (event) => {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || select.name !== "line_product") return;
    const option = select.selectedOptions[0];
    if (!option || !option.value) return;
    const row = select.closest("[data-row]");
    const fill = {
      line_name: option.dataset.name,
      line_description: option.dataset.description,
      line_unit: option.dataset.unit,
      line_unit_price: option.dataset.price,
      line_tax_rate: option.dataset.tax,
      line_billing: option.dataset.billing,
    };
    for (const [name, value] of Object.entries(fill)) {
      const input = row.querySelector(`[name="${name}"]`);
      if (input && value !== undefined) input.value = value;
    }
  },
  true,
);
