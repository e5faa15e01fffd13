// Supervisor PIN pad (touch first; a keyboard works too).

import { h, mount } from './dom.js';
import { t, errText } from './i18n.js';
import { post } from './api.js';

export function pinPad(root, { reason, onLogin, onCancel }) {
  let pin = '';
  let message = reason ? t(reason) : '';
  let busy = false;
  let retryTimer = 0;
  let retryUntil = 0;

  function render() {
    const locked = Date.now() < retryUntil;
    const keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'];
    mount(root,
      h('div', { class: 'pin' },
        h('h1', { id: 'pin-title' }, t('pin.title')),
        h('div', { class: 'pin-dots', id: 'pin-dots', role: 'img', 'aria-label': t('pin.entered', { n: pin.length }) },
          pin.length ? Array.from({ length: pin.length }, () => h('span', { class: 'pin-dot' })) : h('span', { class: 'pin-empty' }, t('pin.enter'))),
        h('p', { class: 'pin-msg', id: 'pin-msg', role: 'alert' },
          locked ? t('pin.locked_out', { n: Math.ceil((retryUntil - Date.now()) / 1000) }) : message),
        h('div', { class: 'pin-grid', role: 'group', 'aria-labelledby': 'pin-title' },
          keys.map((k) => h('button', {
            class: 'btn pin-key' + (k.length > 1 ? ' pin-fn' : ''),
            type: 'button',
            'data-key': k,
            disabled: locked || busy,
            'aria-label': k === 'back' ? t('pin.backspace') : k === 'clear' ? t('pin.clear') : k,
            onclick: () => press(k),
          }, k === 'back' ? '⌫' : k === 'clear' ? t('pin.clear') : k))),
        h('div', { class: 'row center' },
          h('button', { class: 'btn', type: 'button', onclick: onCancel }, t('pin.cancel')),
          h('button', { class: 'btn primary', type: 'button', id: 'pin-ok', disabled: !pin || locked || busy, onclick: submit }, t('pin.ok')))));
  }

  function press(k) {
    if (k === 'back') pin = pin.slice(0, -1);
    else if (k === 'clear') pin = '';
    else if (pin.length < 12) pin += k;
    message = '';
    render();
  }

  async function submit() {
    if (!pin || busy) return;
    busy = true;
    render();
    try {
      const s = await post('/session', { pin }, { quiet401: true });
      pin = '';
      busy = false;
      stop();
      onLogin(s);
      return;
    } catch (e) {
      pin = '';
      if (e.status === 401) {
        const left = e.body && e.body.tries_left;
        message = typeof left === 'number' ? t(left > 0 ? 'pin.wrong_left' : 'pin.wrong_wait_next', { n: left }) : t('pin.wrong');
      }
      else if (e.status === 429) {
        const secs = (e.body && e.body.retry_after_seconds) || 30;
        retryUntil = Date.now() + secs * 1000;
        clearInterval(retryTimer);
        retryTimer = setInterval(() => { if (Date.now() >= retryUntil) clearInterval(retryTimer); render(); }, 1000);
      } else message = errText(e);
    }
    busy = false;
    render();
  }

  function onKey(e) {
    if (e.target && e.target.tagName === 'INPUT') return;
    if (/^[0-9]$/.test(e.key)) press(e.key);
    else if (e.key === 'Backspace') press('back');
    else if (e.key === 'Enter') submit();
    else if (e.key === 'Escape') onCancel();
  }
  document.addEventListener('keydown', onKey);
  function stop() { document.removeEventListener('keydown', onKey); clearInterval(retryTimer); }

  render();
  return { stop };
}
