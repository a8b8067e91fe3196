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
import { demoSelected, useStore } from './store';

/** Two columns from this width (styles.css uses the same breakpoint). */
export const WIDE_MEDIA = '(min-width: 901px)';

const wideScreen = () => typeof window === 'undefined' || typeof window.matchMedia !== 'function' || window.matchMedia(WIDE_MEDIA).matches;

export function App() {
  const gpu = useStore((s) => s.gpu);
  const demo = useStore(demoSelected);
  const [setupOpen, setSetupOpen] = useState(wideScreen);
  if (gpu.status === 'unavailable') return <NoWebGpu reason={gpu.error} />;
  return (
    <>
      <header className="top">
        <h1>DPO Playground</h1>
        <p className="tagline">Direct Preference Optimization of a language model, on your GPU, in this tab.</p>
        <p className="adapter" data-testid="adapter">
          {gpu.status === 'checking' ? 'Looking for a WebGPU adapter…' : `GPU: ${gpu.info?.adapterName}`}
        </p>
      </header>
      <main className="layout">
        <div className="run-bar" data-testid="run-bar">
          <TrainBar />
        </div>
        <details className="setup" open={setupOpen} onToggle={(e) => setSetupOpen(e.currentTarget.open)} data-testid="setup">
          <summary>Setup: model, preference pairs, hyperparameters</summary>
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
        Hand-written WGSL kernels on WebGPU · metrics named as in TRL · nothing leaves your machine.
      </footer>
    </>
  );
}
