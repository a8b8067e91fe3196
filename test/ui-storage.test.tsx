// The page's storage and run-control surfaces rendered in Node (react-dom/server): Pause and Stop in
// every phase of a run (including 'starting' and 'pausing'), the notice offering a state that could not
// be saved as a download, and the saved-runs list with each run's size and the storage used and left.
import { renderToString } from 'react-dom/server';
import { beforeEach, describe, expect, it } from 'vitest';
import { Runs, runBytes, storageLine } from '../src/ui/components/Runs';
import { TrainBar } from '../src/ui/components/TrainBar';
import { pageDefaultArgs } from '../src/ui/params';
import type { RunRecord } from '../src/ui/runs';
import { storeApi, useStore } from '../src/ui/store';

const initial = useStore.getState();
storeApi.getInitialState = storeApi.getState;
beforeEach(() => useStore.setState(initial, true));

const decode = (html: string) => html.replace(/<!-- -->/g, '').replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
const buttons = (html: string) => Object.fromEntries([...html.matchAll(/<button[^>]*?(disabled="")?[^>]*>([^<]+)</g)].map((m) => [m[2].trim(), m[0].includes('disabled=""') ? 'off' : 'on']));
const ready = { gpu: { status: 'ready' as const }, model: { status: 'ready' as const }, dataset: { status: 'ready' as const } };

const saved = (over: Partial<RunRecord>): RunRecord => ({
  id: 'a',
  name: 'demo · beta 0.1',
  createdAt: 0,
  updatedAt: 0,
  status: 'paused',
  model: { label: 'demo', spec: { kind: 'url', baseUrl: 'http://x/', label: 'demo' } },
  dataset: { label: 'pairs', spec: { kind: 'url', url: 'http://x/p.jsonl', label: 'pairs' }, split: { evalFraction: 0.1, seed: 1, maxEval: 8 } },
  args: pageDefaultArgs,
  sftSteps: 0,
  step: 10,
  totalSteps: 24,
  history: [],
  evalHistory: [],
  lastPairs: [],
  hasState: true,
  stateBytes: 3 * 2 ** 20,
  stateStep: 10,
  recordBytes: 20 * 1024,
  ...over,
});

describe('run control in every phase', () => {
  it('Pause and Stop work while the run is starting; Stop stays on while pausing', () => {
    useStore.setState({ ...ready, run: { ...initial.run, id: 'x', phase: 'starting' } });
    expect(buttons(renderToString(<TrainBar />))).toMatchObject({ 'Train a new run': 'off', Pause: 'on', Stop: 'on' });
    useStore.setState({ run: { ...initial.run, id: 'x', phase: 'pausing', step: 2, totalSteps: 10 } });
    expect(buttons(renderToString(<TrainBar />))).toMatchObject({ Pause: 'off', Stop: 'on' });
    for (const phase of ['finished', 'stopped', 'error'] as const) {
      useStore.setState({ run: { ...initial.run, id: 'x', phase, step: 10, totalSteps: 10 } });
      expect(buttons(renderToString(<TrainBar />)), phase).toMatchObject({ 'Train a new run': 'on', Pause: 'off', Stop: 'off' });
    }
  });

  it('a state that could not be saved is a sentence with its download', () => {
    useStore.setState({ ...ready, run: { ...initial.run, id: 'x', phase: 'paused', step: 9, totalSteps: 24 }, unsaved: { step: 9, bytes: 510_362, message: "The run's state at step 9 (498.4 KiB) does not fit in this browser's storage for the page." } });
    const html = decode(renderToString(<TrainBar />));
    expect(html).toContain('data-testid="storage-notice"><p>The run\'s state at step 9 (498.4 KiB) does not fit');
    expect(buttons(html)['Download the state (498.4 KiB)']).toBe('on');
  });
});

describe('saved runs and storage', () => {
  it('lists each run with its size, the storage used and left, and which can continue', () => {
    const runs = [saved({}), saved({ id: 'b', name: 'stopped one', status: 'stopped', step: 12, stateStep: 12 }), saved({ id: 'c', name: 'done', status: 'finished', step: 24, stateStep: 24 }), saved({ id: 'd', name: 'no state', hasState: false, stateBytes: 0, stateStep: undefined })];
    useStore.setState({ runs, storage: { usage: 12.5 * 2 ** 20, quota: 2 ** 30 } });
    const html = decode(renderToString(<Runs />));
    expect(html).toContain('Storage: 12.5 MiB used of 1.00 GiB (1,011.5 MiB left).');
    expect(runBytes(runs[0])).toBe(3 * 2 ** 20 + 20 * 1024);
    expect([...html.matchAll(/data-testid="run-size">([^<]+)</g)].map((m) => m[1])).toEqual(['3.0 MiB', '3.0 MiB', '3.0 MiB', '20.0 KiB']);
    const b = buttons(html);
    expect(b.Continue).toBe('on');
    expect([...html.matchAll(/aria-label="Continue ([^"]+)"/g)].map((m) => m[1])).toEqual(['demo · beta 0.1 from step 10', 'stopped one from step 12']);
    expect(html).toContain('aria-label="Delete done"');
    expect(html).toContain('no saved state');
    expect(storageLine(null)).toBe('This browser does not say how much storage the page may use.');
  });

  it('an IndexedDB failure is shown as its sentence', () => {
    useStore.setState({ storageError: "The browser's storage for this page is full, so saving the run failed (QuotaExceededError)." });
    expect(decode(renderToString(<Runs />))).toContain('role="alert" data-testid="storage-error">The browser\'s storage for this page is full, so saving the run failed (QuotaExceededError).</p>');
  });
});
