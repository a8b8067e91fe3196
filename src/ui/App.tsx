// The playground page: setup on the left (model, pairs, hyperparameters), the run on the right.
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
import { demoSelected, useStore } from './store';

export function App() {
  const gpu = useStore((s) => s.gpu);
  const demo = useStore(demoSelected);
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
        <div className="setup">
          <ModelPanel />
          <DatasetPanel />
          <HyperParams />
        </div>
        <div className="run">
          <Explainer />
          <TrainBar />
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
