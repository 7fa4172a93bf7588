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
