// screenshot: scroll through the page so lazy content loads, wait for the images it shows, return the full height.
// An image the page does not render (inside a closed <details>, display: none) never loads lazily and is not in the
// screenshot: it is not waited for (a folded article holds dozens: each screenshot would wait out the deadline).
const done = arguments[arguments.length - 1];
const sleep = ms => new Promise(r => setTimeout(r, ms));
const frame = () => Promise.race([new Promise(r => requestAnimationFrame(() => r())), sleep(100)]);
(async () => {
  const step = Math.max(200, window.innerHeight);
  for (let y = 0; y < document.documentElement.scrollHeight; y += step) {
    window.scrollTo(0, y); await frame(); await frame();
  }
  const shown = Array.from(document.images).filter(i => !i.checkVisibility || i.checkVisibility());
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline && !shown.every(i => i.complete)) await sleep(50);
  window.scrollTo(0, 0); await frame();
  return Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0);
})().then(done, e => done(-1));
