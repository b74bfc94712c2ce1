/* After a rejected submit, move the focus to the error summary so screen readers announce it. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
