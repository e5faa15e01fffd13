// How a verdict looks, in one place for the lane screen, the strip of recent scans and the
// overlay on supervisor screens: a colour class (the colours differ in lightness, not only hue)
// and a large symbol drawn as SVG, so no verdict depends on colour alone.

import { VERDICT, UNASSIGNED } from './names.js';

export const VERDICT_CLASS = {
  [VERDICT.OK]: 'v-ok',
  [VERDICT.NO_OPEN_ENROLLMENT]: 'v-bad',
  [VERDICT.DUPLICATE]: 'v-warn',
  [VERDICT.UNKNOWN_CLIENT]: 'v-unknown',
  [VERDICT.INVALID_CODE]: 'v-invalid',
  [UNASSIGNED]: 'v-kept',
};

// 24x24 stroke paths: check, cross, exclamation, question, broken card, tray.
const PATHS = {
  [VERDICT.OK]: ['M4 12.5l5 5L20 6.5'],
  [VERDICT.NO_OPEN_ENROLLMENT]: ['M5.5 5.5l13 13', 'M18.5 5.5l-13 13'],
  [VERDICT.DUPLICATE]: ['M12 3.5v11', 'M12 19.5v.5'],
  [VERDICT.UNKNOWN_CLIENT]: ['M8 8.5a4 4 0 1 1 5.5 3.7c-1 .5-1.5 1.3-1.5 2.3v.8', 'M12 19.5v.5'],
  [VERDICT.INVALID_CODE]: ['M3 6h8l-2 4 3 4-2 4H3z', 'M15 6h6v12h-8l2-4-3-4 2-4z'],
  [UNASSIGNED]: ['M3 13h5l1.5 3h5L16 13h5', 'M3 13l3-8h12l3 8v6H3z'],
  // Not a verdict: the lane screen when the station does not answer (circle with a bar).
  offline: ['M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z', 'M5.6 5.6l12.8 12.8'],
};

const NS = 'http://www.w3.org/2000/svg';

export function verdictIcon(verdict, cls) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'v-icon' + (cls ? ' ' + cls : ''));
  svg.setAttribute('aria-hidden', 'true');
  svg.dataset.icon = verdict;
  for (const d of PATHS[verdict] || PATHS[VERDICT.UNKNOWN_CLIENT]) {
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
  }
  return svg;
}

export function verdictClass(verdict) {
  return VERDICT_CLASS[verdict] || 'v-unknown';
}
