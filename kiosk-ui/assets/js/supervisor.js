// Supervisor screens: batches, new batch, batch review, lost card, roster, status.

import { h, mount, confirmDialog, toast } from './dom.js';
import { t, errText, fmtDate, fmtDateTime, fmtTime, fmtAge } from './i18n.js';
import { get, post, put, del } from './api.js';
import { VERDICT, FLAGGED, EVENT } from './names.js';


function fail(e) {
  if (e && e.status === 401) return; // the PIN pad takes over
  toast(errText(e), 'bad');
}

function loading(el) {
  mount(el, h('p', { class: 'muted pad' }, t('common.loading')));
}

function verdictChip(v, removed) {
  return h('span', { class: 'vchip vc-' + (removed ? 'removed' : v) }, removed ? t('entry.removed') : t('verdict.' + v + '.short'));
}

function deliveryChip(d) {
  if (!d) return null;
  return h('span', { class: 'vchip dc-' + d.state, id: 'delivery-state' }, t('delivery.' + d.state));
}

function debounce(f, ms) {
  let timer = 0;
  return (...a) => { clearTimeout(timer); timer = setTimeout(() => f(...a), ms); };
}

function serviceLabel(b) {
  return b.service_name || b.service_code;
}

// ---------------------------------------------------------------- batches list

export function batchesScreen(el, ctx) {
  let open = [], posted = [], unassigned = [];
  let alive = true;

  async function load() {
    try {
      [open, posted, unassigned] = await Promise.all([
        get('/batches?state=open'),
        get('/batches?state=posted'),
        get('/scans/unassigned').catch(() => []),
      ]);
      if (alive) render();
    } catch (e) { fail(e); }
  }

  function row(b) {
    const c = b.counts || {};
    return h('li', null,
      h('a', { class: 'card batch-row', href: '#batch/' + encodeURIComponent(b.id), dataset: { batch: b.id } },
        h('div', { class: 'grow' },
          h('div', { class: 'title' }, b.name || serviceLabel(b)),
          h('div', { class: 'muted' }, [serviceLabel(b), fmtDate(b.service_date), b.lane ? t('batch.on_lane', { lane: b.lane }) : null].filter(Boolean).join(' · '))),
        h('div', { class: 'counts' },
          h('span', { class: 'vchip vc-ok' }, t('batch.count_ok', { n: c.ok ?? 0 })),
          c.flagged ? h('span', { class: 'vchip vc-no_open_enrollment' }, t('batch.count_flagged', { n: c.flagged })) : null,
          b.state === 'posted' ? deliveryChip(b.delivery) || h('span', { class: 'vchip' }, t('batch.posted')) : null)));
  }

  function render() {
    const recent = posted.slice().sort((a, b) => String(b.posted_at || '').localeCompare(String(a.posted_at || ''))).slice(0, 20);
    mount(el,
      h('div', { class: 'row between' },
        h('h1', null, t('batches.title')),
        h('a', { class: 'btn primary', href: '#new', id: 'new-batch' }, t('batches.new'))),
      unassigned.length ? unassignedBox() : null,
      h('h2', null, t('batches.open')),
      open.length ? h('ul', { class: 'list', id: 'open-batches' }, open.map(row)) : h('p', { class: 'muted' }, t('batches.none_open')),
      h('h2', null, t('batches.posted')),
      recent.length ? h('ul', { class: 'list', id: 'posted-batches' }, recent.map(row)) : h('p', { class: 'muted' }, t('batches.none_posted')));
  }

  function unassignedBox() {
    return h('section', { class: 'notice', id: 'unassigned' },
      h('h2', null, t('unassigned.title', { n: unassigned.length })),
      h('p', { class: 'muted' }, t('unassigned.hint')),
      h('ul', { class: 'list' }, unassigned.map((s) => {
        const sel = h('select', { 'aria-label': t('unassigned.move_to') },
          open.map((b) => h('option', { value: b.id }, (b.name || serviceLabel(b)) + ' · ' + fmtDate(b.service_date))));
        return h('li', { class: 'card row wrap' },
          h('div', { class: 'grow' },
            h('div', { class: 'title' }, s.code),
            h('div', { class: 'muted' }, t('unassigned.scanned', { lane: s.lane, time: fmtDateTime(s.scanned_at) }))),
          open.length ? sel : null,
          open.length ? h('button', { class: 'btn', type: 'button', onclick: async () => {
            try {
              const entry = await post('/batches/' + encodeURIComponent(sel.value) + '/entries', { scan_id: s.scan_id });
              toast(t('unassigned.moved', { verdict: t('verdict.' + entry.verdict + '.short') }));
              load();
            } catch (e) { fail(e); }
          } }, t('unassigned.move')) : null,
          h('button', { class: 'btn', type: 'button', onclick: async () => {
            if (!await confirmDialog({ title: t('unassigned.dismiss_q'), body: s.code, ok: t('unassigned.dismiss'), cancel: t('common.cancel'), danger: true })) return;
            try { await del('/scans/unassigned/' + encodeURIComponent(s.scan_id)); load(); } catch (e) { fail(e); }
          } }, t('unassigned.dismiss')));
      })));
  }

  const reload = debounce(load, 200);
  ctx.on(EVENT.BATCH, reload);
  ctx.on(EVENT.SCAN, reload);
  ctx.on(EVENT.DELIVERY, reload);
  ctx.onConnection((up) => { if (up) reload(); });
  loading(el);
  load();
  return { stop() { alive = false; } };
}

