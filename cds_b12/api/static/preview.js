/* Card preview: builds a CDS Hooks request, posts it to the real service endpoint, renders
 * the cards as an EHR does, and sends real feedback. Plain browser JavaScript, no build step.
 * HTML from card Markdown is always sanitised by DOMPurify before it reaches the page. */
(function () {
  'use strict';

  const ORDER_HOOKS = ['order-select', 'order-sign'];
  const HELD_EXTENSION = 'cds-b12.held'; // the cards the service held back (api/fatigue.py)
  const INDICATORS = {
    critical: { label: 'Critical', rank: 0 },
    warning: { label: 'Warning', rank: 1 },
    info: { label: 'Info', rank: 2 },
  };
  const PRODUCT_NAMES = {
    'cyanocobalamin-im': 'Cyanocobalamin IM',
    'hydroxocobalamin-im': 'Hydroxocobalamin IM',
    'cyanocobalamin-oral': 'Cyanocobalamin oral',
  };
  const EVERY_WORDS = {
    day: 'daily',
    '2-days': 'every other day',
    week: 'weekly',
    month: 'monthly',
    '2-months': 'every 2 months',
    '3-months': 'every 3 months',
  };
  const UNIT_WORDS = { s: 'second', min: 'minute', h: 'hour', d: 'day', wk: 'week', mo: 'month', a: 'year' };
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  const state = { patients: [], drafts: [], service: null, cardCount: 0 };

  // ---------------------------------------------------------------- DOM helpers

  const $ = (selector, root) => (root || document).querySelector(selector);

  /** Build an element: props {className, text, attrs, dataset, on}; children are nodes or text. */
  function h(tag, props, children) {
    const node = document.createElement(tag);
    const p = props || {};
    if (p.className) node.className = p.className;
    if (p.text !== undefined && p.text !== null) node.textContent = String(p.text);
    for (const [name, value] of Object.entries(p.attrs || {})) {
      if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const [name, value] of Object.entries(p.dataset || {})) {
      if (value !== undefined && value !== null) node.dataset[name] = String(value);
    }
    for (const [event, handler] of Object.entries(p.on || {})) node.addEventListener(event, handler);
    for (const child of children || []) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  function svg(tag, attrs, children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    for (const child of children || []) node.append(child);
    return node;
  }

  /** The indicator icon: a stop octagon, a warning triangle, or an information circle. */
  function indicatorIcon(indicator) {
    const common = { viewBox: '0 0 24 24', width: 22, height: 22, 'aria-hidden': 'true', focusable: 'false', class: 'icon' };
    let shape;
    let mark;
    if (indicator === 'critical') {
      shape = svg('polygon', { points: '7.3,1.5 16.7,1.5 22.5,7.3 22.5,16.7 16.7,22.5 7.3,22.5 1.5,16.7 1.5,7.3', fill: 'currentColor' });
      mark = svg('path', { d: 'M12 6.2v7.4M12 16.6v1.2', stroke: '#fff', 'stroke-width': 2.6, 'stroke-linecap': 'round' });
    } else if (indicator === 'warning') {
      shape = svg('path', { d: 'M12 2.2 23 21.5H1z', fill: 'currentColor', 'stroke-linejoin': 'round' });
      mark = svg('path', { d: 'M12 9v6M12 17.8v.4', stroke: '#fff', 'stroke-width': 2.4, 'stroke-linecap': 'round' });
    } else {
      shape = svg('circle', { cx: 12, cy: 12, r: 10.5, fill: 'currentColor' });
      mark = svg('path', { d: 'M12 10.5v7M12 6.6v.4', stroke: '#fff', 'stroke-width': 2.4, 'stroke-linecap': 'round' });
    }
    return svg('svg', common, [shape, mark]);
  }

  // ---------------------------------------------------------------- formatting

  /** "2026-11-21" (or a dateTime) as "21 Nov 2026"; anything unparseable is returned as is. */
  function fmtDate(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ''));
    if (!m) return String(value || '');
    return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
  }

  /** A stored instant as "21 Nov 2026, 14:20:31 UTC" (the store keeps UTC). */
  function fmtInstant(value) {
    const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(String(value || ''));
    if (!m) return String(value || '');
    const zone = /(Z|[+-]\d{2}:?\d{2})$/.exec(value);
    const suffix = !zone || zone[1] === 'Z' || /^\+00:?00$/.test(zone[1]) ? ' UTC' : ` ${zone[1]}`;
    return `${fmtDate(m[1])}, ${m[2]}${suffix}`;
  }

  function conceptText(concept) {
    if (!concept) return '';
    if (concept.text) return concept.text;
    const coding = (concept.coding || []).find((c) => c.display) || (concept.coding || [])[0];
    return coding ? coding.display || coding.code || '' : '';
  }

  function quantityText(q) {
    if (!q || q.value === undefined) return '';
    return `${q.value} ${q.unit || q.code || ''}`.trim();
  }

  function plural(n, word) {
    return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
  }

  /** A FHIR Timing.repeat in words: "daily, 14 doses over 2 weeks". */
  function repeatText(repeat) {
    if (!repeat) return '';
    const parts = [];
    const freq = repeat.frequency || 1;
    const period = repeat.period;
    const unit = repeat.periodUnit;
    if (period !== undefined && unit) {
      const word = UNIT_WORDS[unit] || unit;
      let every;
      if (period === 1) {
        every = { d: 'daily', wk: 'weekly', mo: 'monthly', a: 'yearly', h: 'hourly' }[unit] || `every ${word}`;
      } else {
        every = `every ${period}${repeat.periodMax ? `–${repeat.periodMax}` : ''} ${word}s`;
      }
      parts.push(freq === 1 ? every : `${freq} times ${every}`);
    }
    if (repeat.count) parts.push(plural(repeat.count, 'dose'));
    const bounds = repeat.boundsDuration;
    if (bounds && bounds.value !== undefined) {
      parts.push(`for ${plural(bounds.value, UNIT_WORDS[bounds.code] || bounds.unit || '')}`);
    }
    if (repeat.boundsPeriod && (repeat.boundsPeriod.start || repeat.boundsPeriod.end)) {
      parts.push(periodText(repeat.boundsPeriod));
    }
    return parts.join(', ');
  }

  function periodText(period) {
    if (period.start && period.end) return `${fmtDate(period.start)} to ${fmtDate(period.end)}`;
    if (period.start) return `from ${fmtDate(period.start)}`;
    return `until ${fmtDate(period.end)}`;
  }

  // ---------------------------------------------------------------- suggested resources

  /** A readable rendering of a suggested resource (what an EHR's order preview shows). */
  function renderResource(resource) {
    if (!resource || typeof resource !== 'object') return null;
    if (resource.resourceType === 'MedicationRequest') return renderMedicationRequest(resource);
    if (resource.resourceType === 'ServiceRequest') return renderServiceRequest(resource);
    const what = conceptText(resource.code) || resource.id || '';
    return h('div', { className: 'resource', dataset: { resourceType: resource.resourceType } }, [
      h('span', { className: 'resource__title', text: `${resource.resourceType}${what ? `: ${what}` : ''}` }),
    ]);
  }

  function renderMedicationRequest(mr) {
    const drug = conceptText(mr.medicationCodeableConcept) ||
      (mr.medicationReference && mr.medicationReference.display) || 'Medication';
    const steps = (mr.dosageInstruction || []).map((d) => {
      const dose = ((d.doseAndRate || [])[0] || {}).doseQuantity;
      const facts = [];
      if (dose) facts.push(['Dose', quantityText(dose)]);
      if (d.route) facts.push(['Route', conceptText(d.route)]);
      const schedule = repeatText(d.timing && d.timing.repeat) || conceptText(d.timing && d.timing.code);
      if (schedule) facts.push(['Schedule', schedule]);
      return h('li', { className: 'dosage' }, [
        d.text ? h('span', { className: 'dosage__text', text: d.text }) : null,
        facts.length ? h('span', { className: 'facts' }, facts.map(([k, v]) =>
          h('span', { className: 'fact' }, [h('span', { className: 'fact__key', text: `${k} ` }), v]))) : null,
      ]);
    });
    const start = mr.dispenseRequest && mr.dispenseRequest.validityPeriod &&
      mr.dispenseRequest.validityPeriod.start;
    return h('div', { className: 'resource resource--med', dataset: { resourceType: 'MedicationRequest' } }, [
      h('span', { className: 'resource__title' }, [
        h('span', { className: 'resource__kind', text: 'Medication' }), drug]),
      steps.length ? h('ol', { className: 'dosages' }, steps) : null,
      start ? h('span', { className: 'resource__meta', text: `Starts ${fmtDate(start)}` }) : null,
    ]);
  }

  const PRIORITY_DISPLAY = { routine: 'Routine', urgent: 'Urgent', asap: 'ASAP', stat: 'STAT' };

  function renderServiceRequest(sr) {
    let due = '';
    if (sr.occurrencePeriod) due = `Due ${periodText(sr.occurrencePeriod)}`;
    else if (sr.occurrenceDateTime) due = `Due ${fmtDate(sr.occurrenceDateTime)}`;
    const notes = (sr.note || []).map((n) => n.text).filter(Boolean);
    // The priority as an EHR shows it, routine included (FHIR request-priority displays).
    const priority = sr.priority ? (PRIORITY_DISPLAY[sr.priority] || sr.priority) : '';
    return h('div', { className: 'resource resource--test', dataset: { resourceType: 'ServiceRequest' } }, [
      h('span', { className: 'resource__title' }, [
        h('span', { className: 'resource__kind', text: 'Test' }), conceptText(sr.code) || 'Service request']),
      h('span', { className: 'resource__meta' }, [
        due ? h('span', { className: 'due', text: due }) : null,
        priority ? h('span', {
          className: sr.priority === 'routine' ? 'tag' : 'tag tag--urgent',
          dataset: { testid: 'priority', priority: sr.priority },
          text: priority,
        }) : null,
        notes.length ? h('span', { className: 'note', text: notes.join('; ') }) : null,
      ]),
    ]);
  }

  /** The orders a request carries ("Type/id" -> resource): its draft orders and the
   * prefetched MedicationRequests, so an update can be drawn as a change of one of them. */
  function ordersIn(request) {
    const found = {};
    const add = (r) => {
      if (r && typeof r === 'object' && r.resourceType && r.id) found[`${r.resourceType}/${r.id}`] = r;
    };
    const walk = (item) => {
      if (!item || typeof item !== 'object') return;
      if (Array.isArray(item)) { item.forEach(walk); return; }
      if (item.resourceType === 'Bundle') { (item.entry || []).forEach((e) => walk(e && e.resource)); return; }
      if (item.resourceType) add(item);
    };
    walk(request && request.context && request.context.draftOrders);
    Object.values((request && request.prefetch) || {}).forEach(walk);
    return found;
  }

  function renderAction(action) {
    const type = action.type || 'create';
    const ref = Array.isArray(action.resourceId) ? action.resourceId.join(', ') : action.resourceId;
    const target = action.resource && action.resource.id ? `${action.resource.resourceType}/${action.resource.id}` : '';
    const before = type === 'update' ? (state.orders || {})[target] : null;
    // An update that ends an order is a stop; any other update changes the order in place.
    const change = type === 'update' && action.resource && action.resource.status === 'stopped' ? 'stop' : type;
    let body;
    if (type === 'delete') {
      body = h('div', { className: 'resource' }, [
        h('span', { className: 'resource__title', text: action.description || `Remove ${ref || 'the draft order'}` }),
      ]);
    } else if (change === 'stop') {
      const reason = conceptText(action.resource.statusReason);
      body = h('div', {}, [
        h('span', { className: 'resource__lead', text: `Stop ${target || 'the order'}${reason ? `: ${reason}` : ''}` }),
        renderResource(before || action.resource),
      ]);
    } else {
      const rendered = renderResource(action.resource);
      body = h('div', {}, [
        type === 'update' ? h('span', { className: 'resource__lead', text: `Change ${target || 'the order'}` }) : null,
        before ? h('div', { className: 'change change--was', dataset: { testid: 'change-was' } }, [
          h('span', { className: 'change__label', text: 'Was' }), renderResource(before)]) : null,
        type === 'update' ? h('div', { className: 'change change--now', dataset: { testid: 'change-now' } }, [
          h('span', { className: 'change__label', text: 'Now' }),
          rendered || h('span', { className: 'resource__title', text: action.description || '' })])
          : rendered || h('span', { className: 'resource__title', text: action.description || '' }),
      ]);
    }
    const words = { create: 'New', update: 'Change', delete: 'Remove', stop: 'Stop' };
    return h('li', {
      className: `action action--${change}`,
      dataset: { testid: 'suggestion-action', actionType: type, change },
    }, [
      h('span', { className: `action__type action__type--${change}`, text: words[change] || type }),
      body,
    ]);
  }

  // ---------------------------------------------------------------- Markdown

  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    }
  });

  /** Card detail: GitHub Markdown to HTML with marked, then sanitised by DOMPurify. */
  function renderMarkdown(markdown) {
    const html = marked.parse(String(markdown || ''), { gfm: true, async: false });
    return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, RETURN_DOM_FRAGMENT: true });
  }

  function externalLink(url, label, testid) {
    const safe = /^https?:\/\//i.test(url || '') ? url : null;
    if (!safe) return h('span', { text: label || url || '' });
    return h('a', { text: label || url, attrs: { href: safe, target: '_blank', rel: 'noopener noreferrer' }, dataset: { testid } });
  }

  // ---------------------------------------------------------------- HTTP

  async function call(url, options) {
    const response = await fetch(url, options);
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_err) {
      body = null;
    }
    return { ok: response.ok, status: response.status, body, text };
  }

  function postJson(url, value) {
    return call(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(value),
    });
  }

  /** An error answer in words: the OperationOutcome's diagnostics when there is one. */
  function problemText(answer) {
    const body = answer.body;
    if (body && body.resourceType === 'OperationOutcome' && Array.isArray(body.issue)) {
      const parts = body.issue.map((i) => i.diagnostics || (i.details && i.details.text) || i.code).filter(Boolean);
      if (parts.length) return parts.join('; ');
    }
    if (body && body.error) return body.error_description || body.error;
    return (answer.text || '').slice(0, 300) || 'no details';
  }

  function showError(title, message) {
    const box = $('#error');
    box.replaceChildren(h('strong', { text: title }), ' ', h('span', { dataset: { testid: 'error-message' }, text: message }));
    box.hidden = false;
  }

  function clearError() {
    $('#error').hidden = true;
    $('#error').replaceChildren();
  }

  function setStatus(text) {
    $('#status').textContent = text;
  }

  function pretty(answer) {
    return answer.body !== null ? JSON.stringify(answer.body, null, 2) : answer.text;
  }

  // ---------------------------------------------------------------- the form

  function radioValue(name) {
    const checked = document.querySelector(`input[name="${name}"]:checked`);
    return checked ? checked.value : '';
  }

  function setRadio(name, value) {
    const input = document.querySelector(`input[name="${name}"][value="${value}"]`);
    if (input) input.checked = true;
  }

  function syncForm() {
    const source = radioValue('source');
    $('#fixture-fields').hidden = source !== 'fixture';
    $('#server-fields').hidden = source !== 'server';
    $('#drafts-fields').hidden = !ORDER_HOOKS.includes(radioValue('hook'));
  }

  function selectedFixture() {
    const id = $('#patient-select').value;
    return state.patients.find((p) => p.id === id) || null;
  }

  function showPatientInfo() {
    const p = selectedFixture();
    const box = $('#patient-info');
    if (!p) {
      box.replaceChildren();
      return;
    }
    const rules = p.rules.length ? p.rules.join(', ') : 'no card expected';
    const parts = [
      h('p', { className: 'patient-info__desc', text: p.description }),
      h('dl', { className: 'patient-info__facts' }, [
        h('dt', { text: 'Folder' }), h('dd', {}, [h('code', { text: p.folder })]),
        h('dt', { text: 'Patient id' }), h('dd', {}, [h('code', { text: p.id })]),
        h('dt', { text: 'Written for' }), h('dd', { text: `${p.hook}, ${p.profiles.map((x) => x.toUpperCase()).join(' and ')}` }),
        h('dt', { text: 'Expected' }), h('dd', { text: rules }),
      ]),
    ];
    if (p.messy) parts.push(h('p', { className: 'tag tag--muted', text: 'Messy real-world data' }));
    box.replaceChildren(...parts);
  }

  function onPatientChange() {
    const p = selectedFixture();
    if (p) {
      setRadio('hook', p.hook);
      if (!p.profiles.includes(radioValue('profile'))) setRadio('profile', p.profiles[0]);
    }
    showPatientInfo();
    syncForm();
  }

  async function loadPatients() {
    const select = $('#patient-select');
    let answer;
    try {
      answer = await call('/preview/patients', { headers: { Accept: 'application/json' } });
    } catch (err) {
      answer = { ok: false, status: 0, body: null, text: String(err) };
    }
    if (!answer.ok || !Array.isArray(answer.body)) {
      select.replaceChildren(h('option', { text: 'Could not load the bundled patients', attrs: { value: '' } }));
      showError('Bundled patients:', problemText(answer));
      return;
    }
    state.patients = answer.body;
    const groups = new Map();
    for (const p of state.patients) {
      if (!groups.has(p.folder)) groups.set(p.folder, []);
      groups.get(p.folder).push(p);
    }
    const options = [];
    for (const [folder, list] of groups) {
      options.push(h('optgroup', { attrs: { label: folder } }, list.map((p) =>
        h('option', { text: p.description, attrs: { value: p.id, title: `${folder} · ${p.id}` } }))));
    }
    select.replaceChildren(...options);
    select.disabled = false;
    const params = new URLSearchParams(location.search);
    const wanted = params.get('patient');
    if (wanted && state.patients.some((p) => p.id === wanted)) select.value = wanted;
    onPatientChange();
    if (params.get('hook')) setRadio('hook', params.get('hook'));
    if (params.get('profile')) setRadio('profile', params.get('profile'));
    syncForm();
    document.body.dataset.ready = 'true';
  }

  // ---------------------------------------------------------------- draft editor

  function draftText(d) {
    if (d.kind === 'folic-acid') return 'Folic acid 5 mg oral daily';
    if (d.kind === 'b12-test') return 'Serum B12 test';
    return `${PRODUCT_NAMES[d.product] || d.product} ${d.dose_mcg} micrograms ${EVERY_WORDS[d.every] || d.every}`;
  }

  function renderDrafts() {
    const list = $('#draft-list');
    list.replaceChildren(...state.drafts.map((d, i) => h('li', { className: 'draft', dataset: { testid: 'draft', kind: d.kind } }, [
      h('span', { text: draftText(d), dataset: { testid: 'draft-text' } }),
      h('button', {
        className: 'btn btn--small btn--quiet',
        text: 'Remove',
        attrs: { type: 'button', 'aria-label': `Remove ${draftText(d)}` },
        dataset: { testid: 'draft-remove' },
        on: { click: () => { state.drafts.splice(i, 1); renderDrafts(); } },
      }),
    ])));
    $('#draft-empty').hidden = state.drafts.length > 0;
  }

  function addDraft(draft) {
    $('#draft-error').hidden = true;
    state.drafts.push(draft);
    renderDrafts();
  }

  function addB12Draft() {
    const dose = Number($('#draft-dose').value);
    if (!Number.isInteger(dose) || dose < 1 || dose > 10000) {
      const err = $('#draft-error');
      err.textContent = 'Dose: a whole number of micrograms, 1 to 10000.';
      err.hidden = false;
      $('#draft-dose').focus();
      return;
    }
    addDraft({ kind: 'b12', product: $('#draft-product').value, dose_mcg: dose, every: $('#draft-every').value });
  }

  // ---------------------------------------------------------------- cards

  async function getCards(event) {
    event.preventDefault();
    clearError();
    const hook = radioValue('hook');
    const payload = { hook, profile: radioValue('profile') };
    if (radioValue('source') === 'server') {
      payload.fhirServer = $('#fhir-server').value.trim();
      payload.patient = $('#server-patient').value.trim();
      if (!payload.fhirServer || !payload.patient) {
        showError('Patient:', 'give the FHIR server base URL and the patient id.');
        return;
      }
    } else {
      payload.patient = $('#patient-select').value;
      if (!payload.patient) {
        showError('Patient:', 'choose a bundled patient.');
        return;
      }
    }
    if (ORDER_HOOKS.includes(hook)) payload.drafts = state.drafts.slice();

    const button = $('#get-cards');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    $('#cards').setAttribute('aria-busy', 'true');
    setStatus('Building the request…');
    try {
      const built = await postJson('/preview/request', payload);
      if (!built.ok || !built.body || !built.body.request) {
        showError(`Request not built (HTTP ${built.status}):`, problemText(built));
        setStatus('No request sent.');
        return;
      }
      const { service, request } = built.body;
      const url = `/cds-services/${encodeURIComponent(service)}`;
      setStatus(`Calling ${service}…`);
      const started = performance.now();
      const answer = await call(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(request),
      });
      const ms = Math.round(performance.now() - started);
      $('#request-url').textContent = `POST ${url}`;
      $('#request-json').textContent = JSON.stringify(request, null, 2);
      $('#response-status').textContent = `HTTP ${answer.status} in ${ms} ms`;
      $('#response-json').textContent = pretty(answer);
      $('#feedback-exchange').hidden = true;
      state.service = service;
      state.orders = ordersIn(request);
      if (!answer.ok) {
        renderCards([]);
        renderHeld([]);
        showError(`The service refused the request (HTTP ${answer.status}):`, problemText(answer));
        setStatus(`No cards: ${service} answered HTTP ${answer.status}.`);
        return;
      }
      const cards = (answer.body && Array.isArray(answer.body.cards)) ? answer.body.cards : [];
      const extension = (answer.body && answer.body.extension) || {};
      const held = Array.isArray(extension[HELD_EXTENSION]) ? extension[HELD_EXTENSION] : [];
      renderCards(cards);
      renderHeld(held);
      const heldNote = held.length ? `; ${plural(held.length, 'card')} held back (below)` : '';
      setStatus(cards.length
        ? `${plural(cards.length, 'card')} from ${service} (${ms} ms)${heldNote}.`
        : held.length
          ? `No cards shown by ${service}${heldNote}.`
          : `No cards from ${service}: nothing to suggest for this patient.`);
    } catch (err) {
      showError('Network error:', String(err && err.message ? err.message : err));
      setStatus('The call failed.');
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      $('#cards').removeAttribute('aria-busy');
    }
  }

  /** The cards the service held back (its "cds-b12.held" response extension), and why. */
  function renderHeld(held) {
    const why = {
      snoozed: 'snoozed after a dismissal',
      accepted: 'accepted, while its order is acted on',
      repeat: 'already shown for this hookInstance or encounter',
      off: "switched off in this site's settings",
    };
    $('#held-list').replaceChildren(...held.map((item) => {
      const parts = [why[item.why] || item.why];
      if (item.reason) parts.push(`(${item.reason})`);
      parts.push(item.until ? `until ${fmtInstant(item.until)}` : (item.why === 'accepted' ? 'for this encounter' : ''));
      return h('li', { dataset: { testid: 'held-card', rule: item.rule, why: item.why } }, [
        h('code', { text: item.rule }), `: ${parts.filter(Boolean).join(' ')}`,
      ]);
    }));
    $('#held').hidden = held.length === 0;
  }

  function renderCards(cards) {
    const sorted = cards.slice().sort((a, b) =>
      ((INDICATORS[a.indicator] || INDICATORS.info).rank - (INDICATORS[b.indicator] || INDICATORS.info).rank));
    $('#cards').replaceChildren(...sorted.map(renderCard));
    $('#cards').dataset.count = String(cards.length);
  }

  function renderCard(card) {
    const n = state.cardCount++;
    const indicator = INDICATORS[card.indicator] ? card.indicator : 'info';
    const summaryId = `card-${n}-summary`;
    const status = h('p', { className: 'feedback-status', attrs: { role: 'status' }, dataset: { testid: 'feedback-status' } });
    const ctx = { card, status, service: state.service, controls: [] };

    const article = h('article', {
      className: `card card--${indicator}`,
      attrs: { 'aria-labelledby': summaryId },
      dataset: { testid: 'card', indicator, cardUuid: card.uuid },
    });
    const head = h('header', { className: 'card__head' }, [
      h('span', { className: 'card__indicator', dataset: { testid: 'card-indicator', indicator } }, [
        indicatorIcon(indicator), h('span', { text: INDICATORS[indicator].label })]),
      h('h3', { className: 'card__summary', text: card.summary, attrs: { id: summaryId }, dataset: { testid: 'card-summary' } }),
    ]);
    const detail = h('div', { className: 'card__detail markdown', dataset: { testid: 'card-detail' } });
    if (card.detail) detail.append(renderMarkdown(card.detail));
    const source = card.source ? h('p', { className: 'card__source' }, [
      'Source: ',
      card.source.url ? externalLink(card.source.url, card.source.label, 'card-source')
        : h('span', { text: card.source.label || '', dataset: { testid: 'card-source' } }),
    ]) : null;

    article.append(head, detail, source || '');
    if (Array.isArray(card.suggestions) && card.suggestions.length) article.append(renderSuggestions(card, ctx));
    if (Array.isArray(card.links) && card.links.length) {
      article.append(h('ul', { className: 'card__links', attrs: { 'aria-label': 'Links' } }, card.links.map((link) =>
        h('li', {}, [link.type === 'smart'
          ? h('span', { className: 'smart-link', dataset: { testid: 'card-link', linkType: 'smart' } }, [
            h('span', { text: link.label }), h('span', { className: 'hint', text: ' (SMART app: the EHR launches it with launch and iss)' })])
          : h('a', {
            className: 'btn btn--link',
            text: `${link.label} ↗`,
            attrs: { href: link.url, target: '_blank', rel: 'noopener noreferrer' },
            dataset: { testid: 'card-link', linkType: link.type || 'absolute' },
          })]))));
    }
    article.append(renderDismiss(card, ctx), status);
    return article;
  }

  function renderSuggestions(card, ctx) {
    const behaviour = card.selectionBehavior === 'any' ? 'choose any' : 'choose at most one';
    return h('section', { className: 'card__suggestions', attrs: { 'aria-label': 'Suggestions' } }, [
      h('h4', { className: 'card__section-title' }, ['Suggestions ', h('span', { className: 'hint', text: `(${behaviour})` })]),
      ...card.suggestions.map((s) => {
        const accept = h('button', {
          className: 'btn btn--accept',
          text: 'Accept',
          attrs: { type: 'button', 'aria-label': `Accept: ${s.label}` },
          dataset: { testid: 'suggestion-accept' },
        });
        ctx.controls.push(accept);
        const block = h('div', { className: 'suggestion', dataset: { testid: 'suggestion', suggestionUuid: s.uuid } }, [
          h('div', { className: 'suggestion__head' }, [
            h('span', { className: 'suggestion__label', text: s.label }),
            s.isRecommended ? h('span', { className: 'tag tag--recommended', text: 'Recommended' }) : null,
            accept,
          ]),
          h('ul', { className: 'actions' }, (s.actions || []).map(renderAction)),
        ]);
        accept.addEventListener('click', () => {
          block.dataset.accepted = 'true';
          ctx.onRecorded = () => { accept.textContent = 'Accepted'; };
          sendFeedback(ctx, {
            card: card.uuid,
            outcome: 'accepted',
            acceptedSuggestions: [{ id: s.uuid }],
            outcomeTimestamp: new Date().toISOString(),
          }, null);
        });
        return block;
      }),
    ]);
  }

  function renderDismiss(card, ctx) {
    const reasons = Array.isArray(card.overrideReasons) ? card.overrideReasons : [];
    const selectId = `reason-${card.uuid}`;
    const select = h('select', { attrs: { id: selectId }, dataset: { testid: 'override-reason' } },
      reasons.map((r, i) => h('option', { text: r.display || r.code, attrs: { value: String(i) } })));
    const button = h('button', {
      className: 'btn btn--dismiss',
      text: 'Dismiss with reason',
      attrs: { type: 'button' },
      dataset: { testid: 'dismiss' },
    });
    ctx.controls.push(select, button);
    button.addEventListener('click', () => {
      const reason = reasons[Number(select.value)];
      const overrideReason = reason
        ? { reason: { code: reason.code, system: reason.system, display: reason.display } }
        : { userComment: 'Dismissed in the preview' };
      sendFeedback(ctx, {
        card: card.uuid,
        outcome: 'overridden',
        overrideReason,
        outcomeTimestamp: new Date().toISOString(),
      }, reason || null);
    });
    if (!reasons.length) {
      return h('div', { className: 'card__dismiss' }, [button]);
    }
    return h('div', { className: 'card__dismiss' }, [
      h('label', { text: 'Reason', attrs: { for: selectId } }), select, button,
    ]);
  }

  /** Send real feedback, then read the store back to show that it was recorded. */
  async function sendFeedback(ctx, entry, reason) {
    const { status, card } = ctx;
    ctx.controls.forEach((c) => { c.disabled = true; });
    status.className = 'feedback-status feedback-status--pending';
    status.textContent = 'Sending feedback…';
    const url = `/cds-services/${encodeURIComponent(ctx.service)}/feedback`;
    const body = { feedback: [entry] };
    try {
      const answer = await postJson(url, body);
      $('#feedback-url').textContent = `POST ${url} → HTTP ${answer.status}`;
      $('#feedback-json').textContent = JSON.stringify(body, null, 2);
      $('#feedback-exchange').hidden = false;
      if (!answer.ok) throw new Error(`HTTP ${answer.status}: ${problemText(answer)}`);
      const stored = await call(`/preview/feedback/${encodeURIComponent(card.uuid)}`, { headers: { Accept: 'application/json' } });
      const rows = stored.ok && stored.body && Array.isArray(stored.body.feedback) ? stored.body.feedback : [];
      const last = rows[rows.length - 1];
      if (!last) throw new Error('the service answered 200 but the store has no record of it');
      let what = last.outcome;
      if (last.reason) {
        const coding = (card.overrideReasons || []).find((r) => r.code === last.reason);
        what += ` (${coding && coding.display ? coding.display : last.reason})`;
      } else if (reason) {
        what += ` (${reason.display || reason.code})`;
      }
      status.className = `feedback-status feedback-status--ok feedback-status--${last.outcome}`;
      status.dataset.outcome = last.outcome;
      if (last.reason) status.dataset.reason = last.reason;
      status.textContent = `Recorded: ${what} at ${fmtInstant(last.receivedAt)}`;
      if (ctx.onRecorded) ctx.onRecorded();
      const article = status.closest('article');
      if (article) article.dataset.feedback = last.outcome;
    } catch (err) {
      status.className = 'feedback-status feedback-status--error';
      status.textContent = `Feedback not recorded: ${err && err.message ? err.message : err}`;
      ctx.onRecorded = null;
      status.closest('article').querySelectorAll('[data-accepted]').forEach((s) => { delete s.dataset.accepted; });
      ctx.controls.forEach((c) => { c.disabled = false; });
    }
  }

  // ---------------------------------------------------------------- start

  function start() {
    document.querySelectorAll('input[name="source"], input[name="hook"]').forEach((input) =>
      input.addEventListener('change', syncForm));
    $('#patient-select').addEventListener('change', onPatientChange);
    $('#add-b12').addEventListener('click', addB12Draft);
    $('#add-folic').addEventListener('click', () => addDraft({ kind: 'folic-acid' }));
    $('#add-test').addEventListener('click', () => addDraft({ kind: 'b12-test' }));
    $('#request-form').addEventListener('submit', getCards);
    renderDrafts();
    syncForm();
    loadPatients();
  }

  start();
}());
