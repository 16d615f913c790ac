// Explorer views: each layer section's grid (channels x probes, the probe row above it) and the compact
// all-layers view of one probe. They are sized to whole device pixels per activation, load their data
// when they come near the screen, and redraw (once per frame at most) when the step or the scale changes.
// A layer with more channels than a group shows one group at a time (the most active first), chosen with
// the view's own control; a link to a channel of another group switches to that group. The compact view puts
// every layer in one row when the window allows (choosing each block's rows and a common cell size so that the
// explorer with its curves fits under the step bar), and wraps its blocks otherwise.
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  if (!X.meta || !X.draw || !X.control || !X.legend) { return; }
  var meta = X.meta, Grid = X.draw.Grid;
  var views = [];
  var MAX_CELL = 64, MIN_CELL = 12, GUTTER = 2;

  // Return the cells of one channel group: channels in rows, probes in columns (or, transposed, the
  // group's channels in reading order over `columns` columns for one probe).
  function cellsOf(layerIndex, group, probes, columns, transpose) {
    var cells = [];
    meta.layers[layerIndex].groups[group].channels.forEach(function (channel, c) {
      probes.forEach(function (probe, p) {
        var cell = {channel: channel, group: group, slot: c, probe: probe, row: c, col: p};
        if (transpose) { cell.row = Math.floor(c / columns); cell.col = c % columns; }
        cells.push(cell);
      });
    });
    return cells;
  }

  function range(count) { return Array.from({length: count}, function (_, i) { return i; }); }

  // A layer section's view: one channel group (rows) of every probe (columns), the probe images on top.
  function layerView(figure) {
    var layerIndex = meta.layerIndex[figure.getAttribute("data-explorer-layer")];
    if (layerIndex === undefined) { return null; }
    var layer = meta.layers[layerIndex], probes = range(meta.probe_labels.length);
    var grid = new Grid(figure.querySelector(".xl-grid"), {layer: layerIndex, rows: 0, cols: probes.length,
      cells: []});
    var head = new Grid(figure.querySelector(".xl-probes"), {layer: -1, rows: 1, cols: probes.length,
      cells: probes.map(function (p) { return {channel: 0, group: 0, slot: 0, probe: p, row: 0, col: p}; }),
      match: grid});
    var picker = figure.querySelector("[data-explorer-group]");
    var view = {element: figure, layers: [layerIndex], grids: [grid, head], probes: function () { return probes; },
      groups: function () { return [view.group]; }, group: -1,
      show: function (group) {  // rows, cells and words of one channel group
        if (group === view.group) { return; }
        view.group = group;
        var channels = layer.groups[group].channels;
        grid.spec.rows = channels.length;
        grid.spec.cells = cellsOf(layerIndex, group, probes, 0, false);
        figure.querySelectorAll(".xl-rows li[data-channel]").forEach(function (row) {
          row.hidden = channels.indexOf(+row.getAttribute("data-channel")) < 0;
        });
        if (picker) { picker.value = String(group); }
        var showing = figure.querySelector("[data-explorer-showing]");
        if (showing) {
          var first = group * meta.group_size + 1, words = {shown: channels.length, channels: layer.channels,
            first: first, last: Math.min(layer.channels, first + meta.group_size - 1)};
          showing.textContent = X.say(group === 0 ? "showingFirst" : "showingRanked", words);
        }
        if (view.near) { view.layout(); load(view); }
        requestDraw();
      },
      layout: function () {
        var body = figure.querySelector(".xl-body"), labels = figure.querySelector(".xl-rows");
        var room = body.clientWidth - labels.offsetWidth - 1;
        var cell = Math.min(MAX_CELL, (room - GUTTER) / probes.length - GUTTER);
        var pitch = grid.layout(cell, GUTTER);
        head.layout(cell, GUTTER);
        figure.style.setProperty("--x-pitch", pitch + "px");
        figure.style.setProperty("--x-grid-width", grid.canvas.style.width);
      }};
    view.show(0);
    if (picker) { picker.addEventListener("change", function () { view.show(+picker.value); }); }
    return view;
  }

  // Show the row a "#layer-chN" fragment names: switch its view to the row's group, then bring it in sight.
  function revealRow() {
    var id = location.hash.slice(1), row = null;
    try { row = id ? document.getElementById(decodeURIComponent(id)) : null; } catch (error) { return; }
    var figure = row && row.hasAttribute("data-channel") ? row.closest("[data-explorer-layer]") : null;
    var view = figure ? viewOf(figure) : null;
    if (!view || !row.hidden) { return; }
    var layer = meta.layers[view.layers[0]];
    view.show(layer.groupOf[+row.getAttribute("data-channel")][0]);
    row.scrollIntoView({block: "center"});
  }

  function selectedProbe(root) {
    var checked = root.querySelector("input[name='explorer-probe']:checked");
    return checked ? +checked.value : 0;
  }

  // The compact view: the chosen probe through all layers, each layer's channels in a small block.
  function compactView(root) {
    var grids = [], blocks = [], probe = selectedProbe(root);
    var input = new Grid(root.querySelector("[data-explorer-compact-input]"), {layer: -1, rows: 1, cols: 1,
      cells: [{channel: 0, probe: probe, row: 0, col: 0}]});
    root.querySelectorAll("[data-explorer-compact-layer]").forEach(function (canvas) {
      var layerIndex = meta.layerIndex[canvas.getAttribute("data-explorer-compact-layer")];
      var channels = meta.layers[layerIndex].groups[0].channels.length;  // the most active group
      var grid = new Grid(canvas, {layer: layerIndex, rows: 0, cols: 0, cells: []});
      grids.push(grid);
      blocks.push({grid: grid, channels: channels, element: canvas.closest(".x-block")});
    });
    var row = root.querySelector(".x-blocks"), panel = root.closest(".x-panel") || root;

    // Arrange a block's channels in `columns` columns (reading order).
    function arrange(block, columns) {
      var spec = block.grid.spec, layerIndex = spec.layer;
      spec.cols = columns;
      spec.rows = Math.ceil(block.channels / columns);
      spec.cells = cellsOf(layerIndex, 0, [probe], columns, true);
      block.grid.drawn = null;
    }

    // Choose the rows and cell size that show the most pixels in one row of blocks no taller than `tallest`
    // CSS pixels; null when no cell of at least MIN_CELL fits.
    function plan(width, tallest, gap, labels) {
      var best = null, most = Math.max.apply(null, blocks.map(function (b) { return b.channels; }));
      for (var rows = 1; rows <= Math.min(most, 16); rows++) {
        var columns = blocks.map(function (b) { return Math.ceil(b.channels / Math.min(rows, b.channels)); });
        for (var cell = MAX_CELL; cell >= MIN_CELL; cell--) {
          var used = gap * blocks.length, high = 0, area = 0;
          var sizes = blocks.map(function (b, i) {
            var size = b.grid.size(cell, GUTTER, Math.ceil(b.channels / columns[i]), columns[i]);
            used += Math.max(size.cssWidth, labels[i]);
            high = Math.max(high, size.cssHeight);
            area += b.channels * size.cellWidth * size.cellHeight;
            return size;
          });
          var inputCell = Math.max(cell, Math.min(2 * cell + GUTTER, high - 2 * GUTTER));
          var inputSize = input.size(inputCell, GUTTER, 1, 1);
          used += Math.max(inputSize.cssWidth, labels[blocks.length]);
          high = Math.max(high, inputSize.cssHeight);
          if (used <= width && high <= tallest) {
            if (!best || area > best.area || (area === best.area && high < best.high)) {
              best = {rows: rows, columns: columns, cell: cell, inputCell: inputCell, area: area, high: high,
                sizes: sizes};
            }
            break;  // smaller cells of the same rows show less
          }
        }
      }
      return best;
    }

    var view = {element: root, grids: [input].concat(grids),
      layers: grids.map(function (grid) { return grid.spec.layer; }),
      probes: function () { return [probe]; }, groups: function () { return [0]; },
      // Plan the row once per window size (the words under the blocks and the legend change with the mode and
      // the step; the cells do not), then size the canvases to it.
      layout: function () {
        var key = [window.innerWidth, window.innerHeight, window.devicePixelRatio, row.clientWidth].join(" ");
        if (view.planned !== key) {
          view.plan = choose();
          view.planned = key;
        }
        var chosen = view.plan;
        if (chosen) {
          row.setAttribute("data-one-row", "");
          blocks.forEach(function (b, i) { arrange(b, chosen.columns[i]); });
          input.layout(chosen.inputCell, GUTTER);
          grids.forEach(function (grid) { grid.layout(chosen.cell, GUTTER); });
          return;
        }
        row.removeAttribute("data-one-row");  // too narrow for one row: blocks of 2 or 4 columns, wrapped
        var cell = root.clientWidth >= 640 ? 56 : 30;
        blocks.forEach(function (b) { arrange(b, b.channels <= 4 ? 2 : 4); });
        input.layout(2 * cell + GUTTER, GUTTER);
        grids.forEach(function (grid) { grid.layout(cell, GUTTER); });
      }};

    // Measure with the canvases folded away (and the widest scale words under each block): what the blocks'
    // words need, and the height of the panel without the canvases; return plan()'s choice.
    function choose() {
      var canvases = [input.canvas].concat(grids.map(function (grid) { return grid.canvas; }));
      var scales = Array.from(row.querySelectorAll("[data-explorer-scale]")), words = scales.map(function (e) {
        return e.textContent;
      });
      canvases.forEach(function (canvas) { canvas.style.width = "0px"; canvas.style.height = "0px"; });
      scales.forEach(function (element) { element.textContent = "\u00b10.000"; });
      var labels = blocks.map(function (b) { return b.element.offsetWidth; });
      labels.push(input.canvas.closest(".x-block").offsetWidth);
      var bar = document.querySelector("[data-explorer-stepbar]");
      var room = window.innerHeight - (bar ? bar.offsetHeight : 0) - panel.offsetHeight - 8;
      scales.forEach(function (element, i) { element.textContent = words[i]; });
      var gap = parseFloat(window.getComputedStyle(row).columnGap) || 16;
      return plan(row.clientWidth - 1, Math.max(3 * 28, room), gap, labels);
    }

    root.addEventListener("change", function (event) {
      if (event.target.name !== "explorer-probe") { return; }
      probe = +event.target.value;
      view.grids.forEach(function (grid) {
        grid.spec.cells.forEach(function (cell) { cell.probe = probe; });
        grid.drawn = null;
      });
      load(view);
      requestDraw();
    });
    return view;
  }

  function load(view) {
    var wanted = [];
    view.layers.forEach(function (layerIndex) {
      view.probes().forEach(function (probe) {
        view.groups().forEach(function (group) { wanted.push(X.data.need(layerIndex, probe, group)); });
      });
    });
    setStatus(view, X.say("loading"));
    Promise.all(wanted).then(function () { setStatus(view, ""); requestDraw(); }, function (error) {
      setStatus(view, X.say("loadFailed", {reason: error.message}));
      view.element.querySelectorAll("[data-explorer-fallback]").forEach(function (e) { e.hidden = false; });
    });
  }

  function setStatus(view, text) {
    var status = view.element.querySelector("[data-explorer-status]");
    if (status) { status.textContent = text; status.hidden = !text; }
  }

  var scheduled = false, idle = null;
  function requestDraw() {
    if (!scheduled) { scheduled = true; requestAnimationFrame(drawOnScreen); }
  }

  // The drawing mode of the state: "fixed" or "contrast" for the values, else "change/fixed", ...
  function drawMode() {
    var state = X.control.state;
    return state.show && state.show !== "value" ? state.show + "/" + state.mode : state.mode;
  }

  // The key a grid is drawn under now ("t:mode"); a difference mode's scale follows the loaded data, so a
  // newly loaded chunk redraws every grid drawn in one.
  var loadedCount = 0;
  function drawKey() { return X.control.state.index + ":" + drawMode(); }

  // Draw the views that are not up to date; return {complete, grids drawn}.
  function drawViews(list) {
    var t = X.control.state.index, mode = drawMode(), key = drawKey(), complete = true, drawn = [];
    var count = X.data.keys ? X.data.keys().length : 0;
    if (count !== loadedCount) {
      loadedCount = count;
      if (mode.indexOf("/") >= 0) {
        views.forEach(function (view) { view.grids.forEach(function (grid) { grid.drawn = null; }); });
      }
    }
    list.forEach(function (view) {
      view.grids.forEach(function (grid) {
        if (grid.drawn !== key) { drawn.push(grid); }
        complete = grid.draw(t, mode) && complete;
      });
    });
    return {complete: complete, drawn: drawn};
  }

  // Each frame: the views on screen now (timed); the ones just off it when the page is idle.
  function drawOnScreen() {
    scheduled = false;
    var result = drawViews(views.filter(function (view) { return view.near && view.onScreen; }));
    X.legend.write(X.control.state.index, X.control.state.mode, X.control.state.show);
    if (X.stats.flush) {  // make the canvases rasterise now, so that the time below includes it
      result.drawn.forEach(function (grid) { grid.context.getImageData(0, 0, 1, 1); });
    }
    var since = X.stats.pendingSince;
    X.stats.pendingSince = null;
    if (since !== null && result.complete && result.drawn.length) {
      X.stats.samples.push(performance.now() - since);
      requestAnimationFrame(function () { X.stats.frames.push(performance.now() - since); });
    }
    if (X.tooltip) { X.tooltip.refresh(); }
    if (idle !== null) { clearTimeout(idle); }
    idle = setTimeout(drawNear, 150);  // once the reader pauses
  }

  function drawNear() {
    idle = null;
    drawViews(views.filter(function (view) { return view.near && !view.onScreen; }));
  }

  function viewOf(element) { return views.filter(function (view) { return view.element === element; })[0]; }

  // Near the screen (half a screen either way): pixels, data, drawn; off it: pixels given back.
  // On screen: redrawn with every step.
  function observe() {
    var near = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var view = viewOf(entry.target), was = view.near;
        view.near = entry.isIntersecting;
        if (view.near && !was) {
          view.grids.forEach(function (grid) { grid.live = true; });
          view.layout();
          load(view);
          requestDraw();
        }
        if (!view.near && was) { view.grids.forEach(function (grid) { grid.release(); }); }
      });
    }, {rootMargin: "50% 0px 50% 0px"});
    var screen = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) { viewOf(entry.target).onScreen = entry.isIntersecting; });
      requestDraw();
    });
    views.forEach(function (view) { near.observe(view.element); screen.observe(view.element); });
  }

  function layoutAll() {
    views.forEach(function (view) { view.layout(); });
    var bar = document.querySelector("[data-explorer-stepbar]");
    if (bar) { document.documentElement.style.setProperty("--x-stepbar", bar.offsetHeight + "px"); }
    requestDraw();
  }

  function start() {
    document.querySelectorAll("[data-explorer-fallback]").forEach(function (e) { e.hidden = true; });
    document.querySelectorAll("[data-explorer-ui]").forEach(function (e) { e.hidden = false; });
    document.querySelectorAll("[data-explorer-layer]").forEach(function (figure) {
      var view = layerView(figure);
      if (view) { views.push(view); }
    });
    document.querySelectorAll("[data-explorer-compact]").forEach(function (root) { views.push(compactView(root)); });
    X.legend.colorbar();
    layoutAll();
    var width = window.innerWidth, ratio = window.devicePixelRatio;
    window.addEventListener("resize", function () {
      if (window.innerWidth !== width || window.devicePixelRatio !== ratio) {
        width = window.innerWidth;
        ratio = window.devicePixelRatio;
        layoutAll();
      }
    });
    X.control.onChange(requestDraw);
    var initial = document.querySelector("[data-explorer-initial]");
    X.control.start(initial ? +initial.getAttribute("data-explorer-initial") : meta.steps[meta.steps.length - 1]);
    observe();
    revealRow();
    window.addEventListener("hashchange", revealRow);
    if (X.tooltip) { X.tooltip.bind(views); }
    document.documentElement.setAttribute("data-explorer", "ready");
  }

  // Resolve when the compact view's data are loaded (the moment's play waits for them: no step goes by undrawn).
  function compactReady() {
    var compact = views.filter(function (view) { return view.element.hasAttribute("data-explorer-compact"); })[0];
    if (!compact) { return Promise.resolve(); }
    var wanted = [];
    compact.layers.forEach(function (layerIndex) {
      compact.probes().forEach(function (probe) { wanted.push(X.data.need(layerIndex, probe, 0)); });
    });
    return Promise.all(wanted);
  }

  X.views = {list: views, requestDraw: requestDraw, layoutAll: layoutAll, drawKey: drawKey, drawMode: drawMode,
    compactReady: compactReady};
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
