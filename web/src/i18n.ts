// Every page in English or Persian (i18next): the language from the browser, or the one chosen on
// the page; right to left for Persian; Persian or Latin digits; 24-hour times; kilometres or miles.
import i18next from 'i18next';
import type { LocalNames, TimingPoint } from '../../shared/protocol.ts';
import { en, type Messages } from './locales/en.ts';
import { fa } from './locales/fa.ts';

export type Language = 'en' | 'fa';
export type Digits = 'local' | 'latin';
export type Units = 'km' | 'mi';
const LANGUAGE_KEY = 'racetrack.language';
const DIGITS_KEY = 'racetrack.digits';
const UNITS_KEY = 'racetrack.units';
export const METRES_PER_MILE = 1609.344;

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
let units: Units = 'km';

/** Sets up translation and the page's direction; call once, before anything is written. */
export async function startI18n(): Promise<Language> {
  language = chosenLanguage();
  const savedDigits = stored(DIGITS_KEY);
  digits = savedDigits === 'latin' || savedDigits === 'local' ? savedDigits : 'local';
  const savedUnits = stored(UNITS_KEY);
  // Kilometres unless miles were chosen: races are measured in them nearly everywhere (a 5K in the
  // United States too), and an English browser says nothing of where its user is.
  units = savedUnits === 'mi' ? 'mi' : 'km';
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
  // (Numbers in the words, "5 seconds", in the chosen digits too.)
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = localNumerals(t(el.dataset['i18n'] as keyof Messages));
  for (const el of root.querySelectorAll<HTMLElement>('[data-i18n-label]')) el.setAttribute('aria-label', localNumerals(t(el.dataset['i18nLabel'] as keyof Messages)));
  for (const el of root.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]')) el.placeholder = localNumerals(t(el.dataset['i18nPlaceholder'] as keyof Messages));
}

export function currentLanguage(): Language {
  return language;
}

export function currentDigits(): Digits {
  return digits;
}

/** Saves a choice and reloads the page in it (everything is written again, in order). */
export function choose(next: { language?: Language; digits?: Digits; units?: Units }): void {
  try {
    if (next.language) localStorage.setItem(LANGUAGE_KEY, next.language);
    if (next.digits) localStorage.setItem(DIGITS_KEY, next.digits);
    if (next.units) localStorage.setItem(UNITS_KEY, next.units);
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

/** Text with only its digits in the chosen script (a sentence, where a full stop is a full stop). */
export function localNumerals(text: string): string {
  if (language !== 'fa' || digits === 'latin') return text;
  return text.replace(/[0-9]/g, (d) => PERSIAN_DIGITS[Number(d)]!);
}

/** A time of day, 24 hours. */
export function clockTime(ms: number): string {
  return localDigits(new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }));
}

export function currentUnits(): Units {
  return units;
}

/** Metres in one of the chosen unit of distance. */
export function unitMetres(): number {
  return units === 'mi' ? METRES_PER_MILE : 1000;
}

/** A distance run, in the chosen unit: "12.34 km", "7.67 mi". */
export function distanceText(distanceM: number, decimals = 2): string {
  return t(units === 'mi' ? 'mi' : 'km', { value: localDigits((distanceM / unitMetres()).toFixed(decimals)) });
}

/** A race's official distance as organisers write it: "42.195 km", "10 km"; in miles, to the hundredth. */
export function officialDistanceText(distanceM: number): string {
  if (units === 'mi') return t('mi', { value: localDigits((distanceM / METRES_PER_MILE).toFixed(2)) });
  return t('km', { value: localDigits(String(Number((distanceM / 1000).toFixed(3)))) });
}

/** A pace, per kilometre or per mile: "4:05/km", "6:34/mi". */
export function paceText(secPerKm: number): string {
  const sec = units === 'mi' ? (secPerKm * METRES_PER_MILE) / 1000 : secPerKm;
  const minutes = Math.floor(sec / 60);
  const seconds = Math.round(sec - minutes * 60);
  const text = seconds === 60 ? `${minutes + 1}:00` : `${minutes}:${String(seconds).padStart(2, '0')}`;
  return t(units === 'mi' ? 'perMi' : 'perKm', { value: localDigits(text) });
}

/**
 * A timing point's name in the page's language and unit: the server names its own points in
 * English ("Lap 3", "5 km", "Finish"); points the event file names keep their names.
 */
export function pointLabel(point: Pick<TimingPoint, 'name' | 'kind' | 'distanceAlongRaceM'>): string {
  switch (point.kind) {
    case 'finish':
      return t('finish');
    case 'split':
      return officialDistanceText(point.distanceAlongRaceM);
    case 'lap': {
      const n = /(\d+)$/.exec(point.name)?.[1];
      return n === undefined ? point.name : t('lapN', { n: localDigits(n) });
    }
    case 'named':
      return point.name;
  }
}

/** A race's or runner's name in the page's language, when the event file gives it so. */
export function localName(named: { name: string; names?: LocalNames }): string {
  return named.names?.[language] ?? named.name;
}

/** A date and time, 24 hours, in the page's language and digits. */
export function dateTime(ms: number): string {
  return localDigits(new Date(ms).toLocaleString(language === 'fa' ? 'fa-IR-u-nu-latn' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }));
}

/**
 * The page's language, digits and units as three labelled selects, for pages that have no place
 * for them in their own markup: a choice reloads the page in it.
 */
export function preferenceControls(): HTMLElement {
  const box = document.createElement('div');
  box.className = 'preferences';
  const select = (labelKey: keyof Messages, options: Array<[string, string, string?]>, value: string, onChange: (v: string) => void): HTMLLabelElement => {
    const label = document.createElement('label');
    const span = document.createElement('span');
    span.textContent = t(labelKey);
    const control = document.createElement('select');
    control.setAttribute('aria-label', t(labelKey));
    for (const [optionValue, text, lang] of options) {
      const option = new Option(text, optionValue);
      if (lang) option.lang = lang;
      control.append(option);
    }
    control.value = value;
    control.addEventListener('change', () => onChange(control.value));
    label.append(span, control);
    return label;
  };
  box.append(
    select('language', [['en', 'English', 'en'], ['fa', 'فارسی', 'fa']], language, (v) => choose({ language: v === 'fa' ? 'fa' : 'en' })),
    select('units', [['km', t('unitsKm')], ['mi', t('unitsMi')]], units, (v) => choose({ units: v === 'mi' ? 'mi' : 'km' })),
  );
  if (language === 'fa') {
    box.append(select('digits', [['local', t('digitsLocal')], ['latin', t('digitsLatin')]], digits, (v) => choose({ digits: v === 'latin' ? 'latin' : 'local' })));
  }
  box.querySelectorAll('select').forEach((s, k) => (s.id = ['language-choice', 'units-choice', 'digits-choice'][k]!));
  return box;
}
