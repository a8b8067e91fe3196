// One request of the page to the session: the worker's message loop and the tests' in-process worker
// (test/helpers/in-process-worker.ts) both answer through this, so they cannot drift apart.
import { setHubToken } from './hub-model';
import type { Request } from './protocol';
import type { Session } from './session';

export function handleRequest(session: Session, req: Request): Promise<unknown> | unknown {
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
      return session.exportZip(req.extra, req.language);
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