// ---------------------------------------------------------------- new batch

export function newBatchScreen(el, ctx) {
  let alive = true;
  (async () => {
    loading(el);
    let projects, services, lanes, today;
    try {
      [projects, services, lanes] = await Promise.all([get('/projects'), get('/services'), get('/lanes').catch(() => [])]);
      today = await get('/status').then((s) => s.today).catch(() => null);
    } catch (e) { fail(e); return; }
    if (!alive) return;
    if (!today) {
      const d = new Date();
      today = d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
    }
    const projId = (p) => p.project_id ?? p.id;
    const projName = (p) => p.name ?? p.project_name ?? projId(p);
    const f = {};
    const field = (id, label, input, hint) => h('div', { class: 'field' },
      h('label', { for: id }, label), input, hint ? h('p', { class: 'muted small' }, hint) : null);
    f.project = h('select', { id: 'f-project', required: true },
      projects.map((p) => h('option', { value: projId(p) }, projName(p))));
    f.service = h('select', { id: 'f-service', required: true, onchange: fillDefaults },
      services.map((s) => h('option', { value: s.code }, s.name + ' (' + s.code + ')')));
    f.date = h('input', { id: 'f-date', type: 'date', required: true, value: today, max: today });
    f.units = h('input', { id: 'f-units', type: 'number', min: '0', step: 'any', inputmode: 'decimal', required: true });
    f.value = h('input', { id: 'f-value', type: 'text', inputmode: 'decimal', pattern: '^[0-9]+(\\.[0-9]{1,2})?$', required: true });
    f.name = h('input', { id: 'f-name', type: 'text', maxlength: '80', placeholder: t('new.name_placeholder') });
    const laneNames = [...new Set(lanes.map((l) => l.lane))];
    f.lane = h('select', { id: 'f-lane' },
      h('option', { value: '' }, t('new.no_lane')),
      laneNames.map((l) => h('option', { value: l }, l + (lanes.find((x) => x.lane === l && x.batch_id) ? ' ' + t('new.lane_busy') : ''))));
    function fillDefaults() {
      const s = services.find((x) => x.code === f.service.value);
      if (s) { f.units.value = s.units; f.value.value = s.unit_value; }
    }
    fillDefaults();
    const submit = h('button', { class: 'btn primary', type: 'submit', id: 'f-create' }, t('new.create'));
    const form = h('form', { class: 'form', id: 'new-batch-form', onsubmit: async (e) => {
      e.preventDefault();
      submit.disabled = true;
      const body = {
        project_id: f.project.value,
        service_code: f.service.value,
        service_date: f.date.value,
        units: Number(f.units.value),
        unit_value: f.value.value,
      };
      if (f.name.value.trim()) body.name = f.name.value.trim();
      if (f.lane.value) body.lane = f.lane.value;
      try {
        const b = await post('/batches', body);
        toast(t('new.created'));
        ctx.go('#batch/' + encodeURIComponent(b.id));
      } catch (err) { fail(err); submit.disabled = false; }
    } },
      field('f-project', t('new.project'), f.project),
      field('f-service', t('new.service'), f.service),
      field('f-date', t('new.date'), f.date),
      h('div', { class: 'row wrap' },
        field('f-units', t('new.units'), f.units),
        field('f-value', t('new.unit_value'), f.value)),
      field('f-name', t('new.name'), f.name, t('new.name_hint')),
      field('f-lane', t('new.lane'), f.lane),
      h('div', { class: 'row end' },
        h('a', { class: 'btn', href: '#batches' }, t('common.cancel')),
        submit));
    mount(el, h('h1', null, t('new.title')), form);
  })();
  return { stop() { alive = false; } };
}

