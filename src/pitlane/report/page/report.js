// pitlane report: draws a study's run (or two runs side by side) from the JSON the binary put in
// <script id="pitlane-data">. Charts are Apache ECharts (inlined before this script); nothing is
// fetched. When everything is drawn, document.body.dataset.ready is "1" and window.pitlaneReport
// lists the charts (the browser test reads both).
(function () {
  'use strict';

  const data = JSON.parse(document.getElementById('pitlane-data').textContent);
  const runs = data.runs || [];
  const comparing = data.kind === 'compare' && runs.length === 2;
  const charts = [];
  const palette = ['#2f6fbf', '#e4572e', '#29a36a', '#8e5bd6', '#f0a202', '#17becf', '#c2417d',
    '#6b8e23', '#8c564b', '#1f3b73', '#ff7f0e', '#7f7f7f', '#bcbd22', '#393b79'];
  const colours = new Map();

  // ---- small helpers -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of [].concat(children || [])) {
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  function num(x, digits) {
    if (x === null || x === undefined || Number.isNaN(x)) return '-';
    return Number(x).toFixed(digits);
  }

  function interval(i, digits) {
    if (!i) return '-';
    return num(i.estimate, digits) + ' [' + num(i.low, digits) + ', ' + num(i.high, digits) + ']';
  }

  function device(slowdown) {
    return slowdown === 1 ? 'x1' : 'x' + slowdown;
  }

  function label(model, slowdown) {
    return slowdown === 1 ? model : model + ' x' + slowdown;
  }

  // One colour per variant (model and device), the same in every chart of both runs.
  function colourOf(name) {
    if (!colours.has(name)) colours.set(name, palette[colours.size % palette.length]);
    return colours.get(name);
  }

  // Differences (compare): "section|key|field" -> {a, b}.
  const differences = new Map();
  for (const d of data.differences || []) {
    differences.set(d.section + '|' + d.key + '|' + d.field, d);
  }
  function diffCell(cell, section, key, field) {
    const d = differences.get(section + '|' + key + '|' + field);
    if (comparing && d) {
      cell.classList.add(d.separated ? 'diff-strong' : 'diff');
      cell.title = 'A: ' + JSON.stringify(d.a) + '   B: ' + JSON.stringify(d.b);
    }
    return cell;
  }

  function table(headers, rows) {
    const head = el('tr', {}, headers.map((h) => el('th', { text: h })));
    const body = rows.map((cells) => el('tr', {}, cells.map((c) => (c instanceof Node ? c : el('td', { text: String(c) })))));
    return el('div', { class: 'table-wrap' }, el('table', {}, [el('thead', {}, head), el('tbody', {}, body)]));
  }

  function td(text, cls) {
    return el('td', { text: String(text), class: cls });
  }

  // A chart: a sized <div class="chart">, drawn by ECharts with the canvas renderer.
  function chart(parent, name, height, option) {
    const box = el('div', { class: 'chart', 'data-chart': name });
    box.style.height = height + 'px';
    parent.appendChild(box);
    const c = echarts.init(box, null, { renderer: 'canvas' });
    c.setOption(Object.assign({ animation: false, textStyle: { fontFamily: 'inherit' } }, option));
    charts.push({ name: name, chart: c, element: box });
    return c;
  }

  function note(parent, text) {
    parent.appendChild(el('p', { class: 'note', text: text }));
  }

  // Each section: one column per run (two when comparing).
  function section(id, title, draw, intro) {
    const s = el('section', { id: id }, el('h2', { text: title }));
    if (intro) note(s, intro);
    const cols = el('div', { class: comparing ? 'cols' : 'one' });
    s.appendChild(cols);
    app.appendChild(s);
    runs.forEach((run, i) => {
      const col = el('div', { class: 'col' });
      if (comparing) col.appendChild(el('h3', { class: 'run-name', text: (i === 0 ? 'A: ' : 'B: ') + run.name + ' (' + run.dir + ')' }));
      cols.appendChild(col);
      try {
        draw(run, col, i);
      } catch (e) {
        console.error('pitlane report: section ' + title + ' failed: ' + (e && e.stack ? e.stack : e));
        col.appendChild(el('p', { class: 'error', text: 'This section could not be drawn: ' + e }));
      }
    });
    nav.appendChild(el('a', { href: '#' + id, text: title }));
  }

  // ---- sections ------------------------------------------------------------------------------

  function overview(run, col) {
    const rows = [
      ['study', run.name],
      ['run folder', run.dir],
      ['driving score version', run.metric_version],
    ];
    const m = run.report_machine || {};
    rows.push(['machine writing this report', [m.cpu, m.cores && m.cores + ' cores', m.memory_gib && m.memory_gib + ' GiB'].filter(Boolean).join(', ')]);
    if (run.machine) rows.push(['machine of the study', JSON.stringify(run.machine)]);
    else rows.push(['machine of the study', 'not recorded in results.json']);
    const wall = run.wall_clock || {};
    if (wall.stage_s) {
      rows.push(['stage wall time, s', Object.entries(wall.stage_s).map(([k, v]) => k + ' ' + num(v, 0)).join(', ') + (wall.total_s ? ' (run total ' + num(wall.total_s, 0) + ')' : '')]);
    }
    const facts = rows.map(([k, v]) => el('tr', {}, [el('th', { text: k }), k === 'driving score version' ? diffCell(td(v, 'fact'), 'version', 'metric_version', 'metric_version') : td(v, 'fact')]));
    col.appendChild(el('div', { class: 'table-wrap' }, el('table', { class: 'facts' }, el('tbody', {}, facts))));
    const version = el('pre', { class: 'version', text: run.code_version || 'not given (the study wrote this report; `pitlane report` records `pitlane --version`)' });
    col.appendChild(el('h4', { text: 'Code version (pitlane --version)' }));
    col.appendChild(diffCell(version, 'version', 'code_version', 'code_version'));
    const details = el('details', { class: 'config' }, [el('summary', { text: 'Configuration (results.json "config")' }), el('pre', { text: JSON.stringify(run.config, null, 2) })]);
    col.appendChild(details);
  }

  function offline(run, col) {
    const rows = (run.offline || []).map((r) => {
      const lat = r.latency || {};
      const key = r.model;
      return [
        td(r.model, 'name'), td(r.recipe),
        diffCell(td(num(r.bytes / 1e6, 2)), 'offline', key, 'bytes'),
        diffCell(td(num(r.gzip_bytes / 1e6, 2)), 'offline', key, 'gzip_bytes'),
        diffCell(td(num(r.mse, 5)), 'offline', key, 'mse'),
        diffCell(td(num(r.mae, 4)), 'offline', key, 'mae'),
        diffCell(td(num(r.mae_w_radps, 3)), 'offline', key, 'mae_w_radps'),
        td(num(lat.median_ms, 3)), td(num(lat.p99_ms, 3)),
        diffCell(td(num(r.latency_ms, 2)), 'offline', key, 'latency_ms'),
      ];
    });
    col.appendChild(table(['model', 'recipe', 'size MB', 'gzip MB', 'MSE', 'MAE', 'MAE w rad/s', 'latency median ms', 'p99 ms', 'drive latency ms'], rows));
  }

  function verdictBadge(v) {
    if (!v) return td('-');
    const cell = el('td', {}, el('span', { class: 'verdict ' + v.verdict, text: v.verdict }));
    return cell;
  }

  function closedLoop(run, col) {
    const cl = run.closed_loop || { rows: [] };
    if (cl.source !== 'closed_loop_verdicts') note(col, 'No paired verdicts in this results.json: means and 95% intervals computed from its runs.');
    const rows = cl.rows.map((r) => {
      const key = label(r.model, r.slowdown);
      const vs = r.vs_baseline;
      return [
        td(r.model, 'name'), td(device(r.slowdown)),
        diffCell(td(r.completed + '/' + r.episodes), 'closed_loop', key, 'completed'),
        diffCell(td(interval(r.completion, 2)), 'closed_loop', key, 'completion'),
        diffCell(td(interval(r.driving_score, 1), 'score'), 'closed_loop', key, 'driving_score'),
        td(vs ? interval(vs.difference, 1) + ' (' + vs.pairs + ' pairs)' : '-'),
        diffCell(verdictBadge(vs), 'closed_loop', key, 'verdict'),
        diffCell(td(interval(r.average_speed_mps, 2)), 'closed_loop', key, 'average_speed_mps'),
        diffCell(td(interval(r.deviation_mean_m, 3)), 'closed_loop', key, 'deviation_mean_m'),
        diffCell(td(interval(r.infractions_per_km, 2)), 'closed_loop', key, 'infractions_per_km'),
      ];
    });
    col.appendChild(table(['model', 'device', 'completed', 'completion [95% CI]', 'driving score [95% CI]', 'vs baseline', 'verdict', 'avg speed m/s', 'deviation m', 'infractions/km'], rows));
  }

  function pareto(run, col) {
    const points = run.pareto || [];
    if (!points.length) {
      note(col, 'No variant has both a size and a driving score.');
      return;
    }
    const maxBytes = Math.max.apply(null, points.map((p) => p.bytes));
    const maxScore = Math.max.apply(null, points.map((p) => p.driving_score));
    const lat = points.map((p) => p.latency_ms).filter((x) => x > 0);
    const logX = lat.length && Math.max.apply(null, lat) / Math.min.apply(null, lat) > 20;
    // Points at the same place share one label.
    const labels = new Map();
    for (const p of points) {
      const at = p.latency_ms.toFixed(3) + ',' + p.driving_score.toFixed(1);
      labels.set(at, (labels.has(at) ? labels.get(at) + ', ' : '') + p.label + (p.front ? ' *' : ''));
    }
    const labelled = new Set();
    const series = [{
      name: 'variants',
      type: 'scatter',
      data: points.map((p) => ({
        name: p.label,
        value: [p.latency_ms, p.driving_score, p.bytes, p.front],
        symbol: p.front ? 'circle' : 'emptyCircle',
        symbolSize: 10 + 30 * Math.sqrt(p.bytes / maxBytes),
        itemStyle: { color: colourOf(p.label), borderWidth: p.front ? 0 : 2, opacity: p.front ? 0.85 : 0.8 },
        label: (() => {
          const at = p.latency_ms.toFixed(3) + ',' + p.driving_score.toFixed(1);
          const first = !labelled.has(at);
          labelled.add(at);
          return { show: first, position: 'right', formatter: labels.get(at), fontSize: 11 };
        })(),
      })),
    }];
    const front = points.filter((p) => p.front).sort((a, b) => a.latency_ms - b.latency_ms || b.driving_score - a.driving_score);
    series.push({ name: 'Pareto front', type: 'line', step: 'end', data: front.map((p) => [p.latency_ms, p.driving_score]), lineStyle: { type: 'dashed', color: '#555' }, itemStyle: { color: '#555' }, symbol: 'none', silent: true, z: 1 });
    chart(col, 'pareto', 380, {
      tooltip: { trigger: 'item', formatter: (p) => p.seriesName === 'Pareto front' ? '' : p.name + '<br>latency ' + num(p.value[0], 1) + ' ms<br>driving score ' + num(p.value[1], 1) + '<br>size ' + num(p.value[2] / 1e6, 2) + ' MB' + (p.value[3] ? '<br>on the Pareto front' : '') },
      legend: { bottom: 0, data: ['Pareto front'] },
      grid: { left: 60, right: 110, top: 20, bottom: 70 },
      xAxis: { type: logX ? 'log' : 'value', name: 'latency the drives applied, ms' + (logX ? ' (log)' : ''), nameLocation: 'middle', nameGap: 28, axisLine: { onZero: false },
        min: (v) => (logX ? v.min / 2 : Math.max(0, v.min - 0.15 * (v.max - v.min) - 1)), max: (v) => (logX ? v.max * 2 : v.max + 0.15 * (v.max - v.min) + 1) },
      yAxis: { type: 'value', name: 'driving score (mean)', min: 0, max: Math.min(100, Math.max(10, Math.ceil(maxScore * 1.2 / 10) * 10)) },
      series: series,
    });
    note(col, 'One point per variant; the area shows the model size; filled points and * mark the Pareto front (no other variant is at least as fast, as good and as small).');
  }

  // Equal metres on both axes: the chart's height follows the circuit's shape.
  function mapExtent(centre, width) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of centre) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const pad = 0.05 * Math.max(x1 - x0, y1 - y0) + 3;
    x0 -= pad; x1 += pad; y0 -= pad; y1 += pad;
    const margin = { left: 50, right: 90, top: 40, bottom: 40 };
    const plotW = Math.max(200, width - margin.left - margin.right);
    let scale = plotW / (x1 - x0);
    let plotH = (y1 - y0) * scale;
    if (plotH > 560) {
      scale = 560 / (y1 - y0);
      plotH = 560;
    }
    const usedW = (x1 - x0) * scale;
    return { x0, x1, y0, y1, height: plotH + margin.top + margin.bottom, grid: { left: margin.left, width: usedW, top: margin.top, height: plotH } };
  }

  function circuits(run, col) {
    if (!(run.circuits || []).length) {
      note(col, 'No trajectories to draw.');
      return;
    }
    for (const c of run.circuits) {
      const block = el('div', { class: 'circuit' });
      col.appendChild(block);
      block.appendChild(el('h3', { text: c.circuit + ' ' + c.direction + ' (' + num(c.length_m, 0) + ' m)' }));
      const select = el('select', { 'aria-label': 'colour the trajectories by' }, [el('option', { value: 'speed', text: 'colour by speed (m/s)' }), el('option', { value: 'deviation', text: 'colour by deviation from the centre line (m)' })]);
      block.appendChild(el('label', { class: 'control' }, ['Trajectories: ', select]));
      const sources = Array.from(new Set(c.runs.map((r) => r.source)));
      note(block, 'Repetition 0 of every variant' + (sources.includes('re-drive') ? ' (runs marked re-driven were driven again for this report)' : '') + '. Click a legend entry to hide or show a variant.');

      const row = el('div', { class: comparing ? 'circuit-stack' : 'circuit-row' });
      block.appendChild(row);
      const left = el('div', { class: 'circuit-map' });
      const right = el('div', { class: 'circuit-along' });
      row.appendChild(left);
      row.appendChild(right);
      const width = Math.max(320, (left.clientWidth || 700) - 10);
      const ext = mapExtent(c.centre, width);
      const maxV = Math.max.apply(null, c.runs.map((r) => Math.max.apply(null, r.v.concat([1]))));
      const maxD = Math.max.apply(null, c.runs.map((r) => Math.max.apply(null, r.lateral.map(Math.abs).concat([0.1]))));
      const names = c.runs.map((r) => r.label + (r.source === 're-drive' ? ' (re-driven)' : ''));
      const mapSeries = [{ name: 'centre line', type: 'line', data: c.centre, showSymbol: false, silent: true, lineStyle: { color: '#b9b9b9', width: 7, opacity: 0.6 }, z: 1 }];
      c.runs.forEach((r, i) => {
        const pts = r.x.map((x, k) => [x, r.y[k], r.v[k], Math.abs(r.lateral[k]), r.t[k]]);
        mapSeries.push({ name: names[i], type: 'scatter', data: pts, symbolSize: 3, itemStyle: { color: colourOf(r.label) }, large: pts.length > 2000 });
      });
      const runIndices = c.runs.map((r, i) => i + 1);
      const visual = (by) => ({
        type: 'continuous', seriesIndex: runIndices, dimension: by === 'speed' ? 2 : 3,
        min: 0, max: by === 'speed' ? Math.ceil(maxV) : Math.ceil(maxD * 10) / 10,
        text: [by === 'speed' ? 'm/s' : 'm', ''], calculable: true, right: 0, top: 'middle',
        inRange: { color: by === 'speed' ? ['#30123b', '#4686fb', '#1be5b5', '#a4fc3c', '#fbb938', '#e4460a', '#7a0403'] : ['#1a9850', '#fee08b', '#d73027'] },
      });
      const map = chart(left, 'map-' + c.circuit + '-' + c.direction, ext.height, {
        tooltip: { trigger: 'item', formatter: (p) => p.seriesIndex === 0 ? '' : p.seriesName + '<br>t ' + num(p.value[4], 1) + ' s<br>speed ' + num(p.value[2], 2) + ' m/s<br>deviation ' + num(p.value[3], 2) + ' m' },
        legend: { type: 'scroll', top: 0, data: names },
        grid: ext.grid,
        xAxis: { type: 'value', min: ext.x0, max: ext.x1, name: 'x m', axisLine: { onZero: false }, axisLabel: { formatter: (v) => num(v, 0) }, splitLine: { show: false } },
        yAxis: { type: 'value', min: ext.y0, max: ext.y1, name: 'y m', axisLine: { onZero: false }, axisLabel: { formatter: (v) => num(v, 0) }, splitLine: { show: false } },
        visualMap: visual('speed'),
        series: mapSeries,
      });
      select.addEventListener('change', () => map.setOption({ visualMap: visual(select.value) }));

      const along = (field, title, unit) => chart(right, field + '-' + c.circuit + '-' + c.direction, 260, {
        title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
        tooltip: { trigger: 'axis', valueFormatter: (v) => num(v, 2) + ' ' + unit },
        legend: { type: 'scroll', bottom: 0, data: names },
        grid: { left: 55, right: 20, top: 30, bottom: 60 },
        xAxis: { type: 'value', name: 'm along the lap', nameLocation: 'middle', nameGap: 24, min: 0, max: 'dataMax' },
        yAxis: { type: 'value', name: unit, scale: field === 'lateral' },
        dataZoom: [{ type: 'inside' }],
        series: c.runs.map((r, i) => ({ name: names[i], type: 'line', showSymbol: false, sampling: 'lttb', lineStyle: { width: 1.5 }, itemStyle: { color: colourOf(r.label) }, data: r.progress.map((p, k) => [p, r[field][k]]) })),
      });
      const dev = along('lateral', 'Offset from the centre line along the lap (left +)', 'm');
      const speed = along('v', 'Speed along the lap', 'm/s');
      // One legend for the three charts of a circuit.
      const group = [map, dev, speed];
      group.forEach((src) => src.on('legendselectchanged', (e) => {
        group.forEach((dst) => {
          if (dst !== src) dst.dispatchAction({ type: e.selected[e.name] ? 'legendSelect' : 'legendUnSelect', name: e.name });
        });
      }));
    }
  }

  function latency(run, col) {
    const rows = run.latency || [];
    if (!rows.length) {
      note(col, 'No latency measurements in results.json.');
      return;
    }
    const stats = [['min_ms', 'min'], ['median_ms', 'median'], ['p90_ms', 'p90'], ['p99_ms', 'p99'], ['max_ms', 'max']];
    const models = rows.map((r) => r.model);
    const series = stats.map(([key, name], i) => ({ name: name, type: 'bar', data: rows.map((r) => r[key]), itemStyle: { color: ['#c6dbef', '#6baed6', '#3182bd', '#08519c', '#08306b'][i] } }));
    series.push({ name: 'drive latency (fixed)', type: 'scatter', symbol: 'diamond', symbolSize: 12, data: rows.map((r) => r.fixed_ms), itemStyle: { color: '#e4572e' } });
    chart(col, 'latency', 320, {
      tooltip: { trigger: 'axis', valueFormatter: (v) => num(v, 3) + ' ms' },
      legend: { bottom: 0 },
      grid: { left: 60, right: 20, top: 20, bottom: 70 },
      xAxis: { type: 'category', data: models, axisLabel: { interval: 0, rotate: models.length > 6 ? 30 : 0 } },
      yAxis: { type: 'log', name: 'ms (log)', min: (v) => Math.pow(10, Math.floor(Math.log10(Math.max(v.min, 1e-3)))) },
      series: series,
    });
    col.appendChild(table(['brain', 'runs', 'min ms', 'median ms', 'p90 ms', 'p99 ms', 'max ms', 'drive latency ms'], rows.map((r) => [td(r.model, 'name'), td(r.runs === null ? '-' : r.runs), td(num(r.min_ms, 3)), td(num(r.median_ms, 3)), td(num(r.p90_ms, 3)), td(num(r.p99_ms, 3)), td(num(r.max_ms, 3)), td(num(r.fixed_ms, 2))])));
  }

  // Bars of `field` per layer and model; with `ownField`, each model's own-error figure too, as
  // a line over its bars.
  function layerChart(col, name, models, field, axisName, extra, ownField) {
    const layers = [];
    for (const m of models) for (const l of m.layers) if (!layers.includes(l.layer)) layers.push(l.layer);
    const value = (m, l, f) => { const x = m.layers.find((y) => y.layer === l); return x && x[f] !== undefined ? x[f] : null; };
    const series = models.map((m) => ({ name: m.model, type: 'bar', itemStyle: { color: colourOf(m.model) }, data: layers.map((l) => value(m, l, field)) }));
    const owned = ownField ? models.filter((m) => m.layers.some((l) => l[ownField] !== undefined && l[ownField] !== null)) : [];
    for (const m of owned) {
      series.push({ name: m.model + ' (layer alone)', type: 'line', symbol: 'diamond', symbolSize: 8, lineStyle: { type: 'dashed' }, itemStyle: { color: colourOf(m.model) }, data: layers.map((l) => value(m, l, ownField)) });
    }
    chart(col, name, 300, {
      tooltip: { trigger: 'axis', formatter: (items) => items.map((p) => {
        const m = models.find((x) => p.seriesName === x.model || p.seriesName === x.model + ' (layer alone)');
        const l = (m && m.layers.find((x) => x.layer === p.name)) || {};
        return p.seriesName + ' ' + p.name + ': ' + num(p.value, 3) + (extra ? extra(l) : '');
      }).join('<br>') },
      legend: { bottom: 0 },
      grid: { left: 60, right: 20, top: 20, bottom: 70 },
      xAxis: { type: 'category', data: layers },
      yAxis: { type: 'value', name: axisName },
      series: series,
    });
  }

  function quantization(run, col) {
    const q = run.quantization || [];
    const errors = q.filter((m) => (m.error_layers || []).length).map((m) => ({ model: m.model, layers: m.error_layers, worst: m.worst_layers }));
    const sparse = q.filter((m) => (m.sparsity_layers || []).length).map((m) => ({ model: m.model, layers: m.sparsity_layers }));
    if (!q.length) {
      note(col, 'No optimized model has a report (models/NAME.report.json).');
      return;
    }
    if (errors.length) {
      col.appendChild(el('h4', { text: 'Quantization error per layer: SQNR of each layer\'s output against the float model (higher is better); bars: the error accumulated up to the layer, dashed: the layer alone, where the report has it' }));
      layerChart(col, 'sqnr', errors, 'sqnr_db', 'SQNR dB', (l) => (l.precision ? ' (' + l.precision + ')' : '') + ', cosine ' + num(l.cosine, 5) + ', max |error| ' + num(l.max_abs_error, 4), 'own_sqnr_db');
      col.appendChild(table(['model', 'worst layers (lowest SQNR)'], errors.map((m) => [td(m.model, 'name'), td((m.worst || []).join(', ') || '-')])));
    }
    if (sparse.length) {
      col.appendChild(el('h4', { text: 'Training-time recipes: share of zero weights per layer (their reports hold sparsity and clusters, not a per-layer quantization error)' }));
      layerChart(col, 'sparsity', sparse, 'sparsity', 'zeros', (l) => (l.clusters ? ', at most ' + l.clusters + ' values per channel' : '') + ', ' + l.weights + ' weights');
    }
    const without = q.filter((m) => !(m.error_layers || []).length && !(m.sparsity_layers || []).length);
    if (without.length) note(col, 'No per-layer figures in the reports of: ' + without.map((m) => m.model + (m.note ? ' (' + m.note + ')' : '')).join(', ') + '.');
  }

  function blobUrl(base64, mime) {
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; ++i) bytes[i] = bin.charCodeAt(i);
    return URL.createObjectURL(new Blob([bytes], { type: mime }));
  }

  function videos(run, col) {
    const list = run.videos || [];
    if (!list.length) {
      note(col, 'No videos (pitlane report --videos 0, or none could be made: see the notes).');
      return;
    }
    const grid = el('div', { class: 'videos' });
    col.appendChild(grid);
    for (const v of list) {
      const video = el('video', { controls: '', muted: '', loop: '', playsinline: '', preload: 'auto', width: v.width, height: v.height, 'data-model': v.label });
      video.muted = true;
      video.src = blobUrl(v.data, v.mime);
      const check = v.matches_results ? 'the re-drive matches results.json exactly' : 'the re-drive differs from results.json: ' + v.difference;
      grid.appendChild(el('figure', { class: 'video' }, [
        video,
        el('figcaption', {}, [
          el('strong', { text: v.label }), ' on ' + v.circuit + ' ' + v.direction + ', repetition ' + v.repetition,
          el('br'), 't = ' + num(v.start_s, 1) + ' to ' + num(v.end_s, 1) + ' s of the run (around its largest deviation; the clock in the video starts at the clip), which ended ' + v.termination + ' with driving score ' + num(v.driving_score, 1),
          el('br'), el('span', { class: v.matches_results ? 'ok' : 'warn', text: check }),
          el('br'), el('span', { class: 'small', text: v.codec + ', ' + v.width + 'x' + v.height + ', ' + num(v.bytes / 1024, 0) + ' kB' }),
        ]),
      ]));
    }
  }

  function notes(run, col) {
    const list = run.notes || [];
    if (!list.length) {
      note(col, 'Nothing missing.');
      return;
    }
    col.appendChild(el('ul', {}, list.map((n) => el('li', { text: n }))));
  }

  function differenceSection() {
    const s = el('section', { id: 'differences' }, el('h2', { text: 'Differences (B against A)' }));
    app.appendChild(s);
    nav.appendChild(el('a', { href: '#differences', text: 'Differences' }));
    const list = data.differences || [];
    if (!list.length) {
      note(s, 'The two runs agree on every compared value.');
      return;
    }
    const counts = {};
    for (const d of list) counts[d.section] = (counts[d.section] || 0) + 1;
    note(s, list.length + ' differences: ' + Object.entries(counts).map(([k, n]) => n + ' in ' + k.replace('_', ' ')).join(', ') + '. Highlighted cells below differ; strongly highlighted ones have non-overlapping 95% intervals.');
    const show = (x) => (x === null || x === undefined ? '(absent)' : typeof x === 'number' ? String(Math.round(x * 1e6) / 1e6) : typeof x === 'string' ? x : JSON.stringify(x));
    s.appendChild(table(['section', 'item', 'field', 'A', 'B'], list.map((d) => [td(d.section.replace('_', ' ')), td(d.key), td(d.field), td(show(d.a), d.separated ? 'diff-strong' : 'diff'), td(show(d.b), d.separated ? 'diff-strong' : 'diff')])));
  }

  // ---- the page ------------------------------------------------------------------------------

  const app = document.getElementById('app');
  app.textContent = '';
  app.appendChild(el('header', {}, [el('h1', { text: data.title || 'pitlane report' }), el('p', { class: 'subtitle', text: comparing ? 'Two runs of pitlane study side by side (A left, B right); differences highlighted.' : 'A run of pitlane study: PilotNet and its optimized variants, offline and in closed loop.' })]));
  const nav = el('nav');
  app.appendChild(nav);
  for (const run of runs) {
    for (const r of run.offline || []) colourOf(r.model);
    for (const r of (run.closed_loop || {}).rows || []) colourOf(label(r.model, r.slowdown));
  }

  if (comparing) differenceSection();
  section('overview', 'Study, code and machine', overview);
  section('offline', 'Offline: size, error on the test recordings, latency', offline, 'Errors on normalized labels (as the paper); latency at batch 1, one thread, inference only; drive latency: the fixed latency the closed-loop runs applied.');
  section('closed-loop', 'Closed loop: every variant over all its episodes', closedLoop, 'Mean and 95% interval over circuits, directions and repetitions; the driving score (0 to 100) of each variant against the baseline\'s on the same seeded episodes, with the verdict.');
  section('pareto', 'Latency, driving score and size', pareto);
  section('circuits', 'Trajectories per circuit', circuits);
  section('latency', 'Latency per brain', latency, 'The benchmark\'s summary of each brain\'s inference time on this machine; results.json keeps no single measurements, so this is the summary, not a histogram.');
  section('quantization', 'Per-layer error of the optimized models', quantization);
  section('videos', 'Lap videos', videos, 'Each clip was driven again by this report exactly as the study drove it (same model, circuit, seed and timing) and filmed; the caption says whether the re-drive reproduced the stored metrics.');
  section('notes', 'Notes', notes);

  window.addEventListener('resize', () => charts.forEach((c) => c.chart.resize()));
  window.pitlaneReport = { charts: charts.map((c) => c.name), kind: data.kind };
  document.body.dataset.ready = '1';
})();
