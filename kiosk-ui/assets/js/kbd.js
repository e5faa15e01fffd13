// On-screen keyboard and number pad for the kiosk's text fields (the station has a touchscreen
// and no keyboard). A field that gets focus brings up the letters (alphabetical: no typing skill
// needed) and digits, or the number pad for numeric fields; keys are 48 px or more. The field keeps focus,
// so a real keyboard still works alongside.

import { h, mount } from './dom.js';
import { t, lang } from './i18n.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const NUMBERS = '0123456789';
const DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '.', '0', '-'];
let panel = null;
let target = null;

function wantsPad(el) {
  return el.type === 'number' || el.inputMode === 'decimal' || el.inputMode === 'numeric';
}

function typeable(el) {
  return el instanceof HTMLInputElement && ['text', 'search', 'number'].includes(el.type) && !el.readOnly && !el.disabled;
}

function insert(s) {
  if (!target) return;
  if (s === null) target.value = target.value.slice(0, -1);
  else target.value += s;
  target.dispatchEvent(new Event('input', { bubbles: true }));
}

function key(label, onPress, attrs) {
  // pointerdown keeps the focus in the field; the click does the typing.
  return h('button', { type: 'button', class: 'kbd-key', onmousedown: (e) => e.preventDefault(), onclick: onPress, ...attrs }, label);
}

function render(pad) {
  const keys = pad
    ? DIGITS.map((d) => key(d, () => insert(d), { dataset: { kbd: d } }))
    : [...LETTERS + (lang() === 'es' ? 'ñ' : '') + NUMBERS].map((c) => key(c, () => insert(c), { dataset: { kbd: c } }));
  if (!pad) keys.push(key(t('kbd.space'), () => insert(' '), { class: 'kbd-key kbd-wide', dataset: { kbd: 'space' } }));
  keys.push(key('⌫', () => insert(null), { class: 'kbd-key kbd-fn', 'aria-label': t('kbd.backspace'), dataset: { kbd: 'backspace' } }));
  keys.push(key(t('kbd.done'), done, { class: 'kbd-key kbd-fn kbd-done', dataset: { kbd: 'done' } }));
  mount(panel, h('div', { class: 'kbd-grid' + (pad ? ' kbd-pad' : '') }, keys));
  panel.dataset.layout = pad ? 'pad' : 'letters';
}

function show(el) {
  target = el;
  if (!panel) {
    panel = h('div', { class: 'kbd', id: 'kbd', role: 'group', 'aria-label': t('kbd.label') });
    document.body.appendChild(panel);
  }
  render(wantsPad(el));
  panel.hidden = false;
  document.body.classList.add('kbd-open');
  // Keep the field in sight above the keys.
  requestAnimationFrame(() => {
    const r = el.getBoundingClientRect();
    const top = panel.getBoundingClientRect().top;
    const box = el.closest('.sup-body');
    if (box && r.bottom > top - 8) box.scrollTop += r.bottom - top + 16;
  });
}

// Done: the keys go away; in a search form it also searches, as Enter would (one tap, not two:
// the keys cover the form's own button).
function done() {
  const form = target && target.type === 'search' ? target.form : null;
  hide();
  if (form) form.requestSubmit();
}

export function hide() {
  target = null;
  if (panel) panel.hidden = true;
  document.body.classList.remove('kbd-open');
}

export function initKeyboard() {
  // A real keyboard is in use: the on-screen one gets out of the way.
  document.addEventListener('keydown', (e) => { if (target && e.target === target) hide(); }, true);
  document.addEventListener('focusin', (e) => { if (typeable(e.target)) show(e.target); });
  document.addEventListener('focusout', (e) => {
    if (e.target === target) setTimeout(() => { if (target && document.activeElement !== target) hide(); }, 0);
  });
}
