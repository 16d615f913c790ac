// check_page: reload every <video> with listeners attached, play it muted, report how far it got.
// Arguments: timeout in ms per video, then Selenium's callback.
const [timeoutMs, done] = [arguments[0], arguments[arguments.length - 1]];
const sleep = ms => new Promise(r => setTimeout(r, ms));
async function probe(v) {
  // Restart loading with listeners attached: a failing <source> fires 'error' on the
  // <source>, not on the <video>, and leaves play()'s promise pending forever.
  const sources = Array.from(v.querySelectorAll(':scope > source'));
  const usesSources = !v.hasAttribute('src');
  let sourceErrors = 0;
  const onSourceError = () => { sourceErrors++; };
  sources.forEach(s => s.addEventListener('error', onSourceError));
  v.muted = true;                      // muted play() is allowed without a user gesture
  v.scrollIntoView({block: 'center'});
  let playError = null;
  const t0 = performance.now();
  v.load();
  const p = v.play();
  if (p) p.catch(e => { playError = e.name + ': ' + e.message; });
  const noSource = usesSources && sources.length === 0;
  const allFailed = () => usesSources && sources.length > 0 && sourceErrors >= sources.length;
  while (!noSource && v.readyState < 2 && !v.error && !allFailed() && performance.now() < t0 + timeoutMs) await sleep(25);
  await sleep(0);                      // let a rejected play() promise report
  sources.forEach(s => s.removeEventListener('error', onSourceError));
  const r = {
    src: v.currentSrc, attrSrc: usesSources ? null : v.src,
    sources: sources.map(s => ({src: s.src, type: s.type})),
    noSource, allSourcesFailed: allFailed(),
    readyState: v.readyState, networkState: v.networkState,
    error: v.error ? ('MediaError ' + v.error.code + (v.error.message ? ': ' + v.error.message : '')) : null,
    playError, paused: v.paused, currentTime: v.currentTime, duration: v.duration,
    videoWidth: v.videoWidth, videoHeight: v.videoHeight,
    autoplay: v.autoplay, mutedAttr: v.hasAttribute('muted'), ms: Math.round(performance.now() - t0),
    html: v.outerHTML.slice(0, 300)};
  try { v.pause(); v.currentTime = 0; } catch (e) {}
  return r;
}
(async () => {
  const out = [];
  for (const v of Array.from(document.querySelectorAll('video'))) out.push(await probe(v));
  window.scrollTo(0, 0);
  return out;
})().then(done, e => done({error: String(e && e.stack || e)}));
