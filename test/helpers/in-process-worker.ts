// The page's TrainClient talking to a real Session in this process (Node: Dawn + SwiftShader) instead of
// a Web Worker: the same request/reply/event messages as src/worker/train.worker.ts, delivered in order
// on the next macrotask like postMessage, so the page's store runs its real flows in a test.
import { TrainClient } from '../../src/ui/client';
import type { Request, WorkerEvent, WorkerMessage } from '../../src/worker/protocol';
import { Session } from '../../src/worker/session';

export function inProcessClient(): { client: TrainClient; session: Session } {
  const port: { onmessage: ((ev: { data: WorkerMessage }) => void) | null; onerror: unknown; postMessage: (m: { id: number; req: Request }) => void } = {
    onmessage: null,
    onerror: null,
    postMessage: ({ id, req }) => {
      Promise.resolve()
        .then(() => handle(req))
        .then(
          (result) => deliver({ kind: 'reply', id, ok: true, result: result ?? null }),
          (e: Error) => deliver({ kind: 'reply', id, ok: false, error: { name: e.name, message: e.message } }),
        );
    },
  };
  const deliver = (m: WorkerMessage) => setTimeout(() => port.onmessage?.({ data: m }), 0);
  const session = new Session((event: WorkerEvent) => deliver({ kind: 'event', event }));
  const handle = (req: Request): unknown => {
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
      case 'saveState':
        return session.saveState();
      case 'evaluate':
        return session.evaluate();
      default:
        throw new Error(`in-process worker: ${req.type} is not wired in tests`);
    }
  };
  return { client: new TrainClient(port as unknown as Worker), session };
}
