// The playground page. The run bar (train, pause, stop, progress) comes first and stays in view; the
// setup (model, pairs, hyperparameters) is a fold, open beside the run on wide screens and closed on
// phones and zoomed projectors, so the run controls, the explainer and the first charts are one screen
// away rather than below the whole form.
import { useState } from 'react';
import { Charts } from './components/Charts';
import { DatasetPanel } from './components/DatasetPanel';
import { Explainer } from './components/Explainer';
import { HyperParams } from './components/HyperParams';
import { ModelPanel } from './components/ModelPanel';
import { NoWebGpu } from './components/NoWebGpu';
import { PairScatter } from './components/PairScatter';
import { Runs } from './components/Runs';
import { Samples } from './components/Samples';
import { TrainBar } from './components/TrainBar';
import { DemoSamples } from './demo/DemoSamples';
import { DpoCurves } from './demo/DpoCurves';
import { FrontierChart } from './demo/FrontierChart';
import { Diagnosis } from './explain/Diagnosis';
import { useT } from './i18n';
import { LanguageSwitch } from './i18n/LanguageSwitch';
import { demoSelected, useStore } from './store';

/** Two columns from this width (styles.css uses the same breakpoint). */
export const WIDE_MEDIA = '(min-width: 901px)';

const wideScreen = () => typeof window === 'undefined' || typeof window.matchMedia !== 'function' || window.matchMedia(WIDE_MEDIA).matches;

export function App() {
  const { t } = useT();
  const gpu = useStore((s) => s.gpu);
  const demo = useStore(demoSelected);
  const [setupOpen, setSetupOpen] = useState(wideScreen);
  if (gpu.status === 'unavailable') return <NoWebGpu reason={gpu.error} />;
  return (
    <>
      <header className="top">
        <h1>{t('app.title')}</h1>
        <p className="tagline">{t('app.tagline')}</p>
        <p className="adapter" data-testid="adapter">
          {gpu.status === 'checking' ? t('app.adapterChecking') : t('app.adapter', { name: gpu.info?.adapterName })}
        </p>
        <LanguageSwitch />
      </header>
      <main className="layout">
        <div className="run-bar" data-testid="run-bar">
          <TrainBar />
        </div>
        <details className="setup" open={setupOpen} onToggle={(e) => setSetupOpen(e.currentTarget.open)} data-testid="setup">
          <summary>{t('app.setup')}</summary>
          <ModelPanel />
          <div id="dataset-panel" tabIndex={-1}>
            <DatasetPanel />
          </div>
          <HyperParams />
        </details>
        <div className="run">
          <Explainer />
          <Diagnosis />
          {demo && <FrontierChart />}
          <DpoCurves />
          <Charts />
          {demo && <DemoSamples />}
          <PairScatter />
          <Samples />
          <Runs />
        </div>
      </main>
      <footer className="foot">
        {t('app.footer')}
      </footer>
    </>
  );
}
