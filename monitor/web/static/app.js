// Keyboard shortcuts for the hit list (optional: every action also works without script).
//   j / k  move down / up     x  tick the hit      o or Enter  open it     a  acknowledge it     /  search
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("li.hit"));
  var at = -1;
  function move(i) {
    if (!items.length) return;
    if (at >= 0) items[at].classList.remove("cursor");
    at = Math.max(0, Math.min(items.length - 1, i));
    items[at].classList.add("cursor");
    items[at].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (e.metaKey || e.ctrlKey || e.altKey || /INPUT|TEXTAREA|SELECT/.test(tag)) return;
    if (e.key === "/") { var q = document.querySelector("input[name=q]"); if (q) { e.preventDefault(); q.focus(); } return; }
    if (e.key === "j") move(at + 1);
    else if (e.key === "k") move(at - 1);
    else if (at < 0) return;
    else if (e.key === "x") { var box = items[at].querySelector("input[type=checkbox]"); box.checked = !box.checked; }
    else if (e.key === "o" || e.key === "Enter") { items[at].querySelector("a.title").click(); }
    else if (e.key === "a") { var ack = items[at].querySelector("button[formaction]"); if (ack) ack.click(); }
  });
})();

// The inbox shows new hits as they are recorded, without a reload: it asks the JSON API
// every few seconds for new hits newer than the newest one shown. Text only, never markup.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) return;
  var newest = Number(live.dataset.newest) || 0, ms = Number(live.dataset.ms) || 10000, count = 0;
  var query = live.dataset.query ? "&" + live.dataset.query : "";
  var fresh = document.getElementById("fresh"), counter = document.getElementById("live-count");
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
  function row(h) {
    var li = el("li", "hit fresh sevline-" + h.severity), main = el("div", "main"), line1 = el("div", "line1");
    li.dataset.id = h.id;
    line1.appendChild(el("span", "sev sev-" + h.severity, h.severity));
    var a = el("a", "title", h.title || "(no title)"); a.href = "/hits/" + h.id; line1.appendChild(a);
    main.appendChild(line1);
    main.appendChild(el("div", "snippet", (h.snippet || "").replace(/\*\*/g, "")));
    main.appendChild(el("div", "meta", h.rule + " · " + h.source + " · #" + h.id));
    li.appendChild(main);
    return li;
  }
  function poll() {
    fetch("/api/v1/hits?status=new&limit=50" + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var added = data.hits.filter(function (h) { return h.id > newest; });
        added.reverse().forEach(function (h) { fresh.insertBefore(row(h), fresh.firstChild); count += 1; newest = Math.max(newest, h.id); });
        if (count) { counter.textContent = String(count); live.hidden = false; }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, ms); });
  }
  setTimeout(poll, ms);
})();