// ---------------------------------------------------------------- batch review

export function batchScreen(el, ctx, id) {
  let batch = null;
  let lanes = [];
  let filterFlagged = false;
  let alive = true;
  const path = '/batches/' + encodeURIComponent(id);

  let shown = '';
  async function load() {
    try {
      const b = await get(path);
      // Re-render only on a change, so a touch in progress never lands on a replaced button.
      const txt = JSON.stringify(b);
      if (txt === shown && batch) return;
      shown = txt;
      batch = b;
      if (alive) render();
    } catch (e) {
      if (e.status === 404) { mount(el, h('p', { class: 'pad' }, t('batch.not_found')), h('a', { class: 'btn', href: '#batches' }, t('nav.batches'))); return; }
      fail(e);
    }
  }

  function counts() {
    const c = batch.counts;
    if (c) return c;
    const live = batch.entries.filter((e) => !e.removed);
    return {
      total: batch.entries.length,
      ok: live.filter((e) => e.verdict === VERDICT.OK).length,
      flagged: live.filter((e) => FLAGGED.has(e.verdict)).length,
      removed: batch.entries.length - live.length,
    };
  }

  function render() {
    const b = batch;
    const c = counts();
    const isOpen = b.state === 'open';
    const postReason = !isOpen ? null
      : c.flagged > 0 ? t('batch.post_blocked_flagged', { n: c.flagged })
        : c.ok === 0 ? t('batch.post_blocked_empty') : null;
    const entries = b.entries.filter((e) => !filterFlagged || (!e.removed && FLAGGED.has(e.verdict)));

    mount(el,
      h('div', { class: 'batch-head' },
        h('div', null,
          h('h1', { id: 'batch-title' }, b.name || serviceLabel(b)),
          h('p', { class: 'muted' }, [serviceLabel(b), fmtDate(b.service_date), t('batch.units', { units: b.units, value: b.unit_value })].join(' · ')),
          isOpen ? laneBox() : (b.lane ? h('p', { class: 'muted' }, t('batch.on_lane', { lane: b.lane })) : null)),
        h('div', { class: 'counts big' },
          h('span', { class: 'vchip vc-ok', id: 'count-ok' }, t('batch.count_ok', { n: c.ok })),
          h('span', { class: 'vchip ' + (c.flagged ? 'vc-no_open_enrollment' : 'vc-removed'), id: 'count-flagged' }, t('batch.count_flagged', { n: c.flagged })),
          h('span', { class: 'vchip vc-removed', id: 'count-removed' }, t('batch.count_removed', { n: c.removed })))),
      isOpen ? null : h('section', { class: 'notice ok', id: 'posted' },
        h('p', null, t('batch.posted_at', { time: fmtDateTime(b.posted_at), by: b.posted_by || '' })),
        b.delivery ? h('p', null, t('batch.delivery'), ' ', deliveryChip(b.delivery),
          b.delivery.error || b.delivery.reason || b.delivery.last_error ? h('span', { class: 'muted' }, ' ' + (b.delivery.error || b.delivery.reason || b.delivery.last_error)) : null)
          : h('p', { class: 'muted' }, t('batch.delivery_unknown')),
        b.delivery && b.delivery.state === 'failed'
          ? h('button', { class: 'btn', type: 'button', id: 'retry-delivery', onclick: () => act(() => post(path + '/retry-delivery'), 'batch.delivery_retried') }, t('batch.retry_delivery'))
          : null),
      isOpen ? h('div', { class: 'toolbar' },
        h('button', { class: 'btn', type: 'button', id: 'reload', onclick: () => act(() => post(path + '/reload'), 'batch.reloaded') }, t('batch.reload')),
        h('button', { class: 'btn', type: 'button', id: 'remove-flagged', disabled: c.flagged === 0, onclick: removeFlagged }, t('batch.remove_flagged')),
        h('a', { class: 'btn', href: '#batch/' + encodeURIComponent(b.id) + '/lost', id: 'lost-card' }, t('batch.lost_card')),
        h('a', { class: 'btn', href: '#batch/' + encodeURIComponent(b.id) + '/roster', id: 'roster' }, t('batch.roster')),
        h('div', { class: 'post-box' },
          h('button', { class: 'btn primary', type: 'button', id: 'post', disabled: !!postReason, 'aria-describedby': postReason ? 'post-reason' : null, onclick: doPost }, t('batch.post')))) : null,
      postReason ? h('p', { class: 'muted small post-reason', id: 'post-reason' }, postReason) : null,
      h('div', { class: 'row between' },
        h('h2', null, t('batch.entries', { n: b.entries.length })),
        h('div', { class: 'seg', role: 'group', 'aria-label': t('batch.filter') },
          h('button', { class: 'btn' + (filterFlagged ? '' : ' on'), type: 'button', 'aria-pressed': String(!filterFlagged), onclick: () => { filterFlagged = false; render(); } }, t('batch.filter_all')),
          h('button', { class: 'btn' + (filterFlagged ? ' on' : ''), type: 'button', id: 'filter-flagged', 'aria-pressed': String(filterFlagged), onclick: () => { filterFlagged = true; render(); } }, t('batch.filter_flagged', { n: c.flagged })))),
      entries.length === 0 ? h('p', { class: 'muted pad' }, filterFlagged ? t('batch.no_flagged') : t('batch.no_entries')) :
        h('ol', { class: 'list entries', id: 'entries' }, entries.map((e) => entryRow(e, isOpen))));
  }

  function laneBox() {
    const names = [...new Set(lanes.map((l) => l.lane).concat(batch.lane ? [batch.lane] : []))];
    if (!names.length) return null;
    const sel = h('select', { id: 'bind-lane' },
      names.map((n) => h('option', { value: n, selected: n === batch.lane }, n)));
    return h('div', { class: 'lane-box' },
      h('label', { class: 'muted', for: 'bind-lane' }, batch.lane ? t('batch.on_lane', { lane: batch.lane }) : t('batch.no_lane')),
      sel,
      h('button', { class: 'btn', type: 'button', id: 'bind', onclick: () => act(() => put('/lanes/' + encodeURIComponent(sel.value), { batch_id: batch.id }), 'batch.bound') }, t('batch.bind')));
  }

  function entryRow(e, isOpen) {
    const flagged = !e.removed && FLAGGED.has(e.verdict);
    return h('li', { class: 'card entry' + (e.removed ? ' removed' : '') + (flagged ? ' flagged' : ''), dataset: { entry: e.id, verdict: e.verdict } },
      h('div', { class: 'grow' },
        h('div', { class: 'title' }, e.display_name || e.client_id || e.code || '—'),
        h('div', { class: 'muted small' }, [
          e.client_id ? t('entry.client', { id: e.client_id }) : t('entry.code', { code: e.code || '' }),
          fmtTime(e.scanned_at),
          t('source.' + (e.source || 'scan'), null, 'source.other'),
          e.removed ? t('entry.removed_by', { by: e.removed_by || '', time: fmtTime(e.removed_at) }) : null,
        ].filter(Boolean).join(' · '))),
      verdictChip(e.verdict, e.removed),
      isOpen && !e.removed ? h('button', {
        class: 'btn icon danger-outline', type: 'button', 'aria-label': t('entry.remove_aria', { name: e.display_name || e.code || '' }),
        onclick: async () => {
          const ok = await confirmDialog({
            title: t('entry.remove_q'), body: (e.display_name || e.code || '') + ' — ' + t('verdict.' + e.verdict + '.short'),
            ok: t('entry.remove'), cancel: t('common.cancel'), danger: true,
          });
          if (ok) act(() => del(path + '/entries/' + encodeURIComponent(e.id)), 'entry.removed_toast');
        },
      }, '✕') : null);
  }

  async function act(f, okKey) {
    try {
      const r = await f();
      if (okKey) toast(t(okKey, r || {}));
    } catch (e) { fail(e); }
    load();
  }

  async function removeFlagged() {
    const n = counts().flagged;
    const ok = await confirmDialog({ title: t('batch.remove_flagged_q', { n }), body: t('batch.remove_flagged_body'), ok: t('batch.remove_flagged'), cancel: t('common.cancel'), danger: true });
    if (ok) act(() => post(path + '/remove-flagged'), 'batch.removed_n');
  }

  async function doPost() {
    const c = counts();
    const ok = await confirmDialog({
      title: t('batch.post_q', { n: c.ok }),
      body: t('batch.post_body', { n: c.ok, service: serviceLabel(batch), date: fmtDate(batch.service_date), removed: c.removed }),
      ok: t('batch.post_confirm', { n: c.ok }), cancel: t('common.cancel'),
    });
    if (!ok) return;
    try {
      const r = await post(path + '/post');
      toast(t('batch.posted_n', { n: r.posted }));
    } catch (e) {
      if (e.status === 409) toast(t('batch.post_refused', { msg: errText(e) }), 'bad'); else fail(e);
    }
    load();
  }

  const reload = debounce(load, 120);
  ctx.on(EVENT.SCAN, (d) => { if (d.entry && d.entry.batch_id === id) reload(); });
  ctx.on(EVENT.BATCH, (d) => { if (d.id === id) reload(); });
  ctx.on(EVENT.DELIVERY, (d) => { if (d.batch_id === id) reload(); });
  ctx.onConnection((up) => { if (up) reload(); });
  ctx.onLang(() => { if (batch) render(); });
  loading(el);
  get('/lanes').then((l) => { lanes = l || []; if (batch && alive) render(); }).catch(() => {});
  load();
  return { stop() { alive = false; } };
}

