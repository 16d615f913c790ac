// Explorer tests: wait until the explorer has started; return the steps, the current snapshot and the pixel ratio.
// Arguments: timeout in ms, then Selenium's callback.
const [timeoutMs, done] = [arguments[0], arguments[arguments.length - 1]];
const sleep = ms => new Promise(r => setTimeout(r, ms));
(async () => {
  const deadline = performance.now() + timeoutMs;
  while (document.documentElement.getAttribute('data-explorer') !== 'ready') {
    if (performance.now() > deadline) throw new Error('the explorer did not start');
    await sleep(25);
  }
  const X = window.Explorer;
  return {steps: X.meta.steps, index: X.control.state.index, ratio: window.devicePixelRatio,
          layers: X.meta.layers.map(layer => layer.name), probes: X.meta.probe_labels.length};
})().then(done, e => done({error: String(e && e.stack || e)}));
