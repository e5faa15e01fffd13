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

// Project names by ProjectID, read once per page (batches carry only the ID).
let projectsOnce = null;
function projectNames() {
  projectsOnce ||= get('/projects').then((list) => new Map(list.map((p) => [p.project_id, p.name || p.project_id])))
    .catch((e) => { projectsOnce = null; throw e; });
  return projectsOnce;
}
function projectLabel(b, names) {
  return (names && names.get(b.project_id)) || b.project_id;
}

// Move unassigned scans into a batch one after another (scan order kept); returns how many moved.
async function moveScans(batchId, scans) {
  let moved = 0;
  for (const s of scans) {
    try {
      await post('/batches/' + encodeURIComponent(batchId) + '/entries', { scan_id: s.scan_id });
      moved += 1;
    } catch (e) { fail(e); break; }
  }
  return moved;
}

function unassignedLabel(s) {
  return s.display_name || s.code;
}

// Ask before adding a client already served today (it would be a Duplicate that blocks Post).
async function addServedOk(c) {
  if (!c.served_today) return true;
  return confirmDialog({
    title: t('served.add_q', { name: c.display_name }), body: t('served.add_body'),
    ok: t('served.add_anyway'), cancel: t('common.cancel'), danger: true,
  });
}

function servedMark(c) {
  return c.served_today ? h('span', { class: 'vchip vc-duplicate served-mark' }, t('served.mark')) : null;
}

// ---------------------------------------------------------------- batches list

