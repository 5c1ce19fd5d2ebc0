// Muster's one script: progressive enhancement only. Every page works without it; with it the
// incident timeline updates live (server-sent events) and a few keys move around.
(function () {
  "use strict";

  // Live timeline: the page names its event stream; new items arrive as rendered HTML.
  var live = document.querySelector("[data-live]");
  if (live && window.EventSource) {
    var list = document.getElementById("timeline");
    var state = document.getElementById("live-state");
    var source = new EventSource(live.getAttribute("data-live"));
    source.addEventListener("open", function () {
      if (state) { state.textContent = "live"; state.classList.add("on"); }
    });
    source.addEventListener("error", function () {
      if (state) { state.textContent = "reconnecting…"; state.classList.remove("on"); }
    });
    source.addEventListener("timeline", function (message) {
      var holder = document.createElement("ul");
      holder.innerHTML = message.data;
      var item = holder.firstElementChild;
      if (!item || !list || document.getElementById(item.id)) { return; }
      item.classList.add("fresh");
      list.insertBefore(item, list.firstElementChild);
    });
    source.addEventListener("summary", function (message) {
      var summary = document.getElementById("summary");
      if (summary) { summary.innerHTML = message.data; }
    });
  }

  // Keys: "g" then a letter follows a navigation link's data-key; "/" focuses the first search
  // or filter field; "?" lists the keys. Never while typing in a field.
  var pending = null;
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    if (pending) {
      var link = document.querySelector('[data-key="g ' + event.key + '"]');
      pending = null;
      if (link) { event.preventDefault(); link.click(); }
      return;
    }
    if (event.key === "g") { pending = true; setTimeout(function () { pending = null; }, 1500); return; }
    if (event.key === "/") {
      var field = document.querySelector("[data-focus]");
      if (field) { event.preventDefault(); field.focus(); }
      return;
    }
    if (event.key === "?") {
      var help = document.getElementById("keys");
      if (help) { help.hidden = !help.hidden; }
    }
  });
})();
