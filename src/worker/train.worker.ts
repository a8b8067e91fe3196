// The training worker: owns the GPU device and the trainer (src/worker/session.ts); the page talks to
// it with the messages of protocol.ts. Requests are handled as they come (a pause arrives while a
// start is still running), every failure goes back as {name, message}: a sentence for the page.
/// <reference lib="webworker" />
import { errorInfo } from './error-code';
import { Session } from './session';
import { handleRequest } from './dispatch';
import type { Request, WorkerEvent, WorkerMessage } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

const post = (m: WorkerMessage, transfer: Transferable[] = []) => self.postMessage(m, transfer);
const session = new Session((event: WorkerEvent) => post({ kind: 'event', event }));

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
    const result = await handleRequest(session, req);
    post({ kind: 'reply', id, ok: true, result: result ?? null }, transferables(result));
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (!(err.name && err.name !== 'Error')) console.error(err);
    post({ kind: 'reply', id, ok: false, error: errorInfo(err) });
  }
};