export function batchesScreen(el, ctx) {
  let open = [], posted = [], unassigned = [], projects = null;
  let alive = true;

  async function load() {
    try {
      [open, posted, unassigned, projects] = await Promise.all([
        get('/batches?state=open'),
        get('/batches?state=posted'),
        get('/scans/unassigned').catch(() => []),
        projectNames().catch(() => null),
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
          h('div', { class: 'muted batch-project' }, projectLabel(b, projects)),
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
    const allTo = h('select', { id: 'move-all-to', 'aria-label': t('unassigned.move_to') },
      open.map((b) => h('option', { value: b.id }, (b.name || serviceLabel(b)) + ' · ' + fmtDate(b.service_date))));
    return h('section', { class: 'notice', id: 'unassigned' },
      h('h2', null, t('unassigned.title', { n: unassigned.length })),
      h('p', { class: 'muted' }, t('unassigned.hint')),
      open.length ? h('div', { class: 'row wrap' }, allTo,
        h('button', { class: 'btn primary', type: 'button', id: 'move-all', onclick: async () => {
          const n = await moveScans(allTo.value, unassigned);
          if (n) toast(t('unassigned.moved_n', { n }));
          load();
        } }, t('unassigned.move_all', { n: unassigned.length }))) : null,
      h('ul', { class: 'list' }, unassigned.map((s) => {
        const sel = h('select', { 'aria-label': t('unassigned.move_to') },
          open.map((b) => h('option', { value: b.id }, (b.name || serviceLabel(b)) + ' · ' + fmtDate(b.service_date))));
        return h('li', { class: 'card row wrap' },
          h('div', { class: 'grow' },
            h('div', { class: 'title' }, unassignedLabel(s)),
            h('div', { class: 'muted' }, [s.display_name ? t('entry.code', { code: s.code }) : null, t('unassigned.scanned', { lane: s.lane, time: fmtDateTime(s.scanned_at) })].filter(Boolean).join(' · '))),
          open.length ? sel : null,
          open.length ? h('button', { class: 'btn', type: 'button', onclick: async () => {
            try {
              const entry = await post('/batches/' + encodeURIComponent(sel.value) + '/entries', { scan_id: s.scan_id });
              toast(t('unassigned.moved', { verdict: t('verdict.' + entry.verdict + '.short') }));
              load();
            } catch (e) { fail(e); }
          } }, t('unassigned.move')) : null,
          h('button', { class: 'btn', type: 'button', onclick: async () => {
            if (!await confirmDialog({ title: t('unassigned.dismiss_q'), body: unassignedLabel(s), ok: t('unassigned.dismiss'), cancel: t('common.cancel'), danger: true })) return;
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
    let projects, services, lanes, open, session;
    try {
      // The session says the station's today and the dates the server allows (back-dating limit).
      [projects, services, lanes, open, session] = await Promise.all([get('/projects'), get('/services'),
        get('/lanes').catch(() => []), get('/batches?state=open').catch(() => []), get('/session')]);
    } catch (e) { fail(e); return; }
    if (!alive) return;
    const dates = session.service_dates || { earliest: session.today, latest: session.today };
    const today = session.today || dates.latest;
    const params = ctx.params || new URLSearchParams();
    const projId = (p) => p.project_id ?? p.id;
    const projName = (p) => p.name ?? p.project_name ?? projId(p);
    const f = {};
    const field = (id, label, input, hint) => h('div', { class: 'field' },
      h('label', { for: id }, label), input, hint ? h('p', { class: 'muted small' }, hint) : null);
    f.project = h('select', { id: 'f-project', required: true },
      projects.map((p) => h('option', { value: projId(p) }, projName(p))));
    f.service = h('select', { id: 'f-service', required: true, onchange: fillDefaults },
      services.map((s) => h('option', { value: s.code }, s.name + ' (' + s.code + ')')));
    f.date = h('input', { id: 'f-date', type: 'date', required: true, value: today, min: dates.earliest, max: dates.latest });
    f.units = h('input', { id: 'f-units', type: 'number', min: '0', step: 'any', inputmode: 'decimal', required: true });
    f.value = h('input', { id: 'f-value', type: 'text', inputmode: 'decimal', pattern: '^[0-9]+(\\.[0-9]{1,2})?$', required: true });
    f.name = h('input', { id: 'f-name', type: 'text', maxlength: '80', placeholder: t('new.name_placeholder') });
    const laneNames = [...new Set(lanes.map((l) => l.lane))];
    const laneOf = (l) => lanes.find((x) => x.lane === l);
    f.lane = h('select', { id: 'f-lane', onchange: laneDefaults },
      h('option', { value: '' }, t('new.no_lane')),
      laneNames.map((l) => h('option', { value: l }, l + (laneOf(l).batch_id ? ' ' + t('new.lane_busy') : ''))));
    // The lane: asked for (the "next batch" button), else this screen's own lane while it is free.
    const wanted = params.get('lane') || (laneOf(ctx.lane) && !laneOf(ctx.lane).batch_id ? ctx.lane : '');
    if (laneOf(wanted)) f.lane.value = wanted;
    // Per lane the project and service last used are the defaults (kept on the station, so every
    // tablet offers the same); the "next batch" button's own choice wins.
    function pick(select, value) {
      if (value && [...select.options].some((o) => o.value === value)) select.value = value;
    }
    function laneDefaults() {
      const d = (laneOf(f.lane.value) || {}).defaults;
      if (d) { pick(f.project, d.project_id); pick(f.service, d.service_code); }
      fillDefaults();
    }
    function fillDefaults() {
      const s = services.find((x) => x.code === f.service.value);
      if (s) { f.units.value = s.units; f.value.value = s.unit_value; }
    }
    laneDefaults();
    pick(f.project, params.get('project'));
    pick(f.service, params.get('service'));
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
      const feeds = f.lane.value && (laneOf(f.lane.value) || {}).batch_id;
      if (feeds && !await confirmMoveLane(f.lane.value, open.find((b) => b.id === feeds))) { submit.disabled = false; return; }
      try {
        const b = await post('/batches', body);
        toast(t('new.created'));
        ctx.go('#batch/' + encodeURIComponent(b.id));
      } catch (err) { fail(err); submit.disabled = false; }
    } },
      field('f-lane', t('new.lane'), f.lane),
      field('f-project', t('new.project'), f.project),
      field('f-service', t('new.service'), f.service),
      field('f-date', t('new.date'), f.date, t('new.date_hint', { from: fmtDate(dates.earliest), to: fmtDate(dates.latest) })),
      h('div', { class: 'row wrap' },
        field('f-units', t('new.units'), f.units),
        field('f-value', t('new.unit_value'), f.value)),
      field('f-name', t('new.name'), f.name, t('new.name_hint')),
      h('div', { class: 'row end' },
        h('a', { class: 'btn', href: '#batches' }, t('common.cancel')),
        submit));
    mount(el, h('h1', null, t('new.title')), form);
  })();
  return { stop() { alive = false; } };
}

// New batch with the same lane, project and service preselected (after a post).
function nextBatchHash(b, lane) {
  const q = new URLSearchParams({ project: b.project_id, service: b.service_code });
  if (b.lane || lane) q.set('lane', b.lane || lane);
  return '#new?' + q.toString();
}

// A lane feeds one batch: taking it for another asks first.
function confirmMoveLane(lane, from) {
  return confirmDialog({
    title: t('lane.move_q', { lane, batch: from ? from.name || serviceLabel(from) : '' }),
    body: t('lane.move_body'), ok: t('lane.move'), cancel: t('common.cancel'),
  });
}

// ---------------------------------------------------------------- batch review

export function batchScreen(el, ctx, id) {
  let batch = null;
  let lanes = [];
  let projects = null;
  let unassigned = [];
  let filterFlagged = false;
  let alive = true;
  let postedFrom = null; // the lane the batch fed before it was posted here (posting unbinds it)
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
          h('p', { class: 'batch-project', id: 'batch-project' }, t('batch.project', { project: projectLabel(b, projects) })),
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
        h('a', { class: 'btn primary', id: 'next-batch', href: nextBatchHash(b, postedFrom) }, t('batch.next')),
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
      isOpen && unassigned.length ? h('section', { class: 'notice row wrap', id: 'batch-unassigned' },
        h('p', { class: 'grow' }, t('unassigned.waiting', { n: unassigned.length }),
          ' ', h('span', { class: 'muted' }, unassigned.slice(0, 5).map(unassignedLabel).join(', ') + (unassigned.length > 5 ? ', …' : ''))),
        h('button', { class: 'btn primary', type: 'button', id: 'move-all-here', onclick: async () => {
          const n = await moveScans(b.id, unassigned);
          if (n) toast(t('unassigned.moved_n', { n }));
          loadUnassigned();
        } }, t('unassigned.move_here', { n: unassigned.length }))) : null,
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
      h('button', { class: 'btn', type: 'button', id: 'bind', onclick: async () => {
        const feeds = (lanes.find((l) => l.lane === sel.value) || {}).batch_id;
        if (feeds && feeds !== batch.id) {
          const from = await get('/batches/' + encodeURIComponent(feeds)).catch(() => null);
          if (!await confirmMoveLane(sel.value, from)) return;
        }
        await act(() => put('/lanes/' + encodeURIComponent(sel.value), { batch_id: batch.id }), 'batch.bound');
        lanes = await get('/lanes').catch(() => lanes);
        render();
      } }, t('batch.bind')));
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
    const b = batch;
    // Posting unbinds the lane: said here, with the next batch one tap away.
    const ok = await confirmDialog({
      title: t('batch.post_q', { n: c.ok }),
      body: [t('batch.post_body', { n: c.ok, service: serviceLabel(b), date: fmtDate(b.service_date), removed: c.removed }),
        b.lane ? t('batch.post_unbinds', { lane: b.lane }) : null],
      ok: t('batch.post_confirm', { n: c.ok }), cancel: t('common.cancel'),
      alt: t('batch.post_and_next', { n: c.ok }),
    });
    if (!ok) return;
    try {
      const r = await post(path + '/post');
      postedFrom = b.lane;
      toast(t('batch.posted_n', { n: r.posted }));
      if (ok === 'alt') { ctx.go(nextBatchHash(b, b.lane)); return; }
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
  projectNames().then((p) => { projects = p; if (batch && alive) render(); }).catch(() => {});
  async function loadUnassigned() {
    const u = await get('/scans/unassigned').catch(() => null);
    if (!u || !alive) return;
    const changed = JSON.stringify(u) !== JSON.stringify(unassigned);
    unassigned = u;
    if (changed && batch) render();
  }
  ctx.on(EVENT.SCAN, (d) => { if (d.unassigned) loadUnassigned(); });
  loadUnassigned();
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
    const params = new URLSearchParams({ q: q.value.trim(), batch: id });
    if (dob.value) params.set('dob', dob.value);
    mount(results, h('p', { class: 'muted' }, t('common.loading')));
    try {
      const list = await get('/clients?' + params.toString());
      mount(results, list.length === 0 ? h('p', { class: 'muted' }, t('lost.none')) :
        h('ul', { class: 'list' }, list.map((c) => h('li', { class: 'card row' + (c.served_today ? ' served-today' : ''), dataset: { served: String(!!c.served_today) } },
          h('div', { class: 'grow' }, h('div', { class: 'title' }, c.display_name), h('div', { class: 'muted small' }, t('entry.client', { id: c.client_id }))),
          servedMark(c),
          h('button', { class: 'btn primary', type: 'button', dataset: { client: c.client_id }, onclick: async (ev) => {
            const btn = ev.currentTarget;
            if (!await addServedOk(c)) return;
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

// A roster row's index letter: the first letter of its name, accents folded (É under E).
function initial(r) {
  const c = (r.display_name || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').charAt(0).toUpperCase();
  return /[A-ZÑ]/.test(c) ? c : '#';
}

export function rosterScreen(el, ctx, id) {
  const bpath = '/batches/' + encodeURIComponent(id);
  let roster = [];
  let filter = '';
  let alive = true;
  const list = h('ul', { class: 'list roster', id: 'roster-list' });
  const index = h('nav', { class: 'letter-index', id: 'roster-index', 'aria-label': t('roster.index') });
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
    // The letter index: a tap jumps to the first shown client whose name starts with it.
    const firsts = [];
    for (const r of shown) {
      const c = initial(r);
      if (c && !firsts.includes(c)) firsts.push(c);
    }
    mount(index, firsts.length > 1 ? firsts.map((c) => h('button', { class: 'btn letter', type: 'button', dataset: { letter: c }, onclick: () => {
      const row = list.querySelector('[data-initial="' + c + '"]');
      // Scroll the screen so the row sits just under the index. The index sticks to the top once
      // scrolled past, so measure again after the first step and correct.
      const under = () => row.getBoundingClientRect().top - index.getBoundingClientRect().bottom - 4;
      if (row) { el.scrollTop += under(); el.scrollTop += under(); }
    } }, c)) : null);
    let seen = '';
    mount(list, shown.length === 0 ? h('li', { class: 'muted pad' }, t('roster.none')) : shown.map((r) => {
      const c = initial(r);
      const first = c !== seen;
      seen = c;
      return h('li', { dataset: first ? { initial: c } : null }, h('button', {
        class: 'card tick' + (r.in_batch ? ' ticked' : '') + (r.served_today && !r.in_batch ? ' served-today' : ''), type: 'button', role: 'checkbox',
        'aria-checked': String(!!r.in_batch), disabled: r.in_batch, dataset: { client: r.client_id, served: String(!!r.served_today) },
        onclick: async () => {
          if (!await addServedOk(r)) return;
          try {
            const entry = await post(bpath + '/entries', { client_id: r.client_id, source: 'roster' });
            r.in_batch = true;
            if (entry.verdict !== VERDICT.OK) toast(t('lost.added', { name: r.display_name, verdict: t('verdict.' + entry.verdict + '.short') }), 'bad');
            renderList();
          } catch (e) { fail(e); }
        },
      }, h('span', { class: 'box', 'aria-hidden': 'true' }, r.in_batch ? '✓' : ''), h('span', { class: 'grow' }, r.display_name),
      r.in_batch ? null : servedMark(r), h('span', { class: 'muted small' }, r.client_id)));
    }));
  }

  mount(el,
    h('div', { class: 'row between' }, h('h1', null, t('roster.title')), h('a', { class: 'btn', href: '#batch/' + encodeURIComponent(id) }, t('common.back_to_batch'))),
    h('p', { class: 'muted' }, t('roster.hint')),
    input, index, list);
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
