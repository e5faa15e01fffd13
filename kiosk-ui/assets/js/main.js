// Boot, routing, supervisor session and idle lock.
//   /            lane screen of lane "main";  /?lane=NAME another lane
//   #batches  #new  #batch/ID  #batch/ID/lost  #batch/ID/roster  #status   (supervisor)

import { h, mount, toast, dropOldToast } from './dom.js';
import { initI18n, t, errText, setLang, otherLang, onLangChange, setTimeZone } from './i18n.js';
import { get, del, on, onConnection, connectEvents, onUnauthorized } from './api.js';
import { laneScreen, verdictView, sayVerdict, shownName, announce } from './lane.js';
import { playVerdict } from './sound.js';
import { initKeyboard, hide as hideKeyboard } from './kbd.js';
import { pinPad } from './pin.js';
import * as sup from './supervisor.js';
import { EVENT, UNASSIGNED } from './names.js';

const app = document.getElementById('app');
const laneName = new URLSearchParams(location.search).get('lane') || 'main';

let session = null; // {supervisor, idle_lock_seconds}
let lastTouch = Date.now();
let current = null; // {stop?}
let scoped = null; // per-screen handlers, dropped on navigation
let pinShown = false;

function newScope() {
  scoped = { events: {}, conn: [], lang: [] };
  const s = scoped;
  return {
    on: (name, f) => { (s.events[name] ||= []).push(f); },
    onConnection: (f) => { s.conn.push(f); },
    onLang: (f) => { s.lang.push(f); },
    session: () => session,
    go,
  };
}

for (const name of [EVENT.SCAN, EVENT.BATCH, EVENT.SCANNER, EVENT.DELIVERY, EVENT.LANE]) {
  on(name, (d) => { const s = scoped; if (s) (s.events[name] || []).forEach((f) => f(d)); });
}
// The station has one screen: while a supervisor works on it (or the PIN pad is up), every scan
// still shows, as an overlay with its tone that taps go through, gone after a few seconds.
const OVERLAY_MS = 4000;
let overlaySeq = 0;
let overlayTimer = 0;
on(EVENT.SCAN, (d) => {
  if (app.className === 'screen-lane') return; // the lane screen shows its own banner
  if (!d.lane) return; // an entry a supervisor added here (roster, lost card, moved scan): no scan at a lane
  const verdict = d.entry ? d.entry.verdict : d.unassigned ? UNASSIGNED : null;
  if (!verdict) return;
  const name = d.entry ? shownName(d.entry) : null;
  overlaySeq += 1;
  const view = verdictView(verdict, name, { id: 'overlay', role: 'presentation', dataset: { verdict, seq: String(overlaySeq), lane: d.lane } });
  view.classList.add('overlay');
  view.prepend(h('div', { class: 'overlay-lane' }, t('lane.lane', { lane: d.lane })));
  const old = document.getElementById('overlay');
  if (old) old.replaceWith(view); else document.body.appendChild(view);
  playVerdict(verdict);
  announce(sayVerdict(verdict, name));
  clearTimeout(overlayTimer);
  overlayTimer = setTimeout(() => view.remove(), OVERLAY_MS);
});

let everConnected = false;
onConnection((up) => {
  everConnected ||= up;
  document.body.classList.toggle('offline', everConnected && !up);
  const s = scoped;
  if (s) s.conn.forEach((f) => f(up));
});
onLangChange(() => {
  const s = scoped;
  if (s && s.lang.length) s.lang.forEach((f) => f());
  else route();
});

export function go(hash) {
  if (location.hash === hash || (hash === '' && !location.hash)) route();
  else location.hash = hash;
}

function stopCurrent() {
  hideKeyboard();
  if (current && current.stop) current.stop();
  current = null;
  scoped = null;
  pinShown = false;
}

function showLane() {
  stopCurrent();
  const o = document.getElementById('overlay');
  if (o) o.remove();
  document.title = t('lane.title', { lane: laneName });
  app.className = 'screen-lane';
  const ctx = newScope();
  current = laneScreen(app, ctx, laneName, () => go('#batches'));
}

function showPin(reason) {
  stopCurrent();
  pinShown = true;
  document.title = t('pin.title');
  app.className = 'screen-pin';
  newScope();
  current = pinPad(app, {
    reason,
    onLogin: (s) => {
      session = s;
      setTimeZone(s.timezone);
      pinShown = false;
      lastTouch = Date.now();
      route();
    },
    onCancel: () => { pinShown = false; go(''); },
  });
}

