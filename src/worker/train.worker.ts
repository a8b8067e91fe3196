// The training worker: owns the GPU device and the trainer (src/worker/session.ts); the page talks to
// it with the messages of protocol.ts. Requests are handled as they come (a pause arrives while a
// start is still running), every failure goes back as {name, message}: a sentence for the page.
/// <reference lib="webworker" />
import { errorInfo } from './error-code';
import { Session } from './session';
import { setHubToken } from './hub-model';
import type { Request, WorkerEvent, WorkerMessage } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: WorkerMessage, transfer: Transferable[] = []) => self.postMessage(m, transfer);
const session = new Session((event: WorkerEvent) => post({ kind: 'event', event }));

function handle(req: Request): Promise<unknown> | unknown {
  switch (req.type) {
    case 'init':
      return session.init();
    case 'loadModel':
      return session.loadModel(req.spec);
    case 'loadDataset':
      return session.loadDataset(req.spec, req.split, req.maxLength);
    case 'estimate':
      return session.estimate(req.args);
    case 'start':
      return session.start(req.options);
    case 'resume':
      return session.resume();
    case 'continue':
      return session.continue();
    case 'pause':
      return session.pause() ?? null;
    case 'stop':
      return session.stop() ?? null;
    case 'evaluate':
      return session.evaluate();
    case 'sample':
      return session.sample(req.prompts, req.options);
    case 'export':
      return session.exportZip(req.extra);
    case 'saveState':
      return session.saveState();
    case 'planHub':
      return session.planHub(req.spec, req.args);
    case 'setHubToken':
      return setHubToken(req.token);
    case 'gpuMemory':
      return { liveBytes: session.gpu?.liveBytes ?? 0, peakBytes: session.gpu?.peakBytes ?? 0 };
  }
}

function transferables(v: unknown): Transferable[] {
  if (v instanceof Uint8Array) return [v.buffer as ArrayBuffer];
  if (v && typeof v === 'object') {
    const out: Transferable[] = [];
    for (const x of Object.values(v)) if (x instanceof Uint8Array && x.byteOffset === 0 && x.byteLength === x.buffer.byteLength) out.push(x.buffer as ArrayBuffer);
    return out;
  }
  return [];
}

self.onmessage = async (ev: MessageEvent<{ id: number; req: Request }>) => {
  const { id, req } = ev.data;
  try {
    const result = await handle(req);
    post({ kind: 'reply', id, ok: true, result: result ?? null }, transferables(result));
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (!(err.name && err.name !== 'Error')) console.error(err);
    post({ kind: 'reply', id, ok: false, error: errorInfo(err) });
  }
};
