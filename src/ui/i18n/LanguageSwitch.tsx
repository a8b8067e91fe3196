// The header's language switch: 한국어 / English, each named in its own language; the choice is kept.
import './lang-switch.css';
import { LANGUAGE_NAMES, LANGUAGES, setLanguage, useT, type Language } from '.';

export function LanguageSwitch() {
  const { t, i18n } = useT();
  const current = i18n.language as Language;
  return (
    <div className="lang-switch" role="group" aria-label={t('app.language')} data-testid="language-switch">
      {[...LANGUAGES].reverse().map((lng) => (
        <button key={lng} type="button" lang={lng} className={lng === current ? 'on' : 'secondary'} aria-pressed={lng === current} onClick={() => setLanguage(lng)}>
          {LANGUAGE_NAMES[lng]}
        </button>
      ))}
    </div>
  );
}
