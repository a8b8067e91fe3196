// Shown instead of the playground when WebGPU is missing or the adapter fails.
import { Trans } from 'react-i18next';
import { i18n, useT } from '../i18n';

const code = { code: <code /> };
export function NoWebGpu({ reason }: { reason?: string }) {
  const { t } = useT();
  return (
    <main className="no-webgpu" role="main" aria-labelledby="no-webgpu-title">
      <h1 id="no-webgpu-title">{t('nogpu.title')}</h1>
      <p className="lead">
        {t('nogpu.lead1')}
        <strong>{t('nogpu.leadStrong')}</strong>
        {t('nogpu.lead2')}
      </p>
      {reason && (
        <p className="error" role="alert">
          {t('nogpu.what', { reason })}
        </p>
      )}
      <h2>{t('nogpu.browsers')}</h2>
      <ul>
        <li>
          <Trans i18n={i18n} i18nKey="nogpu.chrome" components={code} />
        </li>
        <li>{t('nogpu.safari')}</li>
        <li>
          <Trans i18n={i18n} i18nKey="nogpu.firefox" components={code} />
        </li>
      </ul>
      <h2>{t('nogpu.listed')}</h2>
      <ul>
        <li>{t('nogpu.driver')}</li>
        <li>
          <Trans i18n={i18n} i18nKey="nogpu.chromeGpu" components={code} />
        </li>
        <li>{t('nogpu.remote')}</li>
      </ul>
    </main>
  );
}
