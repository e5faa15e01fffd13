// A short, distinct tone per verdict, synthesised with WebAudio (no sound files).

import { VERDICT, UNASSIGNED } from './names.js';

let ctx = null;

function audio() {
  if (!ctx) {
    const C = window.AudioContext || window.webkitAudioContext;
    if (!C) return null;
    ctx = new C();
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

// Browsers start audio only after a touch unless the kiosk allows autoplay.
export function unlockAudio() { audio(); }

// [frequency Hz, start s, length s, wave]
const TONES = {
  [VERDICT.OK]: [[880, 0, 0.09, 'sine'], [1320, 0.1, 0.14, 'sine']],
  [VERDICT.NO_OPEN_ENROLLMENT]: [[196, 0, 0.45, 'square']],
  [VERDICT.DUPLICATE]: [[587, 0, 0.12, 'triangle'], [587, 0.2, 0.12, 'triangle']],
  [VERDICT.UNKNOWN_CLIENT]: [[440, 0, 0.12, 'triangle'], [330, 0.15, 0.2, 'triangle']],
  [VERDICT.INVALID_CODE]: [[330, 0, 0.08, 'sawtooth'], [330, 0.12, 0.08, 'sawtooth'], [330, 0.24, 0.08, 'sawtooth']],
  [UNASSIGNED]: [[392, 0, 0.3, 'triangle']],
};

export function playVerdict(verdict) {
  const a = audio();
  if (!a) return;
  const tones = TONES[verdict] || TONES[VERDICT.UNKNOWN_CLIENT];
  document.documentElement.dataset.lastTone = verdict; // for the tests: which tone played last
  const t0 = a.currentTime + 0.01;
  for (const [f, start, len, wave] of tones) {
    const o = a.createOscillator();
    const g = a.createGain();
    o.type = wave;
    o.frequency.value = f;
    const vol = wave === 'square' || wave === 'sawtooth' ? 0.12 : 0.3;
    g.gain.setValueAtTime(0, t0 + start);
    g.gain.linearRampToValueAtTime(vol, t0 + start + 0.01);
    g.gain.setValueAtTime(vol, t0 + start + len - 0.02);
    g.gain.linearRampToValueAtTime(0, t0 + start + len);
    o.connect(g).connect(a.destination);
    o.start(t0 + start);
    o.stop(t0 + start + len + 0.02);
  }
}
