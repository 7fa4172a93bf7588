// The rule editor: check as you type, try on a text, backtest — through the JSON API.
// Everything it shows is set as text, never as markup.
(function () {
  "use strict";
  var root = document.querySelector(".editor");
  if (!root) return;
  var file = root.dataset.file, csrf = root.dataset.csrf;
  var yaml = document.getElementById("yaml"), problems = document.getElementById("problems");
  var checked = document.getElementById("checked");

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return { status: r.status, data: data }; }); });
  }
  function list(el, lines) {
    el.textContent = "";
    lines.forEach(function (line) { var li = document.createElement("li"); li.textContent = line; el.appendChild(li); });
  }
  var timer = null, seq = 0;
  function check() {
    var mine = ++seq;
    post("/api/v1/rules/check", { file: file, yaml: yaml.value }).then(function (r) {
      if (mine !== seq) return;
      if (r.status === 200) { list(problems, []); checked.textContent = "No problems: " + r.data.rules + " rules load."; }
      else if (r.status === 422) { list(problems, r.data.detail); checked.textContent = ""; }
      else { checked.textContent = "Could not check: " + (r.data.detail || r.status); }
    });
  }
  yaml.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 350); });

  document.getElementById("try").addEventListener("click", function () {
    var out = document.getElementById("try-result");
    post("/api/v1/rules/test", { text: document.getElementById("try-text").value, file: file, yaml: yaml.value })
      .then(function (r) {
        if (r.status === 422) { list(out, ["Fix the problems first."]); return; }
        if (!r.data.hits.length) { list(out, ["No rule fires."]); return; }
        list(out, r.data.hits.map(function (h) { return h.rule + " (" + h.severity + ", " + h.status + "): " + h.snippet; }));
      });
  });
  document.getElementById("backtest").addEventListener("click", function () {
    var out = document.getElementById("backtest-result");
    out.textContent = "Replaying…";
    post("/api/v1/rules/backtest", { days: Number(document.getElementById("days").value) || 30, file: file, yaml: yaml.value })
      .then(function (r) {
        if (r.status !== 200) { out.textContent = "Fix the problems first."; return; }
        var ul = document.createElement("ul");
        out.textContent = r.data.items + " stored items replayed.";
        r.data.rules.forEach(function (x) {
          var li = document.createElement("li");
          li.textContent = x.rule + ": " + x.new + " would now fire, " + x.gone + " would stop, " + x.same + " unchanged";
          ul.appendChild(li);
        });
        out.appendChild(ul);
      });
  });
})();
