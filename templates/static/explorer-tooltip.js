// Explorer tooltip: hovering (or tapping) a cell shows its layer, channel and kind, probe, step and value;
// it follows the step while it is shown. A layer's grid is also a keyboard stop: focused, it shows a cursor on
// one activation, which the arrow keys move (shift + arrow: one cell), with the same facts in the tooltip and
// in a polite live region; Escape hides it. Values are written with the precision the 8-bit data have: one
// level is a layer's scale / 127 at the fixed scale, halved per step of the snapshot's exponent (X.levelUnit),
// so the decimals are those of that step (about two significant digits of the scale, more in faint early steps).
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  if (!X.meta || !X.draw) { return; }
  var meta = X.meta, tip = null, current = null, marker = null, spoken = null;

  // A hidden box over the page, for the eyes only (the live region below reads its facts out).
  function overlay(className) {
    var box = document.createElement("div");
    box.className = className;
    box.setAttribute("aria-hidden", "true");
    box.hidden = true;
    document.body.appendChild(box);
    return box;
  }

  function element() {
    if (!tip) { tip = overlay("x-tip"); }
    return tip;
  }

  // The box around the activation the keyboard cursor is on, and the live region that reads it out.
  function cursorBox() {
    if (!marker) {
      marker = overlay("x-kcursor");
      spoken = document.createElement("div");
      spoken.className = "x-sr";
      spoken.setAttribute("aria-live", "polite");
      document.body.appendChild(spoken);
    }
    return marker;
  }

  function kindOf(layerName, channel) {
    var row = document.getElementById(layerName + "-ch" + (channel + 1));
    return row ? row.getAttribute("data-kind") : "";
  }

  // The decimals that one level of a layer's data at snapshot t resolves (at least 0): 2 for a scale of 1
  // (1/127 = 0.008), 3 at exponent 4 (1/2032).
  function decimals(layerIndex, t) {
    return Math.max(0, Math.round(-Math.log10(X.levelUnit(meta, layerIndex, t))));
  }

  function signed(value, places) {
    var text = Math.abs(value).toFixed(places);
    return (Number(text) === 0 ? "" : value < 0 ? "\u2212" : "+") + text;
  }

  // Return the tooltip's lines for a hit on a grid at snapshot t.
  function describe(grid, hit, t) {
    var probe = hit.cell.probe;
    var probeText = X.say("tipProbe", {number: probe + 1, name: meta.probe_names[probe]});
    if (grid.spec.layer < 0) { return [X.say("tipInput"), probeText]; }
    var layerIndex = grid.spec.layer, layer = meta.layers[layerIndex], kind = kindOf(layer.name, hit.cell.channel);
    var level = X.draw.levelAt(layerIndex, hit, t), places = decimals(layerIndex, t);
    var number = level === null ? NaN : X.draw.value(layerIndex, level, t);
    var value = level === null ? X.say("tipLoading") : isNaN(number) ? X.say("tipNotANumber") : signed(number, places);
    var channel = {layer: layer.name, channel: hit.cell.channel + 1, kind: kind};
    var lines = [X.say(kind ? "tipChannelKind" : "tipChannel", channel),
      X.say("tipProbeStep", {probe: probeText, step: meta.steps[t]}),
      X.say("tipValue", {value: value, row: hit.y + 1, column: hit.x + 1})];
    var show = X.control ? X.control.state.show : "value";
    if (level !== null && show && show !== "value") {
      var r = X.draw.reference(show, t), other = X.draw.levelAt(layerIndex, hit, r);
      var then = other === null ? NaN : X.draw.value(layerIndex, other, r);
      var difference = isNaN(number) || isNaN(then) ? X.say("tipNotANumber")
        : signed(number - then, Math.min(places, decimals(layerIndex, r)));  // as precise as the coarser of the two
      lines.push(X.say(show === "change" ? "tipChange" : "tipFromFinal", {step: meta.steps[r], value: difference}));
    }
    return lines;
  }

  function show(grid, event) {
    var hit = grid.hit(event.clientX, event.clientY);
    if (!hit) { hide(); return; }
    current = {grid: grid, hit: hit, x: event.clientX, y: event.clientY, keyboard: false};
    refresh();
  }

  function hide() {
    current = null;
    if (tip) { tip.hidden = true; }
    if (marker) { marker.hidden = true; }
  }

  // Rewrite and place the tooltip for the current step (after a redraw).
  function refresh() {
    if (!current) { return; }
    var box = element(), lines = describe(current.grid, current.hit, X.control.state.index);
    box.textContent = "";
    lines.forEach(function (line) {
      var div = document.createElement("div");
      div.textContent = line;
      box.appendChild(div);
    });
    box.hidden = false;
    var x = current.x, y = current.y;
    if (current.keyboard) {
      var rect = current.grid.rectOf(current.hit.cell, current.hit.x, current.hit.y), mark = cursorBox();
      mark.style.left = rect.left - 2 + "px";
      mark.style.top = rect.top - 2 + "px";
      mark.style.width = rect.width + 4 + "px";
      mark.style.height = rect.height + 4 + "px";
      mark.hidden = false;
      x = rect.left + rect.width;
      y = rect.top + rect.height;
      var text = lines.join(X.say("tipSeparator"));
      if (spoken.textContent !== text) { spoken.textContent = text; }
    }
    var left = x + 14, top = y + 14;
    if (left + box.offsetWidth > window.innerWidth - 4) { left = x - box.offsetWidth - 14; }
    if (top + box.offsetHeight > window.innerHeight - 4) { top = y - box.offsetHeight - 14; }
    box.style.left = Math.max(4, left) + "px";
    box.style.top = Math.max(4, top) + "px";
  }

  // Move the keyboard cursor by (dx, dy) activations, into the next cell at a map's edge.
  function moveCursor(grid, dx, dy, wholeCell) {
    var hit = current.hit, map = grid.map, cells = grid.spec.cells;
    var col = hit.cell.col, row = hit.cell.row, x = hit.x, y = hit.y;
    if (wholeCell) { col += dx; row += dy; } else {
      x += dx;
      y += dy;
      if (x < 0) { col -= 1; x = map[1] - 1; } else if (x >= map[1]) { col += 1; x = 0; }
      if (y < 0) { row -= 1; y = map[0] - 1; } else if (y >= map[0]) { row += 1; y = 0; }
    }
    var cell = cells.filter(function (c) { return c.row === row && c.col === col; })[0];
    if (!cell) { return; }
    current.hit = {cell: cell, x: x, y: y};
    refresh();
  }

  // Listen on every grid of the views: hover with a mouse, tap with a finger or pen, focus and arrow keys.
  function bind(views) {
    views.forEach(function (view) {
      view.grids.forEach(function (grid) {
        grid.canvas.addEventListener("pointermove", function (event) {
          if (event.pointerType === "mouse") { show(grid, event); }
        });
        grid.canvas.addEventListener("pointerdown", function (event) { show(grid, event); });
        grid.canvas.addEventListener("pointerleave", function (event) {
          if (event.pointerType === "mouse" && current && !current.keyboard) { hide(); }
        });
        if (grid.canvas.getAttribute("tabindex") === null || grid.spec.layer < 0) { return; }
        grid.canvas.addEventListener("focus", function () {
          var first = grid.spec.cells[0];
          if (!first || (current && current.grid === grid)) { return; }
          current = {grid: grid, hit: {cell: first, x: 0, y: 0}, keyboard: true};
          refresh();
        });
        grid.canvas.addEventListener("blur", function () { if (current && current.grid === grid) { hide(); } });
        grid.canvas.addEventListener("keydown", function (event) {
          var moves = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
          if (event.key === "Escape") { hide(); return; }
          if (!moves[event.key]) { return; }
          event.preventDefault();
          if (!current || current.grid !== grid) {
            current = {grid: grid, hit: {cell: grid.spec.cells[0], x: 0, y: 0}, keyboard: true};
          }
          current.keyboard = true;
          moveCursor(grid, moves[event.key][0], moves[event.key][1], event.shiftKey);
        });
      });
    });
    document.addEventListener("pointerdown", function (event) {
      if (current && event.target !== current.grid.canvas) { hide(); }
    }, true);
    window.addEventListener("scroll", function () {
      if (current && current.grid) {
        if (current.keyboard) { refresh(); } else { hide(); }
      }
    }, {passive: true});
  }

  X.tooltip = {bind: bind, refresh: refresh, hide: hide, describe: describe, decimals: decimals};
})();
