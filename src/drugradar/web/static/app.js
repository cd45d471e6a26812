/* drugradar pages: keyboard navigation of the search suggestions, sortable tables, the
   landscape chart. No inline scripts: data comes from <script type="application/json">. */
(function () {
  "use strict";

  function suggestionBox() {
    var input = document.getElementById("q");
    var box = document.getElementById("suggestions");
    if (!input || !box) return;
    var active = -1;
    function items() { return Array.prototype.slice.call(box.querySelectorAll(".suggestion")); }
    function show(i) {
      var list = items();
      list.forEach(function (el, n) {
        el.classList.toggle("active", n === i);
        el.setAttribute("aria-selected", n === i ? "true" : "false");
      });
      active = i;
      if (i >= 0 && list[i]) {
        input.setAttribute("aria-activedescendant", list[i].id);
        list[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    box.addEventListener("htmx:afterSwap", function () {
      active = -1;
      input.setAttribute("aria-expanded", items().length ? "true" : "false");
    });
    input.addEventListener("keydown", function (ev) {
      var list = items();
      if (ev.key === "ArrowDown" && list.length) {
        ev.preventDefault(); show((active + 1) % list.length);
      } else if (ev.key === "ArrowUp" && list.length) {
        ev.preventDefault(); show(active <= 0 ? list.length - 1 : active - 1);
      } else if (ev.key === "Enter" && active >= 0 && list[active]) {
        ev.preventDefault(); window.location.href = list[active].getAttribute("href");
      } else if (ev.key === "Escape") {
        box.innerHTML = ""; show(-1); input.setAttribute("aria-expanded", "false");
      }
    });
    document.addEventListener("click", function (ev) {
      if (!box.contains(ev.target) && ev.target !== input) { box.innerHTML = ""; active = -1; }
    });
  }

  function sortableTables() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      heads.forEach(function (th, col) {
        th.setAttribute("tabindex", "0");
        function sort() {
          var asc = th.getAttribute("aria-sort") !== "ascending";
          heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows);
          function key(row) {
            var cell = row.cells[col];
            var v = cell.getAttribute("data-sort");
            if (v !== null && v !== "" && !isNaN(v)) return Number(v);
            return cell.textContent.trim().toLowerCase();
          }
          rows.sort(function (a, b) {
            var x = key(a), y = key(b);
            var r = x < y ? -1 : x > y ? 1 : 0;
            return asc ? r : -r;
          });
          rows.forEach(function (r) { body.appendChild(r); });
        }
        th.addEventListener("click", sort);
        th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") sort(); });
      });
    });
  }

  function landscapeChart() {
    var data = document.getElementById("chart-data");
    var canvas = document.getElementById("phase-chart");
    if (!data || !canvas || typeof window.Chart === "undefined") return;
    var d = JSON.parse(data.textContent);
    window.landscapeChart = new window.Chart(canvas, {
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "Drugs", data: d.counts, backgroundColor: "#1f5fbf" }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false }, title: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    suggestionBox();
    sortableTables();
    landscapeChart();
  });
})();
