// Messages live in /assets/i18n/{lang}.json; t("a.b", {n: 3}) fills {n}. With a number n the
// plural form of the language is taken when the file has one: "key|one" beside "key" (other).
// A key missing from both files never reaches the screen: t(key, vars, fallbackKey) shows the
// fallback message, else an empty string (and a warning in the console).

export const LANGS = ['en', 'es'];
let current = 'en';
let messages = {};
let fallback = {};
const listeners = [];

async function load(lang) {
  const r = await fetch('/assets/i18n/' + lang + '.json');
  if (!r.ok) throw new Error('messages ' + lang + ': HTTP ' + r.status);
  return r.json();
}

export async function initI18n() {
  const param = new URLSearchParams(location.search).get('lang');
  let lang = param || localStorage.getItem('lang') || 'en';
  if (!LANGS.includes(lang)) lang = 'en';
  fallback = await load('en');
  await setLang(lang, true);
}

export async function setLang(lang, quiet) {
  messages = lang === 'en' ? fallback : await load(lang);
  current = lang;
  document.documentElement.lang = lang;
  try { localStorage.setItem('lang', lang); } catch (_) { /* private mode */ }
  if (!quiet) listeners.forEach((f) => f(lang));
}

export function lang() { return current; }
export function otherLang() { return current === 'en' ? 'es' : 'en'; }
export function onLangChange(f) { listeners.push(f); }

export function has(key) { return key in messages || key in fallback; }

let plurals = null;
function pluralKey(key, n) {
  if (typeof n !== 'number') return key;
  if (!plurals || plurals.lang !== current) plurals = { lang: current, rules: new Intl.PluralRules(current === 'es' ? 'es' : 'en') };
  const form = key + '|' + plurals.rules.select(n);
  return has(form) ? form : key;
}

export function t(key, vars, fallbackKey) {
  const k = pluralKey(key, vars && vars.n);
  let s = messages[k] ?? fallback[k];
  if (s === undefined && fallbackKey) s = messages[fallbackKey] ?? fallback[fallbackKey];
  if (s === undefined) { console.warn('no message', key); s = ''; }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
  return s;
}

// Times are shown in the station's time zone (the API's `timezone`), not the browser's: a tablet
// set to another zone still shows the station's clock.
let timeZone;
export function setTimeZone(tz) {
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); timeZone = tz; } catch (_) { timeZone = undefined; }
}

export function fmtDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleString(current === 'es' ? 'es-US' : 'en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone });
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleTimeString(current === 'es' ? 'es-US' : 'en-US', { hour: 'numeric', minute: '2-digit', second: '2-digit', timeZone });
}

export function fmtDate(ymd) {
  if (!ymd) return '';
  const [y, m, d] = ymd.split('-').map(Number);
  if (!y || !m || !d) return ymd;
  return new Date(y, m - 1, d).toLocaleDateString(current === 'es' ? 'es-US' : 'en-US', { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric' });
}

export function fmtAge(seconds) {
  if (seconds === null || seconds === undefined) return t('common.unknown');
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return t('age.seconds', { n: s });
  if (s < 7200) return t('age.minutes', { n: Math.round(s / 60) });
  if (s < 172800) return t('age.hours', { n: Math.round(s / 3600) });
  return t('age.days', { n: Math.round(s / 86400) });
}

/// An API error (api.js ApiError) for people: by its code in the user's language; the English
/// sentence only for a code this UI does not know.
export function errText(e) {
  if (e && e.status === 0) return t('error.network');
  if (e && e.code && has('error.code.' + e.code)) return t('error.code.' + e.code, { n: e.body && e.body.retry_after_seconds });
  return (e && e.message) || String(e);
}
