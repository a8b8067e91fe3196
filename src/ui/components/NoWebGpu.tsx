// Shown instead of the playground when WebGPU is missing or the adapter fails.
export function NoWebGpu({ reason }: { reason?: string }) {
  return (
    <main className="no-webgpu" role="main" aria-labelledby="no-webgpu-title">
      <h1 id="no-webgpu-title">This page needs WebGPU</h1>
      <p className="lead">
        DPO Playground trains a language model on <strong>your own GPU</strong>, inside the browser, with WebGPU compute
        shaders. Nothing is uploaded and no server trains anything, so without WebGPU there is nothing to run.
      </p>
      {reason && (
        <p className="error" role="alert">
          What happened: {reason}
        </p>
      )}
      <h2>Browsers that work</h2>
      <ul>
        <li>Chrome or Edge 113 or newer on Windows, macOS and ChromeOS; on Linux and Android, Chrome 121+ (on Linux you may need <code>chrome://flags/#enable-unsafe-webgpu</code> and Vulkan drivers).</li>
        <li>Safari 26 or newer on macOS, iOS and iPadOS.</li>
        <li>Firefox 141 or newer on Windows (other platforms behind <code>dom.webgpu.enabled</code>).</li>
      </ul>
      <h2>If your browser is listed</h2>
      <ul>
        <li>Update the GPU driver, and check that hardware acceleration is on in the browser settings.</li>
        <li>Open <code>chrome://gpu</code> (Chrome, Edge) and look for "WebGPU: Hardware accelerated".</li>
        <li>Remote desktops, some virtual machines and blocklisted GPUs expose no adapter: try another machine.</li>
      </ul>
    </main>
  );
}