async function route() {
  dropOldToast();
  // #new?lane=..&project=..&service=..: a screen's own parameters after '?'.
  const [hash, query] = location.hash.replace(/^#\/?/, '').split('?');
  if (!hash) { showLane(); return; }
  if (!session) {
    try {
      session = await get('/session', { quiet401: true });
      setTimeZone(session.timezone);
    } catch (e) {
      if (e.status !== 401) toast(errText(e), 'bad');
      showPin(idleLocked ? 'pin.reason_idle' : undefined);
      idleLocked = false;
      return;
    }
  }
  const parts = hash.split('/');
  stopCurrent();
  app.className = 'screen-sup';
  const ctx = newScope();
  const body = h('main', { class: 'sup-body', id: 'sup-body' });
  mount(app, supHeader(parts[0]), body);
  let screen;
  if (parts[0] === 'batches') screen = sup.batchesScreen;
  else if (parts[0] === 'new') screen = sup.newBatchScreen;
  else if (parts[0] === 'status') screen = sup.statusScreen;
  else if (parts[0] === 'batch' && parts[1] && parts[2] === 'lost') screen = sup.lostCardScreen;
  else if (parts[0] === 'batch' && parts[1] && parts[2] === 'roster') screen = sup.rosterScreen;
  else if (parts[0] === 'batch' && parts[1]) screen = sup.batchScreen;
  else { go('#batches'); return; }
  document.title = 'scanstation';
  ctx.params = new URLSearchParams(query || '');
  ctx.lane = laneName;
  current = screen(body, ctx, decodeURIComponent(parts[1] || '')) || null;
}

function supHeader(active) {
  const tab = (hash, key) => h('a', {
    class: 'tab' + (active === hash.slice(1) || (hash === '#batches' && ['batch', 'new'].includes(active)) ? ' active' : ''),
    href: hash,
    'aria-current': active === hash.slice(1) ? 'page' : null,
  }, t(key));
  return h('header', { class: 'sup-head', dataset: { offline: t('lane.reconnecting') } },
    h('nav', { class: 'tabs', 'aria-label': t('nav.label') },
      tab('#batches', 'nav.batches'),
      tab('#status', 'nav.status'),
      h('a', { class: 'tab', href: location.pathname + location.search, id: 'nav-lane' }, t('nav.lane'))),
    h('div', { class: 'row' },
      h('button', { class: 'btn ghost', type: 'button', lang: otherLang(), onclick: () => setLang(otherLang()) }, t('lang.switch')),
      h('button', { class: 'btn ghost', type: 'button', id: 'lock', onclick: () => lock('pin.reason_locked_by_hand') },
        t('nav.lock', { name: session ? session.supervisor : '' }))));
}

async function lock(reason) {
  const had = session;
  session = null;
  if (had) {
    try { await del('/session'); } catch (_) { /* expired already */ }
  }
  showPin(reason);
}

// The idle lock ends the session and gives the screen back to the lane.
let idleLocked = false;
async function idleLock() {
  const had = session;
  session = null;
  if (had) {
    try { await del('/session'); } catch (_) { /* expired already */ }
  }
  // Said on the PIN pad when a supervisor comes back, not over the lane screen.
  idleLocked = true;
  go('');
}

onUnauthorized(() => {
  if (session && !pinShown) { session = null; showPin('pin.reason_expired'); }
});

// Idle lock: any touch, click or key counts as activity.
for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
  document.addEventListener(ev, () => { lastTouch = Date.now(); }, { capture: true, passive: true });
}
const PIN_IDLE_MS = 60000;
setInterval(() => {
  // A PIN pad left alone goes back to the lane screen too.
  if (pinShown && !session && Date.now() - lastTouch >= PIN_IDLE_MS) { go(''); return; }
  if (!session || pinShown) return;
  const limit = (session.idle_lock_seconds || 120) * 1000;
  if (Date.now() - lastTouch >= limit) idleLock();
}, 1000);

window.addEventListener('hashchange', route);

(async function boot() {
  try {
    await initI18n();
  } catch (e) {
    mount(app, h('p', { class: 'boot-msg' }, 'scanstation: ' + e.message));
    return;
  }
  connectEvents();
  initKeyboard();
  route();
})();