// ---------------------------------------------------------------- lost card

export function lostCardScreen(el, ctx, id) {
  const bpath = '/batches/' + encodeURIComponent(id);
  const q = h('input', { id: 'lc-q', type: 'search', autocomplete: 'off', placeholder: t('lost.q_placeholder'), required: true });
  const dob = h('input', { id: 'lc-dob', type: 'date' });
  const results = h('div', { id: 'lc-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'form', onsubmit: async (e) => {
    e.preventDefault();
    const params = new URLSearchParams({ q: q.value.trim() });
    if (dob.value) params.set('dob', dob.value);
    mount(results, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const list = await get('/clients?' + params.toString());
      mount(results, list.length === 0 ? h('p', { class: 'muted' }, t('lost.none')) :
        h('ul', { class: 'list' }, list.map((c) => h('li', { class: 'card row' },
          h('div', { class: 'grow' }, h('div', { class: 'title' }, c.display_name), h('div', { class: 'muted small' }, t('entry.client', { id: c.client_id }))),
          h('button', { class: 'btn primary', type: 'button', dataset: { client: c.client_id }, onclick: async (ev) => {
            const btn = ev.currentTarget;
            btn.disabled = true;
            try {
              const entry = await post(bpath + '/entries', { client_id: c.client_id, source: 'manual' });
              toast(t('lost.added', { name: c.display_name, verdict: t('verdict.' + entry.verdict + '.short') }), entry.verdict === VERDICT.OK ? '' : 'bad');
            } catch (err) { fail(err); btn.disabled = false; }
          } }, t('lost.add'))))));
    } catch (err) { mount(results); fail(err); }
  } },
  h('div', { class: 'field' }, h('label', { for: 'lc-q' }, t('lost.q')), q, h('p', { class: 'muted small' }, t('lost.q_hint'))),
  h('div', { class: 'field' }, h('label', { for: 'lc-dob' }, t('lost.dob')), dob),
  h('div', { class: 'row end' }, h('button', { class: 'btn primary', type: 'submit', id: 'lc-search' }, t('lost.search'))));
  mount(el,
    h('div', { class: 'row between' }, h('h1', null, t('lost.title')), h('a', { class: 'btn', href: '#batch/' + encodeURIComponent(id) }, t('common.back_to_batch'))),
    form, results);
  q.focus();
}

