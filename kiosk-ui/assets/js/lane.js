// The public lane screen: one big verdict banner per scan, readable from two metres.

import { h, mount } from './dom.js';
import { t, otherLang, setLang, fmtDate } from './i18n.js';
import { get, isConnected } from './api.js';
import { playVerdict, unlockAudio } from './sound.js';
import { VERDICT, KNOWN_CLIENT, UNASSIGNED, EVENT } from './names.js';

const BANNER_MS = 4000;

const VERDICT_CLASS = {
  [VERDICT.OK]: 'v-ok',
  [VERDICT.NO_OPEN_ENROLLMENT]: 'v-bad',
  [VERDICT.DUPLICATE]: 'v-warn',
  [VERDICT.UNKNOWN_CLIENT]: 'v-grey',
  [VERDICT.INVALID_CODE]: 'v-grey',
  [UNASSIGNED]: 'v-grey',
};

export function laneScreen(root, ctx, laneName, goSupervisor) {
  let lane = { lane: laneName, batch: null, scanners: [] };
  let banner = null; // {verdict, name, id}
  let bannerTimer = 0;
  let loaded = false;
  let laneError = null;
  let alive = true;

  const els = {};

  function render() {
    if (!alive) return;
    const b = lane.batch;
    mount(root,
      h('div', { class: 'lane' },
        h('header', { class: 'lane-head' },
          h('div', { class: 'lane-title' },
            h('span', { class: 'lane-name' }, t('lane.lane', { lane: laneName })),
            b ? h('span', { class: 'lane-batch' }, [b.service_name || b.name, fmtDate(b.service_date)].filter(Boolean).join(' · ')) : null),
          b ? h('div', { class: 'served', 'aria-label': t('lane.served_aria', { n: b.served }) },
            h('span', { class: 'served-n', id: 'served-n' }, String(b.served ?? 0)),
            h('span', { class: 'served-l' }, t('lane.served'))) : null),
        els.banner = bannerEl(b),
        h('footer', { class: 'lane-foot' },
          h('ul', { class: 'scanners', 'aria-label': t('lane.scanners') },
            lane.scanners.length === 0
              ? h('li', { class: 'chip chip-grey' }, t('lane.no_scanners'))
              : lane.scanners.map((s) => h('li', { class: 'chip ' + scannerClass(s.state), title: s.reason || '', dataset: { scanner: s.name, state: s.state } },
                h('span', { class: 'dot', 'aria-hidden': 'true' }),
                h('span', { class: 'chip-text' }, t('lane.scanner', { name: s.name, state: t('scanner.' + s.state) }))))),
          isConnected() ? null : h('span', { class: 'chip chip-bad', id: 'conn' }, t('lane.reconnecting')),
          h('div', { class: 'row' },
            h('button', { class: 'btn ghost', type: 'button', lang: otherLang(), onclick: () => setLang(otherLang()) }, t('lang.switch')),
            h('button', { class: 'btn ghost', type: 'button', id: 'to-supervisor', onclick: goSupervisor }, t('lane.supervisor'))))));
  }

  function bannerEl(b) {
    if (banner) {
      const cls = VERDICT_CLASS[banner.verdict] || 'v-grey';
      return h('section', { class: 'banner ' + cls, id: 'banner', 'aria-hidden': 'true', dataset: { verdict: banner.verdict, seq: String(banner.seq) } },
        h('div', { class: 'banner-verdict' }, t('verdict.' + banner.verdict + '.banner')),
        banner.name ? h('div', { class: 'banner-name', id: 'banner-name' }, banner.name) : null,
        banner.verdict !== VERDICT.OK ? h('div', { class: 'banner-hint' }, t('verdict.' + banner.verdict + '.hint')) : null);
    }
    if (laneError) return h('section', { class: 'banner v-idle', id: 'banner', dataset: { verdict: 'error' } }, h('div', { class: 'banner-verdict small' }, laneError));
    if (!loaded) return h('section', { class: 'banner v-idle', id: 'banner', dataset: { verdict: 'loading' } }, h('div', { class: 'banner-verdict small' }, t('lane.connecting')));
    if (!b) {
      return h('section', { class: 'banner v-idle', id: 'banner', dataset: { verdict: 'unbound' } },
        h('div', { class: 'banner-verdict small' }, t('lane.unbound')),
        h('div', { class: 'banner-hint' }, t('lane.unbound_hint')));
    }
    return h('section', { class: 'banner v-ready', id: 'banner', dataset: { verdict: 'ready' } },
      h('div', { class: 'banner-verdict' }, t('lane.ready')),
      h('div', { class: 'banner-hint' }, t('lane.ready_hint')));
  }

  let seq = 0;
  function show(verdict, name) {
    seq += 1;
    banner = { verdict, name, seq };
    render();
    const shownSeq = seq;
    // Record when the banner entered the page and when it reached the screen (the next frame),
    // for the latency measurement.
    if (els.banner) els.banner.dataset.renderedAt = String(performance.timeOrigin + performance.now());
    requestAnimationFrame(() => {
      if (els.banner) els.banner.dataset.shownAt = String(performance.timeOrigin + performance.now());
    });
    playVerdict(verdict);
    const say = t('verdict.' + verdict + '.banner') + (name ? ', ' + name : '');
    announce(say);
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(() => {
      if (banner && banner.seq === shownSeq) { banner = null; render(); }
    }, BANNER_MS);
  }

  async function refresh() {
    try {
      lane = await get('/lanes/' + encodeURIComponent(laneName));
      loaded = true;
      laneError = null;
    } catch (e) {
      if (e.status === 404) { lane = { lane: laneName, batch: null, scanners: [] }; loaded = true; }
      else if (e.status >= 400 && e.status < 500) laneError = e.message;
    }
    render();
  }

  ctx.on(EVENT.SCAN, (d) => {
    if (!alive || d.lane !== laneName) return;
    if (d.entry) {
      if (d.batch && lane.batch && d.batch.id === lane.batch.id) lane.batch.served = d.batch.served;
      else if (d.batch) refresh();
      show(d.entry.verdict, KNOWN_CLIENT.has(d.entry.verdict) ? d.entry.display_name : null);
    } else if (d.unassigned) {
      show(UNASSIGNED, null);
    }
  });
  ctx.on(EVENT.BATCH, () => { if (alive) refresh(); });
  ctx.on(EVENT.SCANNER, (s) => {
    if (!alive || s.lane !== laneName) return;
    const i = lane.scanners.findIndex((x) => x.name === s.name);
    const entry = { name: s.name, state: s.state, reason: s.reason };
    if (i >= 0) lane.scanners[i] = entry; else lane.scanners.push(entry);
    render();
  });
  ctx.onConnection((up) => { if (up) refresh(); else render(); });
  ctx.onLang(() => render());
  root.addEventListener('pointerdown', unlockAudio);

  render();
  refresh();
  return { stop() { alive = false; clearTimeout(bannerTimer); } };
}

function scannerClass(state) {
  return state === 'connected' ? 'chip-ok' : state === 'busy' ? 'chip-warn' : 'chip-bad';
}

export function announce(text) {
  const el = document.getElementById('announce');
  el.textContent = '';
  // A fresh text node makes screen readers speak repeated verdicts too.
  setTimeout(() => { el.textContent = text; }, 30);
}
