// The marketers' dashboard: draws the charts from the page's json_script
// data (vendored Chart.js), and polls a seed import's progress.
(function () {
  "use strict";

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function drawCharts() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof window.Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var accent = cssVar("--accent", "#2d5bd7");
    var ok = cssVar("--ok", "#1a7f37");
    var text = cssVar("--muted", "#5b5b66");
    var line = cssVar("--line", "#e4e1da");
    var Chart = window.Chart;
    Chart.defaults.color = text;
    Chart.defaults.borderColor = line;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.animation = false; // figures, not a show; and stable screenshots

    var daily = document.getElementById("chart-daily");
    // Few days (a new campaign): show the points, a lone point has no line.
    var radius = data.daily.days.length < 20 ? 3 : 0;
    if (daily) {
      new Chart(daily, {
        type: "line",
        data: {
          labels: data.daily.days,
          datasets: [
            { label: "Joined", data: data.daily.joined, borderColor: accent,
              backgroundColor: accent, pointRadius: radius, tension: 0.2 },
            { label: "Activated", data: data.daily.activated, borderColor: ok,
              backgroundColor: ok, pointRadius: radius, tension: 0.2 }
          ]
        },
        options: {
          interaction: { mode: "index", intersect: false },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } },
                    x: { ticks: { maxTicksLimit: 10 } } }
        }
      });
    }

    var funnel = document.getElementById("chart-funnel");
    if (funnel) {
      new Chart(funnel, {
        type: "bar",
        data: {
          labels: data.funnel.labels,
          datasets: [{ label: "Invites", data: data.funnel.values,
                       backgroundColor: [accent, accent, accent, ok, ok] }]
        },
        options: {
          indexAxis: "y",
          plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    }

    var generations = document.getElementById("chart-generations");
    if (generations) {
      new Chart(generations, {
        type: "bar",
        data: {
          labels: data.generations.labels,
          datasets: [{ label: "Members", data: data.generations.values, backgroundColor: accent }]
        },
        options: {
          plugins: { legend: { display: false } },
          scales: {
            x: { title: { display: true, text: "Generation (0 = seed members)" } },
            y: { beginAtZero: true, ticks: { precision: 0 } }
          }
        }
      });
    }
    drawConnectors(data, accent, ok);
  }

  function drawConnectors(data, accent, ok) {
    var canvas = document.getElementById("chart-connectors");
    if (!canvas || !data.connectors) return;
    var Chart = window.Chart;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.connectors.labels,
        datasets: [
          { label: "Activated invitees", data: data.connectors.activated,
            backgroundColor: ok, xAxisID: "x" },
          // A downline is often 100x the activated invitees: its own axis, on top.
          { label: "Downline size", data: data.connectors.downline,
            backgroundColor: accent + "66", borderColor: accent, borderWidth: 1, xAxisID: "x2" }
        ]
      },
      options: {
        indexAxis: "y",
        scales: {
          x: { beginAtZero: true, position: "bottom", ticks: { precision: 0 },
               title: { display: true, text: "Activated invitees" } },
          x2: { beginAtZero: true, position: "top", ticks: { precision: 0 },
                grid: { drawOnChartArea: false },
                title: { display: true, text: "Downline size" } },
          y: { ticks: { autoSkip: false,
                        callback: function (value) {
                          var label = this.getLabelForValue(value);
                          return label.length > 22 ? label.slice(0, 21) + "…" : label;
                        } } }
        }
      }
    });
  }

  function pollImport() {
    var box = document.querySelector("[data-import-status]");
    if (!box) return;
    var url = box.getAttribute("data-import-status");
    var bar = box.querySelector("[data-import-progress]");
    var phase = box.querySelector("[data-import-phase]");
    var labels = { queued: "Waiting for a worker…", validating: "Checking every row…",
                   importing: "Creating invites and e-mails…" };
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (status) {
          if (bar) { bar.value = status.percent; bar.textContent = status.percent + "%"; }
          if (phase && labels[status.phase]) phase.textContent = labels[status.phase];
          if (status.finished) { window.location.reload(); return; }
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    tick();
  }

  // The headline figures move while the page is open: one small JSON read every
  // 5 s (the server side costs the same at any campaign size); a hidden tab waits.
  function pollFigures() {
    var kpis = document.querySelector("[data-live-url]");
    if (!kpis) return;
    var url = kpis.getAttribute("data-live-url");
    function tick() {
      if (document.hidden) { window.setTimeout(tick, 5000); return; }
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { if (!response.ok) throw new Error(); return response.json(); })
        .then(function (live) {
          Object.keys(live.kpis).forEach(function (key) {
            var dd = kpis.querySelector('[data-kpi="' + key + '"] dd');
            if (dd && dd.textContent !== live.kpis[key]) dd.textContent = live.kpis[key];
          });
          window.setTimeout(tick, 5000);
        })
        .catch(function () { window.setTimeout(tick, 15000); });
    }
    window.setTimeout(tick, 5000);
  }

  function start() { drawCharts(); pollImport(); pollFigures(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
