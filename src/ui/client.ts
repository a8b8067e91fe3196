// The page's side of the worker protocol: typed request/reply over postMessage, plus an event stream.
import type { Request, ResultMap, WorkerEvent, WorkerMessage, ErrorInfo } from '../worker/protocol';

/** An error raised in the worker, with its original name (DatasetError, CheckpointError...). */
export class WorkerError extends Error {
  /** The sentence's code for the page's language (src/worker/error-code.ts), with its parameters. */
  readonly code?: string;
  readonly params?: Record<string, string | number>;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = info.name;
    this.code = info.code;
    this.params = info.params;
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

export class TrainClient {
  private next = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: WorkerEvent) => void>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<WorkerMessage>) => {
      const m = ev.data;
      if (m.kind === 'event') {
        for (const l of this.listeners) l(m.event);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new WorkerError(m.error));
    };
    worker.onerror = (ev) => {
      const err = new WorkerError({ name: 'WorkerError', message: `The training worker crashed (${ev.message || 'unknown error'}); reload the page.`, code: 'worker.crashed', params: { detail: ev.message || '?' } });
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  static create(): TrainClient {
    return new TrainClient(new Worker(new URL('../worker/train.worker.ts', import.meta.url), { type: 'module' }));
  }

  call<T extends Request['type']>(req: Extract<Request, { type: T }>): Promise<ResultMap[T]> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, req });
    });
  }

  on(listener: (e: WorkerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
