// The page's language: i18next with the English and Korean resources, chosen from the saved choice, else
// the browser's languages (navigator.languages), else English. The engine, the worker and the CLI speak
// English; only the page is translated (typed errors are looked up by code: ./errors.ts).
import i18next from 'i18next';
import { initReactI18next, useTranslation } from 'react-i18next';
import { en } from './en';
import { ko } from './ko';

export const LANGUAGES = ['en', 'ko'] as const;
export type Language = (typeof LANGUAGES)[number];
/** The switch's own labels, each in its own language. */
export const LANGUAGE_NAMES: Record<Language, string> = { ko: '한국어', en: 'English' };
export const STORAGE_KEY = 'dpo-playground.language';

const storage = (): Storage | null => {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage blocked (private mode, sandboxed frame): the choice lasts for this page only
  }
};

/** First supported language among the saved choice and the browser's list; English when none is. */
export function detectLanguage(saved: string | null, browser: readonly string[]): Language {
  for (const tag of [saved, ...browser]) {
    const base = tag?.toLowerCase().split('-')[0];
    if (base && (LANGUAGES as readonly string[]).includes(base)) return base as Language;
  }
  return 'en';
}

const browserLanguages = (): readonly string[] => {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? navigator.languages : navigator.language ? [navigator.language] : [];
};

export const i18n = i18next.createInstance();
void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, ko: { translation: ko } },
  lng: detectLanguage(storage()?.getItem(STORAGE_KEY) ?? null, browserLanguages()),
  fallbackLng: 'en',
  supportedLngs: [...LANGUAGES],
  keySeparator: false, // flat keys: 'trainBar.train' is one key
  nsSeparator: false,
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
  initAsync: false, // resources are bundled: ready before the first render
});

const setHtmlLang = (lng: string) => {
  if (typeof document !== 'undefined') document.documentElement.lang = lng;
};
setHtmlLang(i18n.language);
i18n.on('languageChanged', setHtmlLang);

export const currentLanguage = (): Language => (i18n.language === 'ko' ? 'ko' : 'en');
/** The BCP 47 locale Intl formats with. */
export const currentLocale = (): string => (currentLanguage() === 'ko' ? 'ko-KR' : 'en-US');

/** Switches the page's language and keeps the choice. */
export function setLanguage(lng: Language): void {
  try {
    storage()?.setItem(STORAGE_KEY, lng);
  } catch {
    /* quota or blocked storage: the switch still applies to this page */
  }
  void i18n.changeLanguage(lng);
}

/** Sentences outside React (store, status lines) in the current language. */
export const t: typeof i18n.t = ((...args: Parameters<typeof i18n.t>) => i18n.t(...args)) as typeof i18n.t;

/** The hook components use; re-renders on a language switch. */
export const useT = () => useTranslation(undefined, { i18n });
