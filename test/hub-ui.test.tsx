// The Hub part of the model panel: a real plan (from the local Hub-like server) renders the size, the
// estimate and, when the settings do not fit, the settings that would, as buttons; applying one sets the
// form through the same setters as typing; the known-good models show sizes and estimates; per-file
// progress shows bytes, speed, time left and where a resumed file picked up.
import { renderToString } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QWEN3_06B_CONFIG, startHubServer, virtualCheckpoint, type HubServer } from '../e2e/hub-server.mjs';
import { HubFiles, HubForm } from '../src/ui/components/HubModelForm';
import { storeApi, useStore } from '../src/ui/store';
import { applyFit, hubApi, useHub } from '../src/ui/store/hub';
import { planHubModel } from '../src/worker/hub-plan';
import { pageDefaultArgs } from '../src/ui/params';

const initial = useStore.getState();
storeApi.getInitialState = storeApi.getState;
const hubInitial = useHub.getState();
hubApi.getInitialState = hubApi.getState; // server rendering reads the current state
let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({ 'Qwen/Qwen3-0.6B': { files: virtualCheckpoint(QWEN3_06B_CONFIG, { shardBytes: 2 ** 30 }).files } });
});
afterAll(() => hub?.close());
beforeEach(() => {
  useStore.setState(initial, true);
  useHub.setState(hubInitial, true);
});

const strip = (html: string) => html.replace(/<[^>]+>/g, '').replace(/&#x27;/g, "'").replace(/&amp;/g, '&');

describe('Hub model form', () => {
  it('shows a real plan: size, estimate, and the settings that fit as buttons; applying one sets the form', async () => {
    const args = { ...pageDefaultArgs, per_device_train_batch_size: 8, max_length: 1024 };
    useStore.setState({ args });
    const plan = await planHubModel({ hubUrl: hub.url, repo: 'Qwen/Qwen3-0.6B', revision: 'main' }, args, { maxBindingBytes: 2 ** 27, maxBufferBytes: 2 ** 30 });
    useHub.setState({ plan: { status: 'ready', key: 'k', plan } });
    const html = strip(renderToString(<HubForm busy={false} />));
    expect(html).toContain('Qwen/Qwen3-0.6B@main: qwen3, 596M parameters, 2 weight files, 1.11 GiB (BF16) to download.');
    expect(html).toMatch(/With the current settings: about [\d.]+ GiB of GPU memory — does not fit/);
    expect(plan.fits.length).toBeGreaterThan(0);
    for (const f of plan.fits) expect(html).toContain(`Use ${f.label} (`);
    // known-good models: four, with parameters and BF16 download sizes
    for (const s of [
      'HuggingFaceTB/SmolLM2-135M-Instruct 135M parameters, 256.6 MiB BF16',
      'HuggingFaceTB/SmolLM2-360M-Instruct 362M parameters',
      'Qwen/Qwen2.5-0.5B-Instruct 494M parameters',
      'Qwen/Qwen3-0.6B 596M parameters, 1.11 GiB BF16',
    ])
      expect(html).toContain(s);
    // the token field is a password field and starts empty
    const tokenInput = /<input[^>]*name="hub-token"[^>]*>/.exec(renderToString(<HubForm busy={false} />))?.[0] ?? '';
    expect(tokenInput).toContain('type="password"');
    expect(tokenInput).toContain('value=""');

    const fit = plan.fits.find((f) => f.patch.lora && f.patch.gradient_checkpointing)!;
    applyFit(fit);
    const a = useStore.getState().args;
    expect(a.lora).toEqual({ r: 16, lora_alpha: 32, target_modules: 'all-linear' });
    expect(a.gradient_checkpointing).toBe(true);
    for (const [k, v] of Object.entries(fit.patch)) if (k !== 'lora') expect(a[k as keyof typeof a]).toEqual(v);
    expect(useStore.getState().argText['lora.enabled']).toBe('true');
  });

  it('shows per-file progress with speed, time left and the resume point', () => {
    const MiB = 2 ** 20;
    useHub.setState({
      files: {
        'model-00001-of-00003.safetensors': { file: 'model-00001-of-00003.safetensors', fileIndex: 1, fileCount: 3, loaded: 100 * MiB, total: 100 * MiB, bytesPerSec: 0, etaSec: 0, resumedFrom: 100 * MiB },
        'model-00002-of-00003.safetensors': { file: 'model-00002-of-00003.safetensors', fileIndex: 2, fileCount: 3, loaded: 60 * MiB, total: 100 * MiB, bytesPerSec: 10 * MiB, etaSec: 4, resumedFrom: 32 * MiB },
      },
    });
    const html = strip(renderToString(<HubFiles />));
    expect(html).toContain('Downloading 1 of 3 weight files done');
    expect(html).toContain('model-00001-of-00003.safetensors: 100.0 MiB of 100.0 MiB — done (resumed at 100.0 MiB)');
    expect(html).toContain('model-00002-of-00003.safetensors: 60.0 MiB of 100.0 MiB — 10.0 MiB/s, 4 s left (resumed at 32.0 MiB)');
  });
});
