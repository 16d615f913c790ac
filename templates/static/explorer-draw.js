// Explorer drawing: levels -> the renderer's palette colours (render/palette.py, shipped in explore.json),
// one small source canvas per (layer, probe, channel group) at one pixel per activation, and grids of cells
// copied from it with nearest-neighbour scaling at the device's pixel ratio (a whole number of device
// pixels per activation). Maps may be any size, square or not; probe images grey or RGB. X.createDraw(meta, data)
// makes the same for another explore.json (a page with several runs, report/compare/); the article's is X.draw.
// Besides a step's values ("fixed" or "contrast"), a mode "change/fixed", "change/contrast", "from-final/fixed" or
// "from-final/contrast" draws the difference of two steps' decoded values (the one before, or the last) on a
// symmetric red-white-blue scale whose end is the largest such |difference| in the layer's loaded data (diffExtent).
// Levels at a step with exponent k > 0 are 2^k times finer than the fixed scale's (explorer-data.js): "fixed" colours
// them through the renderer's table for that exponent, "contrast" stretches them as they are, and differences are
// taken in the layer's finest unit (diffUnit: one level at its largest exponent).
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  var littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

  function packed(rgb) {
    return littleEndian ? (0xff000000 | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0
      : ((rgb[0] << 24) | (rgb[1] << 16) | (rgb[2] << 8) | 0xff) >>> 0;
  }

  // The drawing of one explore.json (`meta`, X.parseMeta's) from its chunks (`data`, X.createData's).
  function createDraw(meta, data) {
    var palette = meta.palette.map(packed);  // palette index -> RGBA as one 32-bit pixel
    var fixedTables = meta.layers.map(function () { return []; });  // [layer][exponent] -> level -> pixel
    var contrastTable = new Uint32Array(256);
    // Per layer, its largest exponent: differences are counted in one level at that exponent.
    var topExponents = meta.layers.map(function (layer) { return Math.max.apply(null, [0].concat(layer.exponents)); });

    // The level -> pixel table of a layer's fixed scale at an exponent (the renderer's palette indices, shipped).
    function fixedTable(layerIndex, exponent) {
      var tables = fixedTables[layerIndex], layer = meta.layers[layerIndex];
      if (!tables[exponent]) {
        var indices = exponent === 0 ? layer.fixed_table
          : X.fromBase64(meta.level_tables[layer.fine_tables[exponent - 1]]);
        tables[exponent] = Uint32Array.from(indices, function (index) { return palette[index]; });
      }
      return tables[exponent];
    }

    // Return the level -> pixel table of a layer at snapshot t under "fixed" or "contrast".
    // Contrast: 0 stays white and the step's largest |level - 128| (all probes) reaches the table's end,
    // rounding half up: index = 95 + floor((190 k + m) / (2 m)), exact in doubles for these integers.
    function table(layerIndex, t, mode) {
      if (mode !== "contrast") { return fixedTable(layerIndex, meta.layers[layerIndex].exponents[t]); }
      var m = meta.layers[layerIndex].contrast_extents[t], centre = meta.center_index, top = meta.table_size - 1;
      for (var level = 0; level < 256; level++) {
        var k = level - meta.zero_level;
        var index = Math.floor((2 * centre * k + m) / (2 * m)) + centre;
        contrastTable[level] = palette[Math.max(0, Math.min(top, index))];
      }
      contrastTable[meta.nan_level] = palette[meta.nan_index];
      return contrastTable;
    }

    // The activation value a level stands for in a layer at snapshot t (NaN for the NaN level).
    function value(layerIndex, level, t) {
      if (level === meta.nan_level) { return NaN; }
      return (level - meta.zero_level) * X.levelUnit(meta, layerIndex, t);
    }

    // Per layer and snapshot, how far left a level's offset shifts into the layer's finest unit.
    function shiftOf(layerIndex, t) { return topExponents[layerIndex] - meta.layers[layerIndex].exponents[t]; }

    // The value of one unit of a layer's differences (diffExtent): one level at its largest exponent.
    function diffUnit(layerIndex) {
      return meta.layers[layerIndex].scale / meta.half_range / Math.pow(2, topExponents[layerIndex]);
    }

    // Difference modes: "change" (snapshot t minus t - 1; none at t = 0) or "from-final" (t minus the last).
    function diffKind(mode) {
      var slash = mode.indexOf("/");
      return slash < 0 ? null : mode.slice(0, slash);
    }
    function reference(kind, t) { return kind === "change" ? Math.max(0, t - 1) : meta.steps.length - 1; }

    // Per chunk, the largest |difference| at each snapshot in the layer's finest unit (NaN levels left out),
    // computed once.
    var chunkStats = typeof WeakMap === "function" ? new WeakMap() : null;
    function statsOf(levels, frameSize, layerIndex) {
      var known = chunkStats && chunkStats.get(levels);
      if (known) { return known; }
      var count = meta.steps.length, nan = meta.nan_level, zero = meta.zero_level, lastOffset = (count - 1) * frameSize;
      var stats = {change: new Int32Array(count), "from-final": new Int32Array(count)};
      var lastScale = 1 << shiftOf(layerIndex, count - 1);
      for (var t = 0; t < count; t++) {
        var offset = t * frameSize, previous = Math.max(0, t - 1) * frameSize, change = 0, fromFinal = 0;
        var scale = 1 << shiftOf(layerIndex, t), beforeScale = 1 << shiftOf(layerIndex, Math.max(0, t - 1));
        for (var i = 0; i < frameSize; i++) {
          var level = levels[offset + i];
          if (level === nan) { continue; }
          var now = (level - zero) * scale, before = levels[previous + i], last = levels[lastOffset + i];
          if (before !== nan) { change = Math.max(change, Math.abs(now - (before - zero) * beforeScale)); }
          if (last !== nan) { fromFinal = Math.max(fromFinal, Math.abs(now - (last - zero) * lastScale)); }
        }
        stats.change[t] = change;
        stats["from-final"][t] = fromFinal;
      }
      if (chunkStats) { chunkStats.set(levels, stats); }
      return stats;
    }

    // The end of a layer's difference scale, in its finest unit (at least 1): the largest |difference| of `kind`
    // in every chunk of the layer loaded so far, over the whole run, or (contrast) at snapshot t only.
    function diffExtent(layerIndex, kind, t, contrast) {
      var layer = meta.layers[layerIndex], top = 0;
      for (var g = 0; g < layer.groups.length; g++) {
        for (var p = 0; p < layer.groups[g].files.length; p++) {
          var levels = data.chunk(layerIndex, p, g);
          if (!levels) { continue; }
          var series = statsOf(levels, layer.groups[g].frameSize, layerIndex)[kind];
          if (contrast) { top = Math.max(top, series[t]); continue; }
          for (var s = 0; s < series.length; s++) { top = Math.max(top, series[s]); }
        }
      }
      return Math.max(1, top);
    }

    // The palette index of a level difference d on a symmetric scale ending at m levels (the contrast rule's
    // rounding: 0 is white, +-m the table's ends).
    function diffIndex(d, m) {
      var centre = meta.center_index, index = Math.floor((2 * centre * d + m) / (2 * m)) + centre;
      return Math.max(0, Math.min(meta.table_size - 1, index));
    }

    function Source(width, height) {
      this.canvas = document.createElement("canvas");
      this.canvas.width = width;
      this.canvas.height = height;
      this.context = this.canvas.getContext("2d");
      this.image = this.context.createImageData(width, height);
      this.pixels = new Uint32Array(this.image.data.buffer);
      this.state = null;
    }

    var sources = {};
    // Return the source canvas of (layer, probe, group) filled for snapshot t and mode, or null without data.
    function activationSource(layerIndex, probe, group, t, mode) {
      var levels = data.chunk(layerIndex, probe, group);
      if (!levels) { return null; }
      var layer = meta.layers[layerIndex], entry = layer.groups[group], id = layerIndex + "/" + probe + "/" + group;
      var source = sources[id] ||
        (sources[id] = new Source(layer.map_size[1], entry.channels.length * layer.map_size[0]));
      var kind = diffKind(mode), extent = kind ? diffExtent(layerIndex, kind, t, /contrast$/.test(mode)) : 0;
      var state = t + ":" + mode + ":" + extent;
      if (source.state !== state) {
        var pixels = source.pixels, size = entry.frameSize, offset = t * size, i;
        if (kind) {
          var r = reference(kind, t), other = r * size, nan = meta.nan_level, nanPixel = palette[meta.nan_index];
          var zero = meta.zero_level, scaleA = 1 << shiftOf(layerIndex, t), scaleB = 1 << shiftOf(layerIndex, r);
          for (i = 0; i < size; i++) {
            var a = levels[offset + i], b = levels[other + i];
            pixels[i] = a === nan || b === nan ? nanPixel
              : palette[diffIndex((a - zero) * scaleA - (b - zero) * scaleB, extent)];
          }
        } else {
          var lut = table(layerIndex, t, mode);
          for (i = 0; i < size; i++) { pixels[i] = lut[levels[offset + i]]; }
        }
        source.context.putImageData(source.image, 0, 0);
        source.state = state;
      }
      return source;
    }

    // The probe images, one above the other: grey levels (the renderer's ramp) or RGB bytes as recorded.
    var probeSource = null;
    function probeImages() {
      if (probeSource) { return probeSource; }
      var size = meta.probe_size, bytes = atob(meta.probe_pixels), count = meta.probe_labels.length;
      var rgb = meta.probe_color === "rgb", pixels = count * size[0] * size[1];
      probeSource = new Source(size[1], count * size[0]);
      for (var i = 0; i < pixels; i++) {
        probeSource.pixels[i] = rgb ? packed([bytes.charCodeAt(3 * i), bytes.charCodeAt(3 * i + 1),
          bytes.charCodeAt(3 * i + 2)]) : packed([bytes.charCodeAt(i), bytes.charCodeAt(i), bytes.charCodeAt(i)]);
      }
      probeSource.context.putImageData(probeSource.image, 0, 0);
      return probeSource;
    }

    // A grid of cells on one canvas. spec: {layer (index, or -1 for the probe images), cells: [{channel,
    // group, slot (the channel's place in its group's chunk), probe, row, col}], rows, cols, match (a grid
    // whose columns this one lines up with)}. A cell is a map at a whole number of device pixels per value.
    function Grid(canvas, spec) {
      this.canvas = canvas;
      this.spec = spec;
      this.context = canvas.getContext("2d", {alpha: false});
      this.map = spec.layer < 0 ? meta.probe_size : meta.layers[spec.layer].map_size;
      this.drawn = null;
      this.live = false;  // no pixels until its view comes near the screen
    }

    // Cells are sized by their map's longer side. Where every such side divides `unit` (28 for 28, 14
    // and 7), cells of a multiple of it are the same size in every layer, as in the renderer's frames;
    // otherwise (or for cells smaller than that) each map takes whole pixels per value on its own.
    function gcd(a, b) { return b ? gcd(b, a % b) : a; }
    function longer(map) { return Math.max(map[0], map[1]); }
    var unit = meta.layers.reduce(function (u, layer) {
      var side = longer(layer.map_size);
      return u * side / gcd(u, side);
    }, longer(meta.probe_size));

    // Return the geometry (device pixels) of cells of about `cellCss` CSS pixels in `rows` x `cols` (default:
    // the spec's), without touching the canvas: block (pixels per value), cell size, inset, gutter, pitches, size.
    Grid.prototype.size = function (cellCss, gutterCss, rows, cols) {
      var ratio = window.devicePixelRatio || 1, spec = this.spec, map = this.map, side = longer(map), g = {};
      if (spec.match) {  // the probe row over a layer grid: the same columns, the image centred in each
        g.cellWidth = spec.match.cellWidth;
        var fit = g.cellWidth / map[1];
        g.block = fit >= 1 ? Math.floor(fit) : fit;  // whole pixels per value where the cell allows
      } else {
        var units = Math.floor(cellCss * ratio / unit);
        var longSide = units >= 1 ? units * unit : Math.max(1, Math.floor(cellCss * ratio / side)) * side;
        g.block = longSide / side;
        g.cellWidth = g.block * map[1];
      }
      g.imageWidth = g.block * map[1];
      g.cellHeight = Math.round(g.block * map[0]);
      g.inset = Math.floor((g.cellWidth - g.imageWidth) / 2);
      g.gutterDevice = Math.max(1, Math.round((gutterCss || 2) * ratio));
      g.colPitch = g.cellWidth + g.gutterDevice;
      g.rowPitch = g.cellHeight + g.gutterDevice;
      g.width = g.gutterDevice + (cols === undefined ? spec.cols : cols) * g.colPitch;
      g.height = g.gutterDevice + (rows === undefined ? spec.rows : rows) * g.rowPitch;
      g.cssWidth = g.width / ratio;
      g.cssHeight = g.height / ratio;
      return g;
    };

    // Size the canvas for cells of about `cellCss` CSS pixels; return the CSS pitch between rows.
    Grid.prototype.layout = function (cellCss, gutterCss) {
      var ratio = window.devicePixelRatio || 1, spec = this.spec, g = this.size(cellCss, gutterCss);
      var self = this;
      ["block", "cellWidth", "imageWidth", "cellHeight", "inset", "gutterDevice", "colPitch", "rowPitch"].forEach(
        function (name) { self[name] = g[name]; });
      var width = g.width, height = g.height;
      this.canvas.setAttribute("data-rows", String(spec.rows));
      this.canvas.setAttribute("data-cols", String(spec.cols));
      this.canvas.style.width = width / ratio + "px";
      this.canvas.style.height = height / ratio + "px";
      this.canvas.setAttribute("data-cell-device", String(this.cellWidth));
      this.canvas.setAttribute("data-cell-height-device", String(this.cellHeight));
      this.canvas.setAttribute("data-block-device", String(this.block));
      this.canvas.setAttribute("data-inset-device", String(this.inset));
      this.canvas.setAttribute("data-gutter-device", String(this.gutterDevice));
      this.drawn = null;
      if (!this.live) { return this.rowPitch / ratio; }
      if (this.canvas.width !== width || this.canvas.height !== height) {
        this.canvas.width = width;
        this.canvas.height = height;
      }
      var paper = meta.paper;
      this.context.fillStyle = "rgb(" + paper[0] + "," + paper[1] + "," + paper[2] + ")";
      this.context.fillRect(0, 0, width, height);
      this.context.imageSmoothingEnabled = false;
      return this.rowPitch / ratio;
    };

    // Give the canvas's pixels back while it is far off screen (its CSS size stays); layout() restores them.
    Grid.prototype.release = function () {
      this.live = false;
      this.canvas.width = 0;
      this.canvas.height = 0;
      this.drawn = null;
    };

    // Return the (x, y) device pixel of a cell's top-left corner.
    Grid.prototype.origin = function (cell) {
      return [this.gutterDevice + cell.col * this.colPitch, this.gutterDevice + cell.row * this.rowPitch];
    };

    // Return the client rectangle {left, top, width, height} of activation (x, y) of a cell.
    Grid.prototype.rectOf = function (cell, x, y) {
      var box = this.canvas.getBoundingClientRect(), at = this.origin(cell);
      var sx = box.width / (this.canvas.width || 1), sy = box.height / (this.canvas.height || 1);
      return {left: box.left + (at[0] + this.inset + x * this.block) * sx, top: box.top + (at[1] + y * this.block) * sy,
        width: this.block * sx, height: this.block * sy};
    };

    // Draw snapshot t; return true when every cell had its data.
    Grid.prototype.draw = function (t, mode) {
      var spec = this.spec, state = t + ":" + mode, complete = true;
      if (!this.live) { return false; }
      if (this.drawn === state) { return true; }
      var map = this.map, context = this.context;
      for (var i = 0; i < spec.cells.length; i++) {
        var cell = spec.cells[i], at = this.origin(cell), source, sy;
        if (spec.layer < 0) {
          source = probeImages();
          sy = cell.probe * map[0];
        } else {
          source = activationSource(spec.layer, cell.probe, cell.group, t, mode);
          sy = cell.slot * map[0];
        }
        if (!source) { complete = false; continue; }
        context.drawImage(source.canvas, 0, sy, map[1], map[0], at[0] + this.inset, at[1], this.imageWidth,
          this.cellHeight);
      }
      this.drawn = complete ? state : null;
      return complete;
    };

    // Return {cell, x, y} (activation coordinates within the cell) under a client point, or null.
    Grid.prototype.hit = function (clientX, clientY) {
      var box = this.canvas.getBoundingClientRect();
      var x = (clientX - box.left) * this.canvas.width / box.width - this.gutterDevice;
      var y = (clientY - box.top) * this.canvas.height / box.height - this.gutterDevice;
      var col = Math.floor(x / this.colPitch), row = Math.floor(y / this.rowPitch);
      var inX = x - col * this.colPitch - this.inset, inY = y - row * this.rowPitch;
      if (x < 0 || y < 0 || inX < 0 || inX >= this.imageWidth || inY >= this.cellHeight) { return null; }
      var cell = this.spec.cells.filter(function (c) { return c.row === row && c.col === col; })[0];
      if (!cell) { return null; }
      return {cell: cell, x: Math.floor(inX / this.block), y: Math.floor(inY / this.block)};
    };

    // Return the level at snapshot t of a hit (from Grid.hit), or null without data.
    function levelAt(layerIndex, hit, t) {
      var cell = hit.cell, levels = data.chunk(layerIndex, cell.probe, cell.group);
      if (!levels) { return null; }
      var layer = meta.layers[layerIndex], map = layer.map_size;
      return levels[t * layer.groups[cell.group].frameSize + (cell.slot * map[0] + hit.y) * map[1] + hit.x];
    }

    // Return the level at snapshot t of activation (x, y) of a cell, or null without data.
    function levelOf(layerIndex, cell, x, y, t) { return levelAt(layerIndex, {cell: cell, x: x, y: y}, t); }

    return {Grid: Grid, table: table, value: value, levelAt: levelAt, levelOf: levelOf, palette: palette,
      diffKind: diffKind, diffExtent: diffExtent, diffIndex: diffIndex, diffUnit: diffUnit, reference: reference};
  }

  // Return where a pointer event falls along a curve figure's x axis, as a share in [0, 1] of the axis from its
  // data-x0 to its data-x1 (svg units): the article's and the comparison page's curves both jump there.
  X.curveShare = function (svg, event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var local = point.matrixTransform(svg.getScreenCTM().inverse());
    var x0 = +svg.getAttribute("data-x0"), x1 = +svg.getAttribute("data-x1");
    return Math.max(0, Math.min(1, (local.x - x0) / (x1 - x0)));
  };

  X.createDraw = createDraw;
  if (X.meta) { X.draw = createDraw(X.meta, X.data); }
})();
