// Explorer data: the page's inline explore.json, and each (layer, probe, channel group) chunk of 8-bit
// activation levels, loaded on demand as a classic <script> (file:// allows those, not the fetch API), read
// from its 7-bit text (fromText), inflated with DecompressionStream and its prediction undone (undoCoding).
// A level stands for (level - 128) * X.levelUnit(meta, layer, t): each step has its own exponent, so the
// faint early steps of a deep layer keep fine levels (render/page_levels.py; the files: render/page_data.py).
// The one-file report (report/share.py) holds every chunk's script inline, so its chunks are registered before
// they are needed.
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

  // One level of a layer at snapshot t, as a value: the layer's scale / 127, halved per step of its exponent.
  function levelUnit(meta, layerIndex, t) {
    var layer = meta.layers[layerIndex];
    return layer.scale / meta.half_range / Math.pow(2, layer.exponents[t]);
  }

  function fromBase64(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  // The bytes a chunk's 7-bit text holds (pipeline/seven_bit.py): each character below 128 is 7 bits; one
  // from 256 up is 256 + 128 q + g, the unsafe 7-bit value UNSAFE[q] and then g (q = 6: g alone, at the end).
  var UNSAFE = [0, 10, 13, 34, 60, 92];
  function fromText(text) {
    var out = new Uint8Array(Math.floor(text.length * 14 / 8) + 1), size = 0, held = 0, bits = 0;
    function take(group) {
      held = (held << 7) | group;
      bits += 7;
      if (bits >= 8) {
        bits -= 8;
        out[size++] = held >> bits;
        held &= (1 << bits) - 1;
      }
    }
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code < 128) { take(code); continue; }
      code -= 256;
      if (code >> 7 < UNSAFE.length) { take(UNSAFE[code >> 7]); }
      take(code & 127);
    }
    return out.subarray(0, size);
  }

  function inflate(bytes) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
  }

  function int8(byte) { return byte << 24 >> 24; }

  // Undo the map coding of one height x width map at `start`, in reading order: add back each residual's
  // prediction from its decoded left, upper and upper-left neighbours (LOCO-I's median; the first row from
  // the left, the first column from above). Uint8Array stores wrap mod 256.
  function undoMap(levels, start, height, width) {
    for (var y = 0; y < height; y++) {
      for (var x = 0; x < width; x++) {
        var i = start + y * width + x, guess = 0;
        if (y && x) {
          var left = int8(levels[i - 1]), up = int8(levels[i - width]), corner = int8(levels[i - width - 1]);
          guess = Math.min(Math.max(left + up - corner, Math.min(left, up)), Math.max(left, up));
        } else if (x) {
          guess = int8(levels[i - 1]);
        } else if (y) {
          guess = int8(levels[i - width]);
        }
        levels[i] += guess;
      }
    }
  }

  // Undo a chunk's coding, in place: step 0 was stored minus 128, each later step minus the one before
  // rescaled to its exponent (offsets from 128 doubled per step up, halved rounding half up per step down), and
  // a step with exponent > 0 also map by map (undoMap). All mod 256.
  function undoCoding(levels, frameSize, exponents, map) {
    var area = map[0] * map[1];
    for (var t = 0, offset = 0; offset < levels.length; t++, offset += frameSize) {
      var k = exponents[t], i;
      if (k > 0) {
        for (i = 0; i < frameSize; i += area) { undoMap(levels, offset + i, map[0], map[1]); }
      }
      var end = offset + frameSize, shift = t ? k - exponents[t - 1] : 0;
      if (t === 0) {
        for (i = offset; i < end; i++) { levels[i] += 128; }
      } else if (shift === 0) {
        for (i = offset; i < end; i++) { levels[i] += levels[i - frameSize]; }
      } else if (shift > 0) {
        for (i = offset; i < end; i++) { levels[i] += 128 + ((levels[i - frameSize] - 128) << shift); }
      } else {
        var half = 1 << (-shift - 1);
        for (i = offset; i < end; i++) { levels[i] += 128 + ((levels[i - frameSize] - 128 + half) >> -shift); }
      }
    }
    return levels;
  }

  // Take the bytes of the chunk a loaded (or inline) script pushed onto window.explorerChunks (and drop its
  // text): 7-bit text, or base64 where the entry says so (a chunk inside an HTML page, the one-file report).
  function takeRegistered(name, probe, group) {
    var queue = window.explorerChunks || [];
    for (var i = 0; i < queue.length; i++) {
      if (queue[i][0] === name && queue[i][1] === probe && queue[i][2] === group) {
        var entry = queue.splice(i, 1)[0];
        return entry[4] === "base64" ? fromBase64(entry[3]) : fromText(entry[3]);
      }
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
        var bytes = takeRegistered(layer.name, probe, group);
        if (bytes === null) { throw new Error(say("registeredNothing", {file: file})); }
        return bytes;
      });
      pending[id] = loaded.then(inflate).then(function (levels) {
        var expected = meta.steps.length * entry.frameSize;
        if (levels.length !== expected) {
          throw new Error(say("wrongSize", {file: file, count: levels.length, expected: expected}));
        }
        chunks[id] = undoCoding(levels, entry.frameSize, layer.exponents, layer.map_size);
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

    return {chunk: chunk, need: need, loadedBytes: loadedBytes, undoCoding: undoCoding, keys: keys};
  }

  X.supported = supported();
  X.parseMeta = parseMeta;
  X.levelUnit = levelUnit;
  X.fromBase64 = fromBase64;
  X.fromText = fromText;
  X.createData = createData;
  X.meta = X.supported ? readMeta() : null;
  X.data = createData(X.meta);
})();
