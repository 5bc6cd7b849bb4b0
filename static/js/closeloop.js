// Small behaviours of every page, declared in the markup with data attributes, so templates need
// no inline scripts or onclick= handlers (the Content-Security-Policy allows neither):
//   data-autosubmit              on a select or checkbox: changing it submits its form
//   data-confirm="question"      on a form, or on a button or link: asks first, cancels on "no"
//   data-select-on-focus         on an input or textarea: focusing or clicking it selects all
//   data-check-all="selector"    on a checkbox: ticks or unticks every checkbox the selector finds
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    const field = event.target;
    if (field.matches("[data-autosubmit]") && field.form) {
      if (field.form.requestSubmit) field.form.requestSubmit();
      else field.form.submit();
    }
    if (field.matches("[data-check-all]")) {
      document.querySelectorAll(field.dataset.checkAll).forEach(function (box) {
        box.checked = field.checked;
      });
    }
  });

  // A button with its own question asks on click, before the form's submit event.
  document.addEventListener("click", function (event) {
    const trigger = event.target.closest("button[data-confirm], a[data-confirm], input[data-confirm]");
    if (trigger && !window.confirm(trigger.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  function selectAll(event) {
    const field = event.target;
    if (field.matches && field.matches("[data-select-on-focus]")) field.select();
  }
  document.addEventListener("focusin", selectAll);
  document.addEventListener("click", selectAll);
})();
