/* Keyboard shortcuts and small progressive enhancements. Every page works without this file.
 *
 *   g i / g r / g s / g p / g a / g m   go to inbox / my requests / start / processes / audit / admin
 *   g c / g e / g b   go to the CMDB / known errors / knowledge base
 *   /       focus the filter box of the page
 *   j / k   move down / up in a list marked data-nav-list
 *   Enter   open the selected row
 *   Ctrl+Enter  submit the form being filled in
 *   ?       show the shortcut help
 *   Esc     leave a field, close the help
 */
(function () {
  "use strict";

  function isTyping(target) {
    if (!target) return false;
    const tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  /* ---- j/k list navigation --------------------------------------------------------------- */
  function navRows() {
    const list = document.querySelector("[data-nav-list]");
    return list ? Array.from(list.querySelectorAll("tr[data-href]")) : [];
  }

  function selectRow(rows, index) {
    if (!rows.length) return;
    const clamped = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) {
      row.classList.toggle("selected", i === clamped);
      row.setAttribute("aria-selected", i === clamped ? "true" : "false");
    });
    const row = rows[clamped];
    row.scrollIntoView({ block: "nearest" });
    const link = row.querySelector("a[href]");
    if (link) link.focus({ preventScroll: true });
  }

  function selectedIndex(rows) {
    return rows.findIndex(function (row) { return row.classList.contains("selected"); });
  }

  /* ---- shortcut help dialog ---------------------------------------------------------------- */
  function showHelp() {
    const dialog = document.getElementById("shortcuts");
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
  }

  let pendingG = false;
  let pendingTimer = null;

  document.addEventListener("keydown", function (event) {
    // Ctrl+Enter (Cmd+Enter on a Mac) submits the form being filled in, even from a textarea.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form) {
      event.preventDefault();
      event.target.form.requestSubmit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && isTyping(event.target)) {
      event.target.blur();
      return;
    }
    if (isTyping(event.target)) return;

    if (pendingG) {
      pendingG = false;
      clearTimeout(pendingTimer);
      const link = document.querySelector('[data-go="' + CSS.escape(event.key) + '"]');
      if (link) {
        event.preventDefault();
        window.location.assign(link.href);
      }
      return;
    }

    const rows = navRows();
    switch (event.key) {
      case "g":
        pendingG = true;
        pendingTimer = setTimeout(function () { pendingG = false; }, 1200);
        break;
      case "/": {
        const filter = document.querySelector("[data-filter]");
        if (filter) {
          event.preventDefault();
          filter.focus();
          if (filter.select) filter.select();
        }
        break;
      }
      case "j":
        if (rows.length) { event.preventDefault(); selectRow(rows, selectedIndex(rows) + 1); }
        break;
      case "k":
        if (rows.length) { event.preventDefault(); selectRow(rows, Math.max(0, selectedIndex(rows) - 1)); }
        break;
      case "Enter": {
        // Enter opens the selected row's main page (the task, not the business-key link that j/k focused).
        const index = selectedIndex(rows);
        const active = document.activeElement;
        if (index >= 0 && (active === document.body || (active.tagName === "A" && rows[index].contains(active)))) {
          event.preventDefault();
          window.location.assign(rows[index].dataset.href);
        }
        break;
      }
      case "?":
        event.preventDefault();
        showHelp();
        break;
      default:
        break;
    }
  });

  /* A click on a list row (outside its buttons and links) selects it; a double click opens it. */
  document.addEventListener("click", function (event) {
    const row = event.target.closest("[data-nav-list] tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, form")) return;
    const rows = navRows();
    selectRow(rows, rows.indexOf(row));
  });
  document.addEventListener("dblclick", function (event) {
    const row = event.target.closest("[data-nav-list] tr[data-href]");
    if (row && !event.target.closest("a, button, input, select, form")) window.location.assign(row.dataset.href);
  });

  /* ---- behaviours wired by data attributes --------------------------------------------------- */
  document.addEventListener("DOMContentLoaded", function () {
    // Filter box above a picker's <select>: hides options that do not match (selected ones stay visible).
    // With data-picker-source it also asks that JSON endpoint (?q=) and adds the records it did not show.
    document.querySelectorAll("input[data-picker-filter]").forEach(function (input) {
      const select = document.getElementById(input.dataset.pickerFilter);
      if (!select) return;
      input.hidden = false;
      let pending = null;
      function applyFilter() {
        const needle = input.value.trim().toLowerCase();
        Array.from(select.options).forEach(function (option) {
          option.hidden = needle !== "" && option.value !== "" && !option.selected &&
            option.text.toLowerCase().indexOf(needle) < 0;
        });
      }
      function addFromSource() {
        const source = input.dataset.pickerSource;
        const needle = input.value.trim();
        if (!source || needle === "") return;
        const url = source + (source.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(needle);
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { items: [] }; })
          .then(function (body) {
            const present = new Set(Array.from(select.options).map(function (option) { return option.value; }));
            (body.items || []).forEach(function (item) {
              const value = item.code || item.key || item.username;
              if (!value || present.has(value)) return;
              const text = item.code ? item.code + " · " + item.name
                : item.key ? item.key + " · " + item.title
                : item.display_name + " (" + item.username + ")";
              select.add(new Option(text, value));
            });
            applyFilter();
          })
          .catch(function () { /* the options already shown still work */ });
      }
      input.addEventListener("input", function () {
        applyFilter();
        clearTimeout(pending);
        pending = setTimeout(addFromSource, 250);
      });
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") {  // Enter in the filter must not submit the whole form
          event.preventDefault();
          select.focus();
        }
      });
    });

    // Selects that apply a filter at once.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });

    // Forms that ask before doing something that cannot be undone.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });

    // Buttons that open the shortcut help.
    document.querySelectorAll("[data-show-shortcuts]").forEach(function (button) {
      button.addEventListener("click", showHelp);
    });
    document.querySelectorAll("[data-close-dialog]").forEach(function (button) {
      button.addEventListener("click", function () { button.closest("dialog").close(); });
    });

    // Preselect the first row of a keyboard list so j/k/Enter work at once.
    const rows = navRows();
    if (rows.length && document.querySelector("[data-nav-list][data-autoselect]")) {
      rows[0].classList.add("selected");
    }
  });
})();
