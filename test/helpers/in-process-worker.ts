// The page's TrainClient talking to a real Session in this process (Node: Dawn + SwiftShader) instead of
// a Web Worker: the same request/reply/event messages as src/worker/train.worker.ts (one dispatch, src/worker/dispatch.ts), delivered in order
// on the next macrotask like postMessage, so the page's store runs its real flows in a test.
import { TrainClient } from '../../src/ui/client';
import type { Request, WorkerEvent, WorkerMessage } from '../../src/worker/protocol';
import { Session } from '../../src/worker/session';
import { handleRequest } from '../../src/worker/dispatch';
import { errorInfo } from '../../src/worker/error-code';

export function inProcessClient(): { client: TrainClient; session: Session } {
  const port: { onmessage: ((ev: { data: WorkerMessage }) => void) | null; onerror: unknown; postMessage: (m: { id: number; req: Request }) => void } = {
    onmessage: null,
    onerror: null,
    postMessage: ({ id, req }) => {
      Promise.resolve()
        .then(() => handle(req))
        .then(
          (result) => deliver({ kind: 'reply', id, ok: true, result: result ?? null }),
          (e: Error) => deliver({ kind: 'reply', id, ok: false, error: errorInfo(e) }),
        );
    },
  };
  const deliver = (m: WorkerMessage) => setTimeout(() => port.onmessage?.({ data: m }), 0);
  const session = new Session((event: WorkerEvent) => deliver({ kind: 'event', event }));
  const handle = (req: Request): unknown => handleRequest(session, req);
  return { client: new TrainClient(port as unknown as Worker), session };
}