// ---------------------------------------------------------------- roster

export function rosterScreen(el, ctx, id) {
  const bpath = '/batches/' + encodeURIComponent(id);
  let roster = [];
  let filter = '';
  let alive = true;
  const list = h('ul', { class: 'list roster', id: 'roster-list' });
  const input = h('input', { id: 'roster-filter', type: 'search', autocomplete: 'off', placeholder: t('roster.filter'), 'aria-label': t('roster.filter'), oninput: () => { filter = input.value.trim().toLowerCase(); renderList(); } });

  async function load() {
    try {
      roster = await get(bpath + '/roster');
      if (alive) renderList();
    } catch (e) { fail(e); }
  }

  function renderList() {
    const words = filter.split(/\s+/).filter(Boolean);
    const shown = roster.filter((r) => {
      const name = (r.display_name || '').toLowerCase().split(/\s+/);
      return words.every((w, i) => (name[i] || '').startsWith(w) || String(r.client_id).toLowerCase().startsWith(w));
    });
    mount(list, shown.length === 0 ? h('li', { class: 'muted pad' }, t('roster.none')) : shown.map((r) =>
      h('li', null, h('button', {
        class: 'card tick' + (r.in_batch ? ' ticked' : ''), type: 'button', role: 'checkbox',
        'aria-checked': String(!!r.in_batch), disabled: r.in_batch, dataset: { client: r.client_id },
        onclick: async () => {
          try {
            const entry = await post(bpath + '/entries', { client_id: r.client_id, source: 'roster' });
            r.in_batch = true;
            if (entry.verdict !== VERDICT.OK) toast(t('lost.added', { name: r.display_name, verdict: t('verdict.' + entry.verdict + '.short') }), 'bad');
            renderList();
          } catch (e) { fail(e); }
        },
      }, h('span', { class: 'box', 'aria-hidden': 'true' }, r.in_batch ? '✓' : ''), h('span', { class: 'grow' }, r.display_name), h('span', { class: 'muted small' }, r.client_id)))));
  }

  mount(el,
    h('div', { class: 'row between' }, h('h1', null, t('roster.title')), h('a', { class: 'btn', href: '#batch/' + encodeURIComponent(id) }, t('common.back_to_batch'))),
    h('p', { class: 'muted' }, t('roster.hint')),
    input, list);
  ctx.on(EVENT.SCAN, (d) => { if (d.entry && d.entry.batch_id === id) load(); });
  load();
  return { stop() { alive = false; } };
}

