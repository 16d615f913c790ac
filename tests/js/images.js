// check_page: open the folded <details> around every <img> (a lazy image in a closed one loads when the reader
// opens it), scroll each one not yet loaded into view (so lazy ones load; one scrolled to starts its neighbours
// too, and those already loaded need no scroll), wait for them, report each one, fold them again.
// Arguments: timeout in ms, then Selenium's callback.
const [timeoutMs, done] = [arguments[0], arguments[arguments.length - 1]];
const sleep = ms => new Promise(r => setTimeout(r, ms));
const frame = () => Promise.race([new Promise(r => requestAnimationFrame(() => r())), sleep(100)]);
(async () => {
  const imgs = Array.from(document.images);
  const opened = [];
  for (const img of imgs) {
    for (let d = img.closest('details:not([open])'); d; d = d.parentElement && d.parentElement.closest('details:not([open])')) {
      d.open = true; opened.push(d);
    }
  }
  for (const img of imgs) {            // lazy images start loading once near the viewport
    if (img.complete) continue;
    img.scrollIntoView({block: 'center', inline: 'center'});
    await frame(); await frame();
  }
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && !imgs.every(i => i.complete)) await sleep(50);
  await Promise.all(imgs.map(i => i.complete && i.naturalWidth && i.decode ? i.decode().catch(() => {}) : null));
  opened.forEach(d => { d.open = false; });
  window.scrollTo(0, 0);
  return imgs.map(i => ({
    src: i.currentSrc || i.src, attr: i.getAttribute('src'), srcset: i.getAttribute('srcset'),
    complete: i.complete, naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
    loading: i.loading, alt: i.getAttribute('alt'), html: i.outerHTML.slice(0, 200)}));
})().then(done, e => done({error: String(e && e.stack || e)}));
