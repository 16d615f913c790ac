// Explorer tests: the page's own timings (ms from a slider input to its views drawn, and to the next frame),
// its JavaScript heap and the bytes of activation data it holds. Argument: true to clear the timings first.
const X = window.Explorer;
const memory = performance.memory || {};
const out = {samples: X.stats.samples.slice(), frames: X.stats.frames.slice(), index: X.control.state.index,
             heapUsed: memory.usedJSHeapSize || null, heapTotal: memory.totalJSHeapSize || null,
             dataBytes: X.data.loadedBytes()};
if (arguments[0]) { X.stats.samples.length = 0; X.stats.frames.length = 0; X.stats.flush = true; }
return out;
