/// The console's stylesheet and script, served from the binary. The page has no inline script or style, so the
/// Content-Security-Policy can forbid both.
enum ConsoleAssets {
    static let css = #"""
:root { --fg: #111; --bg: #fff; --muted: #555; --line: #ccc; --accent: #0645ad; --amber: #8a5300; --amber-bg: #fff2cc; --red: #a00000; --red-bg: #ffe0e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, "Noto Sans CJK SC", "Noto Sans", sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #1a73e8; outline-offset: 1px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 8px 12px; border-bottom: 1px solid var(--line); }
header nav { display: flex; flex-wrap: wrap; gap: 4px 12px; }
.brand { font-weight: 700; text-decoration: none; }
main { padding: 8px 12px 24px; max-width: 1100px; }
footer { padding: 8px 12px; color: var(--muted); border-top: 1px solid var(--line); font-size: 14px; }
h1 { font-size: 1.5rem; margin: 8px 0 12px; }
h2 { font-size: 1.2rem; margin: 20px 0 8px; }
table.list { border-collapse: collapse; width: 100%; }
table.list th, table.list td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
@media (max-width: 600px) {
  table.list thead { display: none; }
  table.list tr { display: block; border-bottom: 2px solid var(--line); padding: 4px 0; }
  table.list td { display: block; border: 0; padding: 2px 0; }
}
form.inline { display: inline-flex; gap: 6px; align-items: center; margin: 0; }
form.card, article.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px; margin: 12px 0; max-width: 640px; }
form.card label, form.wide label { display: block; margin-top: 8px; }
form.card input, form.card select, form.card textarea, form.wide textarea, form.wide input { width: 100%; padding: 6px; font: inherit; }
form.filters { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; margin-bottom: 12px; }
.actions { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 10px; }
.actions form { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
button { font: inherit; padding: 6px 12px; border: 1px solid #333; border-radius: 4px; background: #f4f4f4; color: var(--fg); cursor: pointer; min-height: 36px; }
button.ack { background: #0b5; color: #fff; border-color: #084; }
.pill { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 13px; border: 1px solid var(--line); }
.pill.P1 { background: var(--red-bg); color: var(--red); }
.pill.P2 { background: var(--amber-bg); color: var(--amber); }
.countdown, .clock-state { font-variant-numeric: tabular-nums; padding: 0 4px; border-radius: 4px; }
.countdown.warning, .clock-state.warning { background: var(--amber-bg); color: var(--amber); }
.countdown.breached, .clock-state.breached, .clock-state.missed { background: var(--red-bg); color: var(--red); }
.flash { background: #e6f4ea; padding: 6px 12px; margin: 8px 12px; }
.problem { background: var(--red-bg); color: var(--red); padding: 6px 12px; margin: 8px 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
dl.facts dt { color: var(--muted); }
ol.timeline li { margin-bottom: 4px; }
pre.detail, .article { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; padding: 6px; }
.empty { color: var(--muted); }
svg.timeline { width: 100%; height: auto; border: 1px solid var(--line); }
svg.timeline text { font-size: 11px; fill: #111; }
svg.timeline rect.shift { fill: #cfe0fc; stroke: #0645ad; }
"""#

    static let js = #"""
"use strict";
(function () {
  var lang = document.body.dataset.lang || "en";
  function localTimes(root) {
    root.querySelectorAll("time[data-ms]").forEach(function (el) {
      var ms = Number(el.dataset.ms);
      if (!isFinite(ms) || ms <= 0) return;
      var d = new Date(ms);
      el.setAttribute("datetime", d.toISOString());
      el.textContent = d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
    });
  }
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function countdowns() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var due = Number(el.dataset.due), warn = Number(el.dataset.warn || 0);
      var left = Math.round((due - now) / 1000), abs = Math.abs(left);
      var text = (abs >= 3600 ? Math.floor(abs / 3600) + ":" : "") + pad(Math.floor(abs % 3600 / 60)) + ":" + pad(abs % 60);
      el.textContent = left < 0 ? "-" + text + " " + (document.body.dataset.overdue || "") : text;
      el.classList.toggle("breached", left < 0);
      el.classList.toggle("warning", left >= 0 && warn > 0 && now >= warn);
    });
  }
  function refresh() {
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        var live = document.getElementById("live");
        if (!fresh || !live) return;
        // Keep what the person is typing: a page with a focused field is not replaced under them.
        var active = document.activeElement;
        if (active && live.contains(active) && /INPUT|TEXTAREA|SELECT/.test(active.tagName)) return;
        live.replaceChildren.apply(live, Array.prototype.slice.call(fresh.childNodes).map(function (n) { return document.importNode(n, true); }));
        localTimes(live);
        countdowns();
      });
  }
  if (document.body.dataset.live === "on" && window.EventSource) {
    var pending = null;
    var events = new EventSource("/console/events");
    events.addEventListener("change", function () {
      if (pending) return;
      pending = setTimeout(function () { pending = null; refresh(); }, 150);
    });
  }
  var suggestions = document.getElementById("suggestions");
  if (suggestions) {
    var timer = null;
    var ask = function () {
      var q = Array.prototype.map.call(document.querySelectorAll("[data-suggest]"), function (el) { return el.value; }).join(" ").trim();
      if (!q) return;
      fetch("/console/kb/suggest?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          suggestions.replaceChildren();
          if (!items.length) { var li = document.createElement("li"); li.textContent = suggestions.dataset.empty; suggestions.appendChild(li); return; }
          items.forEach(function (item) {
            var li = document.createElement("li"), a = document.createElement("a");
            a.href = "/console/kb/" + encodeURIComponent(item.id);
            a.textContent = item.title;
            a.target = "_blank";
            li.appendChild(a);
            suggestions.appendChild(li);
          });
        });
    };
    document.querySelectorAll("[data-suggest]").forEach(function (el) {
      el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 250); });
    });
  }
  localTimes(document);
  countdowns();
  setInterval(countdowns, 1000);
})();
"""#
}
