// Booking pages show times in the visitor's zone: when none was chosen yet, ask the browser
// and reload with ?tz=<IANA name> (the server checks the name and falls back if unknown).
(function () {
  "use strict";
  var select = document.querySelector("select[data-tz-auto]");
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  var params = new URLSearchParams(window.location.search);
  if (select && zone && !params.get("tz")) {
    var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
    if (known) {
      params.set("tz", zone);
      window.location.replace(window.location.pathname + "?" + params.toString());
      return;
    }
  }
  // Links from the page of meeting types carry the zone on.
  if (zone && !params.get("tz")) {
    document.querySelectorAll("a[data-keep-tz]").forEach(function (link) {
      var url = new URL(link.href, window.location.href);
      if (!url.searchParams.get("tz")) { url.searchParams.set("tz", zone); link.href = url.toString(); }
    });
  }
  var form = document.querySelector("form[data-tz-form]");
  if (form) {
    form.querySelector("select").addEventListener("change", function () { form.submit(); });
  }
})();
