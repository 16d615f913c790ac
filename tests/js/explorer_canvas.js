// Explorer tests: scroll a view into sight, wait until it shows the current step, return its canvases as PNG.
// Arguments: a CSS selector of the view's element, the canvas selectors within it, timeout in ms, callback.
// The page loads the view's data itself when it comes near the screen (the path a reader's page takes).
const [selector, canvases, timeoutMs, done] = [arguments[0], arguments[1], arguments[2], arguments[arguments.length - 1]];
const sleep = ms => new Promise(r => setTimeout(r, ms));
(async () => {
  const X = window.Explorer, element = document.querySelector(selector);
  if (!element) throw new Error('no element ' + selector);
  const view = X.views.list.find(v => v.element === element);
  element.scrollIntoView({block: 'start'});
  const deadline = performance.now() + timeoutMs;
  const wanted = () => X.views.drawKey ? X.views.drawKey()  // the mode's key (a difference mode's differs)
    : X.control.state.index + ':' + X.control.state.mode;
  while (!view.grids.every(grid => grid.drawn === wanted())) {
    if (performance.now() > deadline) throw new Error(selector + ' was not drawn at ' + wanted());
    await sleep(25);
  }
  return {index: X.control.state.index, mode: X.control.state.mode, show: X.control.state.show,
          ratio: window.devicePixelRatio,
          canvases: canvases.map(css => {
            const canvas = element.querySelector(css);
            return {selector: css, png: canvas.toDataURL('image/png'), width: canvas.width, height: canvas.height,
                    cssWidth: canvas.getBoundingClientRect().width,
                    cell: +canvas.getAttribute('data-cell-device'), gutter: +canvas.getAttribute('data-gutter-device'),
                    cellHeight: +canvas.getAttribute('data-cell-height-device'),
                    block: +canvas.getAttribute('data-block-device'), inset: +canvas.getAttribute('data-inset-device')};
          })};
})().then(done, e => done({error: String(e && e.stack || e)}));
