// honker dashboard: the page script (served from the package; CSP allows no inline code).
// It adds the session token to every POST form, keeps relative times current,
// draws the throughput charts with uPlot, and applies the live updates the
// server pushes after each commit (Server-Sent Events: src/dashboard/live.ts).
(function () {
  'use strict';
  var body = document.body;
  var base = body.getAttribute('data-base') || '';
  var view = body.getAttribute('data-view');
  var meta = document.querySelector('meta[name="honker-csrf"]');
  var csrf = meta ? meta.getAttribute('content') : '';

  // Every action is a POST carrying the session's token.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== 'post') return;
    var input = form.querySelector('input[name="_csrf"]');
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = '_csrf';
      form.appendChild(input);
    }
    input.value = csrf;
    var button = form.querySelector('button');
    if (button) button.disabled = true;
  }, true);

  // Relative times: "3m 10s ago", "in 5m".
  function span(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }
  function tick() {
    var now = Date.now() / 1000;
    var times = document.querySelectorAll('time[data-ts]');
    for (var i = 0; i < times.length; i++) {
      var d = Number(times[i].getAttribute('data-ts')) - now;
      times[i].textContent = Math.abs(d) < 1 ? 'now' : d > 0 ? 'in ' + span(d) : span(-d) + ' ago';
    }
    var ages = document.querySelectorAll('[data-age]');
    for (var j = 0; j < ages.length; j++) ages[j].textContent = span(now - Number(ages[j].getAttribute('data-age')));
  }
  tick();
  setInterval(tick, 1000);

  // Throughput charts.
  var charts = [];
  var COLORS = { completed: '#1a7f37', failed: '#bf8700', dead: '#cf222e' };
  function chartData(d) {
    return [d.x, d.completed, d.failed, d.dead];
  }
  function drawCharts() {
    if (typeof uPlot === 'undefined') return;
    var boxes = document.querySelectorAll('.chart-box[data-chart]');
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      var d = JSON.parse(box.getAttribute('data-chart'));
      var opts = {
        width: Math.max(240, box.clientWidth),
        height: 170,
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
        scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
        axes: [{ stroke: '#57606a', grid: { stroke: '#eaeef2' } }, { stroke: '#57606a', grid: { stroke: '#eaeef2' }, size: 44 }],
        series: [
          {},
          { label: 'completed', stroke: COLORS.completed, fill: 'rgba(26,127,55,0.08)', width: 1.5 },
          { label: 'failed', stroke: COLORS.failed, width: 1.5 },
          { label: 'dead', stroke: COLORS.dead, width: 1.5 },
        ],
      };
      charts.push({ box: box, plot: new uPlot(opts, chartData(d), box) });
    }
  }
  function resizeCharts() {
    for (var i = 0; i < charts.length; i++) charts[i].plot.setSize({ width: Math.max(240, charts[i].box.clientWidth), height: 170 });
  }
  var resizeTimer;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(resizeCharts, 150);
  });
  drawCharts();

  // Live updates after every commit, from any process.
  if (!view || typeof EventSource === 'undefined') return;
  var dot = document.getElementById('live-dot');
  var live = document.getElementById('live');
  function state(s, title) {
    if (!dot) return;
    dot.className = 'live-dot ' + s;
    dot.title = title;
  }
  var source = new EventSource(base + '/events?view=' + encodeURIComponent(view));
  source.addEventListener('open', function () { state('on', 'live: updates after every commit'); });
  source.addEventListener('error', function () { state('off', 'disconnected: retrying'); });
  source.addEventListener('failure', function (e) {
    state('off', 'stopped: ' + JSON.parse(e.data).error);
    source.close();
  });
  source.addEventListener('update', function (e) {
    var d = JSON.parse(e.data);
    // Keep focus and typed text in a form the user is filling in.
    var active = document.activeElement;
    var typing = active && live.contains(active) && active.tagName === 'INPUT' && active.type !== 'hidden';
    if (!typing && live.innerHTML !== d.live) live.innerHTML = d.live;
    if (d.charts) for (var i = 0; i < charts.length && i < d.charts.length; i++) charts[i].plot.setData(chartData(d.charts[i]));
    tick();
    body.setAttribute('data-updates', String(Number(body.getAttribute('data-updates') || 0) + 1));
  });
})();
