// Tiny DOM helpers: elements are built with h(); text is always set as text, never as HTML.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (k === 'class') {
        el.className = v;
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'value') {
        el.value = v;
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/// A modal confirmation; resolves true when confirmed, 'alt' for the optional second action.
export function confirmDialog({ title, body, ok, cancel, danger, alt }) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' },
      h('h2', { id: 'dlg-title' }, title),
      (Array.isArray(body) ? body : [body]).filter(Boolean).map((p) => h('p', null, p)),
      h('div', { class: 'row end' },
        h('button', { class: 'btn', type: 'button', onclick: () => done(false) }, cancel),
        alt ? h('button', { class: 'btn', type: 'button', 'data-alt': '1', onclick: () => done('alt') }, alt) : null,
        h('button', { class: danger ? 'btn danger' : 'btn primary', type: 'button', 'data-confirm': '1', onclick: () => done(true) }, ok)));
    function done(v) {
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.appendChild(dlg);
    dlg.showModal();
  });
}

let toastTimer = 0;
let toastAt = 0;
export function toast(text, kind) {
  const box = document.getElementById('toasts');
  toastAt = Date.now();
  mount(box, h('div', { class: 'toast ' + (kind || ''), onclick: () => clear(box) }, text));
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => clear(box), 5000);
}

/// On navigation: drop a toast that belongs to the screen being left (shown a while ago).
export function dropOldToast() {
  if (Date.now() - toastAt > 1500) clear(document.getElementById('toasts'));
}
