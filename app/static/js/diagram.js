/* Render the BPMN diagram of an instance or a process version with the bpmn-js viewer.
 *
 * The container carries its data: data-xml-url (the BPMN text), data-done and data-active (JSON arrays of
 * element ids to highlight), data-error-text (what to say when loading fails). When ready, data-state="ready".
 */
(function () {
  "use strict";

  function parseIds(text) {
    try {
      const ids = JSON.parse(text || "[]");
      return Array.isArray(ids) ? ids : [];
    } catch (err) {
      return [];
    }
  }

  function fail(container, status, error) {
    container.dataset.state = "error";
    if (status) status.textContent = container.dataset.errorText || "The diagram could not be shown.";
    if (window.console && error) window.console.error(error);
  }

  function render(container) {
    const status = container.querySelector(".diagram-status");
    if (typeof window.BpmnJS !== "function") {
      fail(container, status, new Error("bpmn-js viewer not loaded (run make assets)"));
      return;
    }
    const viewer = new window.BpmnJS({ container: container });
    fetch(container.dataset.xmlUrl, { credentials: "same-origin", headers: { Accept: "application/xml" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        const canvas = viewer.get("canvas");
        const registry = viewer.get("elementRegistry");
        const active = parseIds(container.dataset.active);
        parseIds(container.dataset.done).forEach(function (id) {
          if (registry.get(id) && active.indexOf(id) < 0) canvas.addMarker(id, "done");
        });
        active.forEach(function (id) {
          if (registry.get(id)) canvas.addMarker(id, "active");
        });
        canvas.zoom("fit-viewport", "auto");
        if (status) status.remove();
        container.dataset.state = "ready";
      })
      .catch(function (error) { fail(container, status, error); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-bpmn-diagram]").forEach(render);
  });
})();
