/* B12 timeline: one patient's results, injections, treatment phases and plan, drawn with
 * Chart.js (vendored, global `Chart`). The x axis is a linear count of days since 1970-01-01
 * (UTC) with date tick labels, so no date adapter is needed. Plain browser JavaScript.
 *
 * Data: the #timeline-data JSON block when the server embedded it (a SMART launch), else
 * GET /timeline/data with this page's query. For tests, the Chart instances are exposed as
 * window.timelineCharts, and #timeline carries data-injections and data-lab-points counted
 * from the data given to the charts. */
(function () {
  'use strict';

  const DAY_MS = 86400000;
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const SERIES = {
    B12: { name: 'Serum B12', color: '#1d4ed8', zero: true },
    MMA: { name: 'MMA', color: '#7e22ce', zero: true },
    HB: { name: 'Hb', color: '#0f766e', zero: false },
    MCV: { name: 'MCV', color: '#a15c07', zero: false },
  };
  const COLORS = {
    injection: '#0e7490',
    lab: '#b54708',
    outOfRange: '#d92d20',
    reference: 'rgba(22, 163, 74, 0.11)',
    referenceEdge: 'rgba(22, 163, 74, 0.55)',
    today: '#475467',
    doseLine: 'rgba(14, 116, 144, 0.16)',
  };
  const PHASES = {
    LOADING: { label: 'Loading', fill: 'rgba(247, 144, 9, 0.13)', swatch: 'rgba(247, 144, 9, 0.32)', text: '#93370d' },
    MAINTENANCE: { label: 'Maintenance', fill: 'rgba(97, 114, 243, 0.10)', swatch: 'rgba(97, 114, 243, 0.28)', text: '#3538cd' },
  };
  const TESTS = {
    B12: 'Serum B12', CBC: 'CBC', RETIC: 'Reticulocytes', FOLATE: 'Serum folate',
    FERRITIN: 'Ferritin', IF_AB: 'Intrinsic factor antibody', PCA: 'Parietal cell antibody',
    MMA: 'MMA', HCY: 'Homocysteine', TSH: 'TSH', POTASSIUM: 'Potassium',
  };

  const $ = (selector) => document.querySelector(selector);

  function h(tag, props, children) {
    const node = document.createElement(tag);
    const p = props || {};
    if (p.className) node.className = p.className;
    if (p.text !== undefined && p.text !== null) node.textContent = String(p.text);
    for (const [name, value] of Object.entries(p.attrs || {})) node.setAttribute(name, String(value));
    for (const [name, value] of Object.entries(p.dataset || {})) node.dataset[name] = String(value);
    for (const child of children || []) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  // ---------------------------------------------------------------- dates as day numbers

  function day(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso));
    return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS : NaN;
  }

  function parts(dayNumber) {
    const d = new Date(Math.round(dayNumber) * DAY_MS);
    return { y: d.getUTCFullYear(), m: d.getUTCMonth(), d: d.getUTCDate() };
  }

  function fmtDay(dayNumber) {
    const p = parts(dayNumber);
    return `${p.d} ${MONTHS[p.m]} ${p.y}`;
  }

  const fmt = (iso) => fmtDay(day(iso));

  function relative(days) {
    if (days === 0) return 'today';
    if (days === 1) return 'tomorrow';
    if (days === -1) return 'yesterday';
    return days > 0 ? `in ${days} days` : `${-days} days ago`;
  }

  function testName(code) {
    return TESTS[code] || code;
  }

  function referenceText(low, high, unit) {
    if (low !== null && high !== null) return `${low}–${high} ${unit}`;
    if (low !== null) return `≥ ${low} ${unit}`;
    if (high !== null) return `≤ ${high} ${unit}`;
    return 'none';
  }

  // ---------------------------------------------------------------- the shared x axis

  /** Month-aligned (or week-aligned) ticks that fit the chart's width. */
  function timeTicks(min, max, width) {
    const room = Math.max(2, Math.floor(width / 72));
    const span = max - min;
    if (span <= 75) {
      const step = [1, 2, 7, 14, 28].find((s) => span / s <= room) || 28;
      // weeks start on Mondays: day 0 (1 Jan 1970) was a Thursday
      const first = step >= 7 ? Math.ceil((min - 4) / 7) * 7 + 4 : Math.ceil(min);
      const ticks = [];
      for (let v = first; v <= max; v += step) ticks.push({ value: v, kind: 'day' });
      return ticks;
    }
    const step = [1, 2, 3, 6, 12, 24, 60].find((s) => span / 30.4 / s <= room) || 60;
    const start = parts(min);
    const ticks = [];
    for (let i = 0; i < 2000; i += 1) {
      const y = start.y + Math.floor((start.m + i) / 12);
      const m = (start.m + i) % 12;
      const v = Date.UTC(y, m, 1) / DAY_MS;
      if (v > max) break;
      if (v >= min && (y * 12 + m) % step === 0) ticks.push({ value: v, kind: step >= 12 ? 'year' : 'month' });
    }
    return ticks;
  }

  function tickLabel(ticks, value) {
    const tick = ticks.find((t) => t.value === value);
    const p = parts(value);
    if (!tick || tick.kind === 'day') return `${p.d} ${MONTHS[p.m]}`;
    if (tick.kind === 'year') return String(p.y);
    return `${MONTHS[p.m]} ${p.y}`;
  }

  function xScale(range) {
    let ticks = [];
    return {
      type: 'linear',
      min: range.min,
      max: range.max,
      afterBuildTicks(axis) {
        ticks = timeTicks(axis.min, axis.max, axis.chart.chartArea ? axis.chart.chartArea.right - axis.chart.chartArea.left : axis.chart.width - 80);
        axis.ticks = ticks.map((t) => ({ value: t.value }));
      },
      ticks: {
        autoSkip: false,
        maxRotation: 0,
        font: { size: 11 },
        callback: (value) => tickLabel(ticks, value),
      },
      grid: { color: '#eaecf0', drawTicks: true },
      border: { color: '#d0d5dd' },
    };
  }

  // ---------------------------------------------------------------- backgrounds (inline plugin)

  /** Phases as background bands, the reference band, dose lines, due-lab windows and today. */
  function backdrop(spec) {
    return {
      id: 'b12Backdrop',
      beforeDatasetsDraw(chart) {
        const { ctx, chartArea: a, scales } = chart;
        const x = scales.x;
        const y = scales.y;
        ctx.save();
        ctx.beginPath();
        ctx.rect(a.left, a.top, a.right - a.left, a.bottom - a.top);
        ctx.clip();
        for (const p of spec.phases) {
          const style = PHASES[p.phase];
          if (!style) continue;
          const x1 = x.getPixelForValue(day(p.start));
          const x2 = x.getPixelForValue(day(p.end));
          ctx.fillStyle = style.fill;
          ctx.fillRect(x1, a.top, Math.max(x2 - x1, 2), a.bottom - a.top);
          if (spec.phaseLabels) {
            ctx.fillStyle = style.text;
            ctx.font = '600 11px system-ui, sans-serif';
            ctx.textBaseline = 'top';
            ctx.fillText(style.label, Math.max(x1, a.left) + 4, a.top + 3);
          }
        }
        if (spec.refLow !== null || spec.refHigh !== null) {
          const top = spec.refHigh !== null ? y.getPixelForValue(spec.refHigh) : a.top;
          const bottom = spec.refLow !== null ? y.getPixelForValue(spec.refLow) : a.bottom;
          ctx.fillStyle = COLORS.reference;
          ctx.fillRect(a.left, top, a.right - a.left, bottom - top);
          ctx.strokeStyle = COLORS.referenceEdge;
          ctx.lineWidth = 1;
          ctx.setLineDash([4, 3]);
          for (const [edge, value] of [[top, spec.refHigh], [bottom, spec.refLow]]) {
            if (value === null) continue;
            ctx.beginPath();
            ctx.moveTo(a.left, edge);
            ctx.lineTo(a.right, edge);
            ctx.stroke();
          }
          ctx.setLineDash([]);
        }
        for (const d of spec.doseLines || []) {
          const px = x.getPixelForValue(d);
          ctx.strokeStyle = COLORS.doseLine;
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(px, a.top);
          ctx.lineTo(px, a.bottom);
          ctx.stroke();
        }
        for (const w of spec.windows || []) {
          const py = y.getPixelForValue(w.y);
          ctx.strokeStyle = COLORS.lab;
          ctx.globalAlpha = 0.55;
          ctx.lineWidth = 3;
          ctx.lineCap = 'round';
          ctx.beginPath();
          ctx.moveTo(x.getPixelForValue(w.from), py);
          ctx.lineTo(x.getPixelForValue(w.to), py);
          ctx.stroke();
          ctx.globalAlpha = 1;
        }
        const t = x.getPixelForValue(spec.today);
        ctx.strokeStyle = COLORS.today;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([5, 4]);
        ctx.beginPath();
        ctx.moveTo(t, a.top);
        ctx.lineTo(t, a.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        if (spec.todayLabel) {
          ctx.fillStyle = COLORS.today;
          ctx.font = '600 11px system-ui, sans-serif';
          ctx.textBaseline = 'bottom';
          const label = 'Today';
          const width = ctx.measureText(label).width;
          const left = t + 4 + width > a.right ? t - 4 - width : t + 4;
          ctx.fillText(label, left, a.bottom - 2);
        }
        ctx.restore();
      },
    };
  }

  // ---------------------------------------------------------------- charts

  function yAxisWidth(narrow) {
    return (axis) => { axis.width = narrow ? 58 : 76; };
  }

  function baseOptions(range, narrow) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      normalized: true,
      layout: { padding: { right: 12, top: 4 } },
      interaction: { mode: 'nearest', intersect: true },
      scales: { x: xScale(range) },
      plugins: {
        legend: { display: false },
        tooltip: {
          backgroundColor: 'rgba(16, 24, 40, 0.92)',
          padding: 8,
          displayColors: false,
        },
      },
    };
  }

  function figure(title, note, height, label) {
    const canvas = h('canvas', { attrs: { role: 'img', 'aria-label': label } }, [label]);
    const box = h('div', { className: 'chart-box' }, [canvas]);
    box.style.height = `${height}px`; // a property, not a style attribute: the CSP allows no inline styles
    const fig = h('figure', { className: 'chart' }, [
      h('figcaption', { className: 'chart__title' }, [
        h('span', { className: 'chart__name', text: title }),
        note ? h('span', { className: 'chart__note', text: note }) : null,
      ]),
      box,
    ]);
    $('#charts').append(fig);
    return canvas;
  }

  function dueGroups(data) {
    const groups = new Map();
    for (const lab of data.dueLabs) {
      const key = `${lab.from}|${lab.to || ''}`;
      if (!groups.has(key)) groups.set(key, { from: lab.from, to: lab.to, tests: [] });
      const name = testName(lab.test);
      if (!groups.get(key).tests.includes(name)) groups.get(key).tests.push(name);
    }
    return [...groups.values()];
  }

  function treatmentChart(data, range, narrow) {
    const groups = dueGroups(data);
    const rows = narrow ? { 2: 'Doses', 1: 'Labs' } : { 2: 'Injections', 1: 'Labs due' };
    const label = `Treatment: ${data.doses.length} injections, ${data.plannedDoses.length} planned, ` +
      `${data.dueLabs.length} lab tests due`;
    const canvas = figure('Injections and plan', null, narrow ? 118 : 130, label);
    const options = baseOptions(range, narrow);
    options.scales.y = {
      min: 0.3,
      max: 3.1,
      afterBuildTicks(axis) { axis.ticks = [{ value: 1 }, { value: 2 }]; },
      afterFit: yAxisWidth(narrow),
      ticks: { callback: (v) => rows[v] || '', font: { size: 11, weight: '600' } },
      grid: { color: '#f2f4f7' },
      border: { display: false },
    };
    options.plugins.tooltip.callbacks = {
      title: () => '',
      label(item) {
        const raw = item.raw;
        if (raw.kind === 'dose') return `Injection given ${fmtDay(raw.x)}`;
        if (raw.kind === 'planned') return `Planned dose ${fmtDay(raw.x)} (${relative(raw.x - day(data.asOf))})`;
        const when = raw.to ? `${fmtDay(raw.x)} to ${fmt(raw.to)}` : fmtDay(raw.x);
        return `Due ${when}: ${raw.tests.join(', ')}`;
      },
    };
    const spec = {
      phases: data.phases, refLow: null, refHigh: null, today: day(data.asOf),
      phaseLabels: true, todayLabel: true,
      windows: groups.filter((g) => g.to).map((g) => ({ from: day(g.from), to: day(g.to), y: 1 })),
    };
    return new Chart(canvas, {
      type: 'scatter',
      data: {
        datasets: [
          {
            label: 'Injection given',
            data: data.doses.map((d) => ({ x: day(d), y: 2, kind: 'dose' })),
            pointStyle: 'triangle',
            pointRadius: narrow ? 5 : 6,
            pointHoverRadius: 8,
            backgroundColor: COLORS.injection,
            borderColor: COLORS.injection,
          },
          {
            label: 'Planned dose',
            data: data.plannedDoses.map((d) => ({ x: day(d), y: 2, kind: 'planned' })),
            pointStyle: 'triangle',
            pointRadius: narrow ? 6 : 7,
            pointHoverRadius: 9,
            borderWidth: 2,
            backgroundColor: '#ffffff',
            borderColor: COLORS.injection,
          },
          {
            label: 'Lab due',
            data: groups.map((g) => ({ x: day(g.from), y: 1, kind: 'lab', tests: g.tests, to: g.to })),
            pointStyle: 'rectRot',
            pointRadius: narrow ? 6 : 7,
            pointHoverRadius: 9,
            borderWidth: 2,
            backgroundColor: '#ffffff',
            borderColor: COLORS.lab,
          },
        ],
      },
      options,
      plugins: [backdrop(spec)],
    });
  }

  function labChart(series, data, range, narrow) {
    const style = SERIES[series.kind] || { name: series.kind, color: '#344054', zero: false };
    const low = series.normalLow;
    const high = series.normalHigh;
    const outside = (v) => (low !== null && v < low) || (high !== null && v > high);
    const points = series.points.map(([d, v]) => ({ x: day(d), y: v }));
    const values = points.map((p) => p.y);
    const bounds = [...values, ...[low, high].filter((v) => v !== null)];
    let lo = Math.min(...bounds);
    let hi = Math.max(...bounds);
    const pad = Math.max((hi - lo) * 0.18, Math.abs(hi) * 0.05, 0.1);
    lo -= pad;
    hi += pad;
    const last = series.points[series.points.length - 1];
    const reference = referenceText(low, high, series.unit);
    const label = `${style.name} (${series.unit}): ${plural(points.length, 'result')}, latest ${last[1]} ` +
      `${series.unit} on ${fmt(last[0])}; reference ${reference}`;
    const canvas = figure(`${style.name} (${series.unit})`, `Reference ${reference}`, narrow ? 170 : 190, label);
    const options = baseOptions(range, narrow);
    options.scales.y = {
      min: style.zero ? 0 : undefined,
      suggestedMin: style.zero ? 0 : lo,
      suggestedMax: hi,
      afterFit: yAxisWidth(narrow),
      title: { display: !narrow, text: series.unit, font: { size: 11 } },
      ticks: { maxTicksLimit: 5, font: { size: 11 } },
      grid: { color: '#f2f4f7' },
      border: { display: false },
    };
    options.plugins.tooltip.callbacks = {
      title: (items) => fmtDay(items[0].parsed.x),
      label(item) {
        const v = item.parsed.y;
        let flag = '';
        if (low !== null && v < low) flag = ' (low)';
        else if (high !== null && v > high) flag = ' (high)';
        return `${style.name}: ${v} ${series.unit}${flag}`;
      },
    };
    const colors = points.map((p) => (outside(p.y) ? COLORS.outOfRange : style.color));
    return new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [{
          label: style.name,
          data: points,
          borderColor: style.color,
          backgroundColor: style.color,
          borderWidth: 2,
          tension: 0,
          pointRadius: 4.5,
          pointHoverRadius: 7,
          pointBackgroundColor: colors,
          pointBorderColor: colors,
        }],
      },
      options,
      plugins: [backdrop({
        phases: data.phases, refLow: low, refHigh: high, today: day(data.asOf),
        doseLines: data.doses.map(day),
      })],
    });
  }

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? '' : 's'}`;
  }

  /** The x range: every date on the page, with a margin, and today. */
  function timeRange(data) {
    const days = [day(data.asOf)];
    for (const s of data.series) for (const [d] of s.points) days.push(day(d));
    for (const d of [...data.doses, ...data.plannedDoses]) days.push(day(d));
    for (const lab of data.dueLabs) {
      days.push(day(lab.from));
      if (lab.to) days.push(day(lab.to));
    }
    for (const p of data.phases) days.push(day(p.start), day(p.end));
    const good = days.filter(Number.isFinite);
    let min = Math.min(...good);
    let max = Math.max(...good);
    if (max - min < 28) {
      min -= 14;
      max += 14;
    }
    const pad = Math.max(4, Math.round((max - min) * 0.035));
    return { min: min - pad, max: max + pad };
  }

  // ---------------------------------------------------------------- legend, facts, tables

  function swatch(kind) {
    const ns = 'http://www.w3.org/2000/svg';
    const s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 14');
    s.setAttribute('width', '24');
    s.setAttribute('height', '14');
    s.setAttribute('aria-hidden', 'true');
    const add = (tag, attrs) => {
      const el = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
      s.append(el);
    };
    switch (kind) {
      case 'dose': add('path', { d: 'M12 2 18 12H6z', fill: COLORS.injection }); break;
      case 'planned': add('path', { d: 'M12 2.5 17.5 11.5h-11z', fill: '#fff', stroke: COLORS.injection, 'stroke-width': 1.8 }); break;
      case 'lab':
        add('line', { x1: 2, y1: 7, x2: 22, y2: 7, stroke: COLORS.lab, 'stroke-width': 3, opacity: 0.5, 'stroke-linecap': 'round' });
        add('path', { d: 'M12 2 17 7 12 12 7 7z', fill: '#fff', stroke: COLORS.lab, 'stroke-width': 1.8 });
        break;
      case 'result':
        add('line', { x1: 1, y1: 10, x2: 23, y2: 4, stroke: '#1d4ed8', 'stroke-width': 2 });
        add('circle', { cx: 12, cy: 7, r: 3.2, fill: '#1d4ed8' });
        break;
      case 'outside': add('circle', { cx: 12, cy: 7, r: 4, fill: COLORS.outOfRange }); break;
      case 'reference':
        add('rect', { x: 1, y: 2, width: 22, height: 10, fill: COLORS.reference, stroke: COLORS.referenceEdge, 'stroke-dasharray': '3 2' });
        break;
      case 'LOADING':
      case 'MAINTENANCE':
        add('rect', { x: 1, y: 1, width: 22, height: 12, fill: PHASES[kind].swatch });
        break;
      case 'today': add('line', { x1: 12, y1: 0, x2: 12, y2: 14, stroke: COLORS.today, 'stroke-width': 1.6, 'stroke-dasharray': '3 2' }); break;
      default: break;
    }
    return s;
  }

  function renderLegend() {
    const items = [
      ['dose', 'Injection given'], ['planned', 'Planned dose'], ['lab', 'Lab due (window)'],
      ['result', 'Result'], ['outside', 'Outside reference'], ['reference', 'Reference range'],
      ['LOADING', 'Loading phase'], ['MAINTENANCE', 'Maintenance phase'], ['today', 'Today'],
    ];
    $('#legend').replaceChildren(...items.map(([kind, text]) =>
      h('li', { dataset: { kind } }, [swatch(kind), h('span', { text })])));
  }

  function renderFacts(data) {
    const today = day(data.asOf);
    const facts = [];
    const last = data.doses[data.doses.length - 1];
    facts.push(['Injections', data.doses.length
      ? `${data.doses.length}, last ${fmt(last)} (${relative(day(last) - today)})`
      : 'none recorded']);
    // The plan behind the cards (nextDose): an overdue dose says since when it was due.
    const next = data.nextDose;
    let nextText = 'none planned';
    if (next && next.overdue) {
      nextText = `${fmt(next.on)} (${relative(day(next.on) - today)}): overdue since ${fmt(next.due)} (${relative(day(next.due) - today)})`;
    } else if (next) {
      nextText = `${fmt(next.on)} (${relative(day(next.on) - today)})`;
    }
    facts.push(['Next dose', nextText]);
    const due = dueGroups(data);
    facts.push(['Labs due', due.length
      ? `${data.dueLabs.length}; next ${fmt(due.map((g) => g.from).sort()[0])}`
      : 'none']);
    const current = data.phases.find((p) => day(p.start) <= today && day(p.end) >= today);
    facts.push(['Phase', current
      ? `${PHASES[current.phase] ? PHASES[current.phase].label : current.phase} since ${fmt(current.start)}`
      : 'not on B12 treatment']);
    $('#facts').replaceChildren(...facts.map(([k, v]) => h('div', { className: 'fact' }, [
      h('dt', { text: k }), h('dd', { text: v })])));
  }

  function table(caption, head, rows) {
    return h('table', {}, [
      h('caption', { text: caption }),
      h('thead', {}, [h('tr', {}, head.map((c) => h('th', { text: c, attrs: { scope: 'col' } })))]),
      h('tbody', {}, rows.length
        ? rows.map((r) => h('tr', {}, r.map((c) => h('td', { text: c }))))
        : [h('tr', {}, [h('td', { text: 'None', attrs: { colspan: head.length } })])]),
    ]);
  }

  function renderTables(data) {
    const results = [];
    for (const s of data.series) {
      const name = (SERIES[s.kind] || { name: s.kind }).name;
      for (const [d, v] of s.points) {
        results.push([fmt(d), name, `${v} ${s.unit}`, referenceText(s.normalLow, s.normalHigh, s.unit), d]);
      }
    }
    results.sort((a, b) => (a[4] < b[4] ? -1 : a[4] > b[4] ? 1 : 0));
    $('#tables').replaceChildren(
      table('Results', ['Date', 'Test', 'Value', 'Reference'], results.map((r) => r.slice(0, 4))),
      table('Injections given', ['Date'], data.doses.map((d) => [fmt(d)])),
      table('Planned doses', ['Date'], data.plannedDoses.map((d) => [fmt(d)])),
      table('Labs due', ['Test', 'From', 'To'], data.dueLabs.map((l) => [testName(l.test), fmt(l.from), l.to ? fmt(l.to) : '—'])),
      table('Treatment phases', ['Phase', 'Start', 'End'], data.phases.map((p) =>
        [PHASES[p.phase] ? PHASES[p.phase].label : p.phase, fmt(p.start), fmt(p.end)])),
    );
  }

  // ---------------------------------------------------------------- calendar

  /* The reminder calendar comes with the data (the same plan as the charts), so the link
   * needs no second request and works after a SMART launch, where the page has no token. */
  function renderCalendar(data) {
    const link = $('#calendar');
    if (!data.calendar) return;
    const blob = new Blob([data.calendar], { type: 'text/calendar' });
    link.href = URL.createObjectURL(blob);
    link.download = `b12-plan-${String(data.patient).replace(/[^A-Za-z0-9._-]/g, '_')}.ics`;
    const events = (data.calendar.match(/^BEGIN:VEVENT/gm) || []).length;
    link.dataset.events = String(events);
    link.hidden = events === 0;
  }

  // ---------------------------------------------------------------- page

  function render(data) {
    Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
    Chart.defaults.color = '#475467';
    const section = $('#timeline');
    section.hidden = false;
    const profile = String(data.profile || '').toUpperCase();
    $('#subtitle').textContent = `Patient ${data.patient} · as of ${fmt(data.asOf)}${profile ? ` · ${profile} profile` : ''}`;
    document.title = `B12 timeline · ${data.patient}`;
    renderFacts(data);
    renderLegend();
    const narrow = section.clientWidth < 560;
    const range = timeRange(data);
    const treatment = treatmentChart(data, range, narrow);
    const labs = [];
    const empty = [];
    for (const series of data.series) {
      if (series.points.length) labs.push(labChart(series, data, range, narrow));
      else empty.push(`${(SERIES[series.kind] || { name: series.kind }).name} (reference ${referenceText(series.normalLow, series.normalHigh, series.unit)})`);
    }
    const none = $('#no-results');
    none.hidden = empty.length === 0;
    none.textContent = empty.length ? `No results on file: ${empty.join('; ')}.` : '';
    renderTables(data);
    renderCalendar(data);

    const charts = [treatment, ...labs];
    window.timelineCharts = charts;
    section.dataset.injections = String(treatment.data.datasets[0].data.length);
    section.dataset.planned = String(treatment.data.datasets[1].data.length);
    section.dataset.dueLabs = String(treatment.data.datasets[2].data.reduce((n, p) => n + p.tests.length, 0));
    section.dataset.labPoints = String(labs.reduce((n, c) => n + c.data.datasets[0].data.length, 0));
    section.dataset.charts = String(charts.length);
    section.dataset.patient = String(data.patient);
    section.dataset.ready = 'true';
    $('#status').hidden = true;
  }

  function problemText(body, text) {
    if (body && body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) {
      const parts = body.issue.map((i) => i.diagnostics || i.code).filter(Boolean);
      if (parts.length) return parts.join('; ');
    }
    return (text || '').slice(0, 300) || 'no details';
  }

  function fail(message) {
    $('#status').hidden = true;
    $('#subtitle').textContent = 'No timeline';
    const box = $('#error');
    box.textContent = message;
    box.hidden = false;
    document.body.dataset.failed = 'true';
  }

  async function main() {
    let data = JSON.parse(document.getElementById('timeline-data').textContent);
    if (data) {
      // a SMART launch: the data came with the page; drop the one-time code from the address
      if (location.search) history.replaceState(null, '', location.pathname);
    } else {
      const query = new URLSearchParams(location.search);
      if (!query.get('patient')) {
        fail('Open this page from a card link, or with ?patient=<id> (and &fhirServer=<base URL>).');
        return;
      }
      let response;
      let text = '';
      try {
        response = await fetch(`/timeline/data?${query.toString()}`, { headers: { Accept: 'application/json' } });
        text = await response.text();
      } catch (err) {
        fail(`The timeline could not be loaded: ${err && err.message ? err.message : err}`);
        return;
      }
      let body = null;
      try {
        body = JSON.parse(text);
      } catch (_err) {
        body = null;
      }
      if (!response.ok || !body) {
        fail(`The timeline could not be loaded (HTTP ${response.status}): ${problemText(body, text)}`);
        return;
      }
      data = body;
    }
    try {
      render(data);
    } catch (err) {
      fail(`The timeline could not be drawn: ${err && err.message ? err.message : err}`);
      throw err;
    }
  }

  main();
}());