// ---------------------------------------------------------------- status

export function statusScreen(el, ctx) {
  let alive = true;
  async function load() {
    let s;
    try { s = await get('/status'); } catch (e) { fail(e); return; }
    if (!alive) return;
    const d = s.data || {};
    const o = s.outbox || {};
    const kv = (k, v, id) => [h('dt', null, k), h('dd', { id }, v ?? '—')];
    mount(el,
      h('h1', null, t('status.title')),
      h('div', { class: 'grid2' },
        h('section', { class: 'card col' },
          h('h2', null, t('status.station')),
          h('dl', { class: 'kv' },
            kv(t('status.station_id'), s.station_id),
            kv(t('status.version'), s.version, 'st-version'),
            kv(t('status.today'), fmtDate(s.today)),
            kv(t('status.timezone'), s.timezone),
            kv(t('status.https'), s.tls ? s.tls.fingerprint_sha256 : t('status.https_off'), 'st-tls'))),
        h('section', { class: 'card col' },
          h('h2', null, t('status.data')),
          h('dl', { class: 'kv' },
            kv(t('status.imported_at'), d.imported_at ? fmtDateTime(d.imported_at) : t('status.never')),
            kv(t('status.age'), fmtAge(d.age_seconds), 'st-age'),
            kv(t('status.export_date'), d.export_date ? fmtDateTime(d.export_date) : '—'),
            kv(t('status.counts'), t('status.counts_v', { p: d.projects ?? 0, c: d.clients ?? 0, e: d.enrollments ?? 0 })))),
        h('section', { class: 'card col' },
          h('h2', null, t('status.outbox')),
          h('dl', { class: 'kv' },
            kv(t('delivery.queued'), String(o.queued ?? 0), 'st-queued'),
            kv(t('delivery.delivered'), String(o.delivered ?? 0)),
            kv(t('delivery.failed'), String(o.failed ?? 0)),
            kv(t('status.unassigned'), String(s.unassigned ?? 0)))),
        h('section', { class: 'card col' },
          h('h2', null, t('status.scanners')),
          (s.scanners || []).length === 0 ? h('p', { class: 'muted' }, t('status.no_scanners')) :
            h('ul', { class: 'list' }, s.scanners.map((sc) => h('li', { class: 'row wrap' },
              h('span', { class: 'chip ' + (sc.state === 'connected' ? 'chip-ok' : sc.state === 'busy' ? 'chip-warn' : 'chip-bad') },
                h('span', { class: 'dot', 'aria-hidden': 'true' }), t('scanner.' + sc.state)),
              h('span', { class: 'grow' }, sc.name + ' · ' + t('batch.on_lane', { lane: sc.lane })),
              sc.reason ? h('span', { class: 'muted small' }, sc.reason) : null))))));
  }
  const reload = debounce(load, 300);
  ctx.on(EVENT.SCANNER, reload);
  ctx.on(EVENT.DELIVERY, reload);
  ctx.onConnection((up) => { if (up) reload(); });
  loading(el);
  load();
  const timer = setInterval(load, 30000);
  return { stop() { alive = false; clearInterval(timer); } };
}
