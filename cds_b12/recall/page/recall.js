/* B12 recall worklist: counts, a chart of actions due per week (Chart.js, vendored and
 * inlined) and a sortable, filterable, paged table, all from window.RECALL, which
 * `cds-b12 recall --format html` embeds. Text goes in with textContent only.
 * For tests: window.recallChart is the Chart, and #rows carries data-total and data-shown. */
(function () {
  'use strict';

  const PAGE_SIZE = 200;
  const RANK = { critical: 0, warning: 1, info: 2 };
  const LEVELS = ['critical', 'warning', 'info'];
  const COLORS = { critical: '#b42318', warning: '#dc6803', info: '#175cd3' };
  const COLUMNS = [
    ['indicator', 'Urgency'], ['due', 'Due'], ['name', 'Name'], ['identifier', 'Identifier'],
    ['birth_date', 'Born'], ['rule', 'Rule'], ['summary', 'Action'], ['schedule', 'Calendar'],
  ];
  const DAY_MS = 86400000;

  const $ = (selector) => document.querySelector(selector);
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const { meta, rows } = window.RECALL;
  const state = { sort: null, dir: 1, page: 0, shown: rows };

  function mondayOf(iso) {
    const day = new Date(iso + 'T00:00:00Z');
    const back = (day.getUTCDay() + 6) % 7;
    return new Date(day.getTime() - back * DAY_MS).toISOString().slice(0, 10);
  }

  function counts() {
    const totals = $('#totals');
    LEVELS.forEach((level) => {
      const n = rows.filter((r) => r.indicator === level).length;
      const box = el('span', { class: `total total--${level}`, 'data-testid': `total-${level}` });
      box.append(el('b', {}, String(n)), document.createTextNode(level));
      totals.append(box);
    });
    const byRule = new Map();
    rows.forEach((r) => {
      const counts = byRule.get(r.rule) || { critical: 0, warning: 0, info: 0, patients: new Set() };
      counts[r.indicator] += 1;
      counts.patients.add(r.patient);
      byRule.set(r.rule, counts);
    });
    const table = $('#counts');
    const head = el('tr');
    ['Rule', 'Critical', 'Warning', 'Info', 'Patients'].forEach((h, i) => head.append(el('th', i ? { class: 'num', scope: 'col' } : { scope: 'col' }, h)));
    table.appendChild(el('thead')).append(head);
    const body = table.appendChild(el('tbody'));
    [...byRule.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).forEach((rule) => {
      const c = byRule.get(rule);
      const tr = el('tr', { 'data-rule': rule });
      tr.append(el('th', { scope: 'row' }, rule));
      LEVELS.forEach((level) => tr.append(el('td', { class: 'num' }, String(c[level]))));
      tr.append(el('td', { class: 'num' }, String(c.patients.size)));
      body.append(tr);
      $('#rule').append(el('option', { value: rule }, rule));
    });
  }

  function chart() {
    const weeks = new Map();
    let undated = 0;
    rows.forEach((r) => {
      if (!r.due) { undated += 1; return; }
      const week = mondayOf(r.due);
      const counts = weeks.get(week) || { critical: 0, warning: 0, info: 0 };
      counts[r.indicator] += 1;
      weeks.set(week, counts);
    });
    const labels = [...weeks.keys()].sort();
    const today = mondayOf(meta.asOf);
    $('#chart-note').textContent = `Weeks start on Monday; weeks before ${today} hold overdue actions.`
      + (undated ? ` ${undated} undated action${undated === 1 ? '' : 's'} not shown.` : '');
    window.recallChart = new Chart($('#weeks'), {
      type: 'bar',
      data: {
        labels,
        datasets: LEVELS.map((level) => ({
          label: level, backgroundColor: COLORS[level], stack: 'due',
          data: labels.map((w) => weeks.get(w)[level]),
        })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { stacked: true, title: { display: true, text: 'week starting' } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  function header() {
    const tr = $('#head');
    COLUMNS.filter(([key]) => key !== 'schedule' || meta.schedule).forEach(([key, title]) => {
      const th = el('th', { scope: 'col', 'data-key': key });
      const button = el('button', { type: 'button', 'data-testid': `sort-${key}` }, title);
      button.addEventListener('click', () => {
        state.dir = state.sort === key ? -state.dir : 1;
        state.sort = key;
        tr.querySelectorAll('th').forEach((h) => h.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
        update();
      });
      th.append(button);
      tr.append(th);
    });
  }

  function compare(key) {
    if (key === 'indicator') return (a, b) => RANK[a.indicator] - RANK[b.indicator];
    if (key === 'due') return (a, b) => (a.due || '9999').localeCompare(b.due || '9999');
    return (a, b) => String(a[key]).localeCompare(String(b[key]), 'en', { numeric: true });
  }

  function update() {
    const text = $('#search').value.trim().toLowerCase();
    const rule = $('#rule').value;
    const level = $('#indicator').value;
    const overdue = $('#overdue').checked;
    let shown = rows.filter((r) => (!rule || r.rule === rule) && (!level || r.indicator === level)
      && (!overdue || r.overdue)
      && (!text || `${r.name} ${r.identifier} ${r.patient} ${r.summary}`.toLowerCase().includes(text)));
    if (state.sort) {
      const cmp = compare(state.sort);
      shown = shown.map((r, i) => [r, i]).sort((a, b) => state.dir * cmp(a[0], b[0]) || a[1] - b[1]).map(([r]) => r);
    }
    state.shown = shown;
    state.page = Math.min(state.page, Math.max(0, Math.ceil(shown.length / PAGE_SIZE) - 1));
    draw();
  }

  function draw() {
    const body = $('#body');
    body.replaceChildren();
    const start = state.page * PAGE_SIZE;
    state.shown.slice(start, start + PAGE_SIZE).forEach((r) => {
      const tr = el('tr', { 'data-patient': r.patient, 'data-rule': r.rule });
      const badge = el('td');
      badge.append(el('span', { class: `badge badge--${r.indicator}` }, r.indicator));
      tr.append(badge);
      tr.append(el('td', r.overdue ? { class: 'overdue' } : {}, r.due ? (r.overdue ? `${r.due} (overdue)` : r.due) : ''));
      tr.append(el('td', {}, r.name || r.patient), el('td', {}, r.identifier), el('td', {}, r.birth_date));
      tr.append(el('td', {}, r.rule), el('td', { class: 'summary' }, r.summary));
      if (meta.schedule) {
        const cell = el('td');
        if (r.schedule) cell.append(el('a', { href: r.schedule, download: '' }, '.ics'));
        tr.append(cell);
      }
      body.append(tr);
    });
    const pages = Math.max(1, Math.ceil(state.shown.length / PAGE_SIZE));
    $('#shown').textContent = `${state.shown.length} of ${rows.length} actions shown`;
    $('#page').textContent = `page ${state.page + 1} of ${pages}`;
    $('#prev').disabled = state.page === 0;
    $('#next').disabled = state.page >= pages - 1;
    const table = document.querySelector('[data-testid="rows"]');
    table.dataset.total = String(rows.length);
    table.dataset.shown = String(state.shown.length);
  }

  $('#subtitle').textContent = `As of ${meta.asOf} · ${rows.length} actions for `
    + `${new Set(rows.map((r) => r.patient)).size} patients · ${meta.profile.toUpperCase()} profile`;
  counts();
  header();
  ['#search', '#rule', '#indicator', '#overdue'].forEach((id) => $(id).addEventListener('input', () => { state.page = 0; update(); }));
  $('#prev').addEventListener('click', () => { state.page -= 1; draw(); });
  $('#next').addEventListener('click', () => { state.page += 1; draw(); });
  chart();
  update();
  document.body.dataset.ready = 'true';
}());
