// The public lane screen: one big verdict banner per scan, readable from two metres.

import { h, mount } from './dom.js';
import { t, errText, otherLang, setLang, fmtDate } from './i18n.js';
import { get, isDown } from './api.js';
import { playVerdict, unlockAudio } from './sound.js';
import { KNOWN_CLIENT, UNASSIGNED, EVENT } from './names.js';
import { verdictIcon, verdictClass } from './verdict.js';

const BANNER_MS = 4000;
const RECENT = 5;

export function laneScreen(root, ctx, laneName, goSupervisor) {
  let lane = { lane: laneName, batch: null, scanners: [] };
  let banner = null; // {verdict, name, id}
  let bannerTimer = 0;
  let loaded = false;
  let laneError = null;
  let alive = true;
  const recent = []; // the last verdicts, newest first: {verdict, name, seq}

  const els = {};

  function render() {
    if (!alive) return;
    const b = lane.batch;
    if (isDown()) {
      // Scans cannot be shown (and with the daemon down are not recorded): say so over the whole screen.
      mount(root,
        h('section', { class: 'lane offline-full', id: 'conn', role: 'alert' },
          h('div', { class: 'off-main' }, verdictIcon('offline', 'off-icon'),
            h('div', { class: 'off-title' }, t('lane.offline'))),
          h('div', { class: 'off-hint' }, t('lane.offline_hint'))));
      return;
    }
    mount(root,
      h('div', { class: 'lane' },
        h('header', { class: 'lane-head' },
          h('div', { class: 'lane-title' },
            h('span', { class: 'lane-name' }, t('lane.lane', { lane: laneName })),
            b ? h('span', { class: 'lane-batch', id: 'lane-batch' }, [b.service_name || b.name, fmtDate(b.service_date)].filter(Boolean).join(' · ')) : null),
          b ? h('div', { class: 'served', 'aria-label': t('lane.served_aria', { n: b.served }) },
            h('span', { class: 'served-n', id: 'served-n' }, String(b.served ?? 0)),
            h('span', { class: 'served-l' }, t('lane.served'))) : null),
        els.banner = bannerEl(b),
        recentEl(),
        h('footer', { class: 'lane-foot' },
          h('ul', { class: 'scanners', 'aria-label': t('lane.scanners') },
            lane.scanners.length === 0
              ? h('li', { class: 'chip chip-grey' }, t('lane.no_scanners'))
              : lane.scanners.map((s) => h('li', { class: 'chip ' + scannerClass(s.state), title: s.reason || '', dataset: { scanner: s.name, state: s.state } },
                h('span', { class: 'dot', 'aria-hidden': 'true' }),
                h('span', { class: 'chip-text' }, t('lane.scanner', { name: s.name, state: t('scanner.' + s.state) }))))),
          h('div', { class: 'row' },
            h('button', { class: 'btn ghost', type: 'button', lang: otherLang(), onclick: () => setLang(otherLang()) }, t('lang.switch')),
            h('button', { class: 'btn ghost', type: 'button', id: 'to-supervisor', onclick: goSupervisor }, t('lane.supervisor'))))));
  }

  function recentEl() {
    return h('ol', { class: 'recent', id: 'recent', 'aria-label': t('lane.recent') },
      recent.map((r) => h('li', { class: 'rc ' + verdictClass(r.verdict), dataset: { verdict: r.verdict } },
        verdictIcon(r.verdict, 'rc-icon'),
        h('span', { class: 'rc-text' }, r.name || t('verdict.' + r.verdict + '.banner')))));
  }

  function bannerEl(b) {
    if (banner && banner.refused) {
      // The station could not record the scan (disk full, read-only): not a verdict, an alarm.
      return h('section', { class: 'banner v-bad v-refused', id: 'banner', role: 'alert', dataset: { verdict: 'refused', code: banner.refused, seq: String(banner.seq) } },
        h('div', { class: 'banner-verdict' }, t('lane.refused')),
        h('div', { class: 'banner-hint' }, t('error.code.' + banner.refused)));
    }
    if (banner) {
      return verdictView(banner.verdict, banner.name, { id: 'banner', 'aria-hidden': 'true', dataset: { verdict: banner.verdict, seq: String(banner.seq) } });
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
    recent.unshift({ verdict, name, seq });
    recent.length = Math.min(recent.length, RECENT);
    render();
    const shownSeq = seq;
    // Record when the banner entered the page and when it reached the screen (the next frame),
    // for the latency measurement.
    if (els.banner) els.banner.dataset.renderedAt = String(performance.timeOrigin + performance.now());
    requestAnimationFrame(() => {
      if (els.banner) els.banner.dataset.shownAt = String(performance.timeOrigin + performance.now());
    });
    playVerdict(verdict);
    announce(sayVerdict(verdict, name));
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
      else if (e.status >= 400 && e.status < 500) laneError = errText(e);
    }
    render();
  }

  ctx.on(EVENT.SCAN, (d) => {
    if (!alive || d.lane !== laneName) return;
    if (d.entry) {
      if (d.batch && lane.batch && d.batch.id === lane.batch.id) lane.batch.served = d.batch.served;
      else if (d.batch) refresh();
      show(d.entry.verdict, shownName(d.entry));
    } else if (d.unassigned) {
      show(UNASSIGNED, null);
    } else if (d.refused) {
      // Stays until the next recorded scan: nobody may take it for a card that went through.
      seq += 1;
      banner = { refused: d.refused.code, seq };
      clearTimeout(bannerTimer);
      render();
      playVerdict('refused');
      announce(t('lane.refused'));
    }
  });
  ctx.on(EVENT.BATCH, () => { if (alive) refresh(); });
  // A supervisor bound or unbound this lane: follow it at once.
  ctx.on(EVENT.LANE, (d) => { if (alive && d.lane === laneName) { banner = null; refresh(); } });
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

/// A verdict as the big banner shows it: symbol beside the word, the display name, the hint.
export function verdictView(verdict, name, attrs) {
  const hint = t('verdict.' + verdict + '.hint');
  return h('section', { ...attrs, class: 'banner ' + verdictClass(verdict) },
    h('div', { class: 'banner-main' },
      verdictIcon(verdict, 'banner-icon'),
      h('div', { class: 'banner-verdict' }, t('verdict.' + verdict + '.banner'))),
    name ? h('div', { class: 'banner-name', id: attrs.id ? attrs.id + '-name' : null }, name) : null,
    hint ? h('div', { class: 'banner-hint' }, hint) : null);
}

export function sayVerdict(verdict, name) {
  return t('verdict.' + verdict + '.banner') + (name ? ', ' + name : '');
}

/// The display name the public screens may show for a scan event's entry.
export function shownName(entry) {
  return KNOWN_CLIENT.has(entry.verdict) ? entry.display_name || null : null;
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
