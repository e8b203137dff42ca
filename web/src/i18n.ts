// The spectator page in English or Persian (i18next): the language from the browser, or the one
// chosen on the page; right to left for Persian; Persian or Latin digits; 24-hour times.
import i18next from 'i18next';
import { en, type Messages } from './locales/en.ts';
import { fa } from './locales/fa.ts';

export type Language = 'en' | 'fa';
export type Digits = 'local' | 'latin';
const LANGUAGE_KEY = 'racetrack.language';
const DIGITS_KEY = 'racetrack.digits';

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** The language chosen on the page before, or the browser's first that we have. */
export function chosenLanguage(): Language {
  const saved = stored(LANGUAGE_KEY);
  if (saved === 'en' || saved === 'fa') return saved;
  return navigator.languages.some((l) => l.toLowerCase().startsWith('fa')) ? 'fa' : 'en';
}

let digits: Digits = 'local';
let language: Language = 'en';

/** Sets up translation and the page's direction; call once, before anything is written. */
export async function startI18n(): Promise<Language> {
  language = chosenLanguage();
  const savedDigits = stored(DIGITS_KEY);
  digits = savedDigits === 'latin' || savedDigits === 'local' ? savedDigits : 'local';
  await i18next.init({ lng: language, fallbackLng: 'en', resources: { en: { translation: en }, fa: { translation: fa } }, interpolation: { escapeValue: false } });
  document.documentElement.lang = language;
  document.documentElement.dir = language === 'fa' ? 'rtl' : 'ltr';
  translateDocument();
  return language;
}

/** The words of a runner status (RunnerStatus codes 0 to 5). */
export function statusWords(code: number): string {
  const keys = ['status.notStarted', 'status.onCourse', 'status.offCourse', 'status.finished', 'status.dnf', 'status.dsq'] as const;
  return t(keys[code] ?? 'status.onCourse');
}

export function t(key: keyof Messages, values?: Record<string, string | number>): string {
  return i18next.t(key, values);
}

/** Writes each element's words: `data-i18n` (its text), `data-i18n-label`, `data-i18n-placeholder`. */
export function translateDocument(root: ParentNode = document): void {
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = t(el.dataset['i18n'] as keyof Messages);
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset['i18nLabel'] as keyof Messages));
  for (const el of root.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]')) el.placeholder = t(el.dataset['i18nPlaceholder'] as keyof Messages);
}

export function currentLanguage(): Language {
  return language;
}

export function currentDigits(): Digits {
  return digits;
}

/** Saves a choice and reloads the page in it (everything is written again, in order). */
export function choose(next: { language?: Language; digits?: Digits }): void {
  try {
    if (next.language) localStorage.setItem(LANGUAGE_KEY, next.language);
    if (next.digits) localStorage.setItem(DIGITS_KEY, next.digits);
  } catch {
    // Storage refused: the choice lasts until the page is left.
  }
  location.reload();
}

const PERSIAN_DIGITS = '۰۱۲۳۴۵۶۷۸۹';

/** Text with its digits in the chosen script (Persian digits on the Persian page unless Latin was chosen). */
export function localDigits(text: string): string {
  if (language !== 'fa' || digits === 'latin') return text;
  return text.replace(/[0-9]/g, (d) => PERSIAN_DIGITS[Number(d)]!).replace(/\./g, '٫');
}

/** A time of day, 24 hours. */
export function clockTime(ms: number): string {
  return localDigits(new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }));
}
