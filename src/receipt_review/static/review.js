// Keyboard-first review: j/k (or arrows) move through the words, 1-9 set a shortcut label,
// 0 or o removes the label, l opens the picker (Enter applies it), a accepts the receipt and
// loads the next one in place. Clicking a box or a row selects that word.
(function () {
  "use strict";
  let selected = 0;
  let shown = null;

  function rows() { return Array.from(document.querySelectorAll("#words tbody tr[data-index]")); }

  function select(index) {
    const all = rows();
    if (!all.length) { return; }
    selected = Math.max(0, Math.min(all.length - 1, index));
    document.querySelectorAll(".selected").forEach(function (el) { el.classList.remove("selected"); });
    document.querySelectorAll('[data-index="' + selected + '"]').forEach(function (el) { el.classList.add("selected"); });
    const row = all[selected];
    row.scrollIntoView({block: "nearest"});
    const form = document.getElementById("relabel-form");
    if (form) {
      form.elements.line_id.value = row.dataset.line;
      form.elements.word_id.value = row.dataset.word;
      form.elements.label.value = row.dataset.label || "O";
    }
  }

  function relabel(label) {
    const form = document.getElementById("relabel-form");
    if (!form || !form.elements.word_id.value) { return; }
    form.elements.label.value = label;
    htmx.trigger(form, "submit");
  }

  // On the queue: j/k move through the receipts' links, Enter opens one (the browser's own).
  function queueKey(e) {
    const links = Array.from(document.querySelectorAll("a.open"));
    if (!links.length || (e.key !== "j" && e.key !== "k")) { return; }
    e.preventDefault();
    const at = links.indexOf(document.activeElement);
    links[Math.max(0, Math.min(links.length - 1, e.key === "j" ? at + 1 : Math.max(at - 1, 0)))].focus();
  }

  function say(text) { const m = document.getElementById("message"); if (m) { m.textContent = text; } }

  document.addEventListener("keydown", function (e) {
    const target = e.target;
    if (target.matches && target.matches("input, textarea")) { return; }
    if (target.matches && target.matches("select#label-picker")) {
      if (e.key === "Enter") { e.preventDefault(); target.blur(); relabel(target.value); }
      else if (e.key === "Escape") { target.blur(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (!document.getElementById("receipt")) { queueKey(e); return; }
    const shortcut = document.querySelector('[data-shortcut="' + CSS.escape(e.key) + '"]');
    if (e.key === "j" || e.key === "ArrowDown") { e.preventDefault(); select(selected + 1); }
    else if (e.key === "k" || e.key === "ArrowUp") { e.preventDefault(); select(selected - 1); }
    else if (e.key === "l") { e.preventDefault(); const p = document.getElementById("label-picker"); if (p) { p.focus(); } }
    else if (e.key === "0" || e.key === "o") { relabel("O"); }
    else if (e.key === "a") { const f = document.getElementById("accept-form"); if (f) { say(""); htmx.trigger(f, "submit"); } }
    else if (shortcut) { relabel(shortcut.dataset.label); }
  });

  document.addEventListener("click", function (e) {
    const hit = e.target.closest && e.target.closest("[data-index]");
    if (hit) { select(Number(hit.dataset.index)); }
  });

  document.addEventListener("htmx:afterSwap", function () {
    const receipt = document.getElementById("receipt");
    const now = receipt ? receipt.dataset.receipt : null;
    if (now !== shown) { shown = now; selected = 0; say(""); }
    select(selected);
  });

  document.addEventListener("htmx:responseError", function (e) {
    say(e.detail.xhr.status + ": " + e.detail.xhr.responseText);
  });

  document.addEventListener("DOMContentLoaded", function () {
    const receipt = document.getElementById("receipt");
    shown = receipt ? receipt.dataset.receipt : null;
    select(0);
  });
}());
