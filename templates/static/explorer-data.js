// Explorer data: the page's inline explore.json, and each (layer, probe, channel group) chunk of 8-bit
// activation levels, loaded on demand as a classic <script> (file:// allows those, not the fetch API), inflated
// with DecompressionStream and its step-delta coding undone. Format: render/page_data.py. The one-file report
// (report/share.py) holds every chunk's script inline, so its chunks are registered before they are needed.
// A page may hold several runs' data (the comparison page, report/compare/): X.parseMeta and X.createData make
// one store per explore.json; the article's own is X.meta and X.data. The reader's words are the page's too:
// X.say(key, values) returns the message `key` of the page's <script type="application/json" id="explorer-words">
// (templates/partials/explorer_words.html.j2, in the page's language) with its {name} slots filled from `values`.
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  var has = Object.prototype.hasOwnProperty;

  function readWords() {
    var element = document.getElementById("explorer-words");
    return element ? JSON.parse(element.textContent) : {};
  }

  // Return message `key` with each {name} slot replaced by values[name] (a page without the words: the key and
  // the values, so that nothing is lost).
  function say(key, values) {
    values = values || {};
    if (!has.call(X.words, key)) {
      return [key].concat(Object.keys(values).map(function (name) { return String(values[name]); })).join(" ");
    }
    return X.words[key].replace(/\{(\w+)\}/g, function (slot, name) {
      return has.call(values, name) ? String(values[name]) : slot;
    });
  }

  X.words = readWords();
  X.say = say;

  function readMeta() {
    var element = document.getElementById("explorer-meta");
    return element ? parseMeta(element) : null;
  }

  // Return the explore.json an inline <script type="application/json"> holds, with its indexes added.
  function parseMeta(element) {
    var meta = JSON.parse(element.textContent);
    meta.base = element.getAttribute("data-base") || "";
    meta.layerIndex = {};
    meta.layers.forEach(function (layer, index) {
      meta.layerIndex[layer.name] = index;
      layer.mapArea = layer.map_size[0] * layer.map_size[1];
      layer.groupOf = {};  // channel -> [group, its place within the group's chunk]
      layer.groups.forEach(function (group, g) {
        group.frameSize = group.channels.length * layer.mapArea;
        group.channels.forEach(function (channel, slot) { layer.groupOf[channel] = [g, slot]; });
      });
    });
    return meta;
  }

  function supported() {
    return typeof DecompressionStream === "function" && typeof Response === "function" &&
      typeof Blob === "function" && !!window.HTMLCanvasElement;
  }

  function fromBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  function inflate(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
  }

  // Each step was stored minus the one before (mod 256): add them back up, in place.
  function undoDeltas(levels, frameSize) {
    for (var i = frameSize; i < levels.length; i++) { levels[i] = levels[i] + levels[i - frameSize]; }
    return levels;
  }

  // Take the chunk a loaded (or inline) script pushed onto window.explorerChunks (and drop its text).
  function takeRegistered(name, probe, group) {
    var queue = window.explorerChunks || [];
    for (var i = 0; i < queue.length; i++) {
      if (queue[i][0] === name && queue[i][1] === probe && queue[i][2] === group) { return queue.splice(i, 1)[0][3]; }
    }
    return null;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = function () { script.remove(); resolve(); };
      script.onerror = function () { script.remove(); reject(new Error(say("couldNotLoad", {file: src}))); };
      document.head.appendChild(script);
    });
  }

  function key(layer, probe, group) { return layer + "/" + probe + "/" + group; }

  // The chunks of one explore.json (`meta`, from parseMeta): each loaded once, when first needed.
  function createData(meta) {
    var chunks = {};   // "layer/probe/group" -> Uint8Array of (T, c, H, W) levels
    var pending = {};  // "layer/probe/group" -> Promise

    // Return the (T, c, H, W) levels of a loaded chunk, or null while it is not loaded.
    function chunk(layerIndex, probe, group) { return chunks[key(layerIndex, probe, group)] || null; }

    // Load a chunk unless it is loaded or on its way; resolve with its levels.
    function need(layerIndex, probe, group) {
      var id = key(layerIndex, probe, group);
      if (chunks[id]) { return Promise.resolve(chunks[id]); }
      if (pending[id]) { return pending[id]; }
      var layer = meta.layers[layerIndex], entry = layer.groups[group];
      var file = entry.files[probe].path, inline = takeRegistered(layer.name, probe, group);
      var loaded = inline !== null ? Promise.resolve(inline) : loadScript(meta.base + file).then(function () {
        var text = takeRegistered(layer.name, probe, group);
        if (text === null) { throw new Error(say("registeredNothing", {file: file})); }
        return text;
      });
      pending[id] = loaded.then(function (text) { return inflate(fromBase64(text)); }).then(function (levels) {
        var expected = meta.steps.length * entry.frameSize;
        if (levels.length !== expected) {
          throw new Error(say("wrongSize", {file: file, count: levels.length, expected: expected}));
        }
        chunks[id] = undoDeltas(levels, entry.frameSize);
        delete pending[id];
        return chunks[id];
      }, function (error) { delete pending[id]; throw error; });
      return pending[id];
    }

    // Return the bytes of all loaded chunks (for the memory figures).
    function loadedBytes() {
      return Object.keys(chunks).reduce(function (sum, id) { return sum + chunks[id].length; }, 0);
    }

    // Return the "layer/probe/group" keys of the loaded chunks (layer as its index).
    function keys() { return Object.keys(chunks); }

    return {chunk: chunk, need: need, loadedBytes: loadedBytes, undoDeltas: undoDeltas, keys: keys};
  }

  X.supported = supported();
  X.parseMeta = parseMeta;
  X.createData = createData;
  X.meta = X.supported ? readMeta() : null;
  X.data = createData(X.meta);
})();
