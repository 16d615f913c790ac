// Explorer tooltip: hovering (or tapping) a cell shows its layer, channel and kind, probe, step and value;
// it follows the step while it is shown. Pointer-only: the same facts are in the text and tables.
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  if (!X.meta || !X.draw) { return; }
  var meta = X.meta, tip = null, current = null;

  function element() {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "x-tip";
      tip.setAttribute("aria-hidden", "true");
      tip.hidden = true;
      document.body.appendChild(tip);
    }
    return tip;
  }

  function kindOf(layerName, channel) {
    var row = document.getElementById(layerName + "-ch" + (channel + 1));
    return row ? row.getAttribute("data-kind") : "";
  }

  function signed(value) {
    return (value < 0 ? "\u2212" : "+") + Math.abs(value).toFixed(3);
  }

  // Return the tooltip's lines for a hit on a grid at snapshot t.
  function describe(grid, hit, t) {
    var probe = hit.cell.probe;
    var probeText = "probe " + (probe + 1) + " (" + meta.probe_names[probe] + ")";
    if (grid.spec.layer < 0) { return ["input image", probeText]; }
    var layer = meta.layers[grid.spec.layer], kind = kindOf(layer.name, hit.cell.channel);
    var level = X.draw.levelAt(grid.spec.layer, hit, t);
    var value = level === null ? "loading" : (isNaN(X.draw.value(grid.spec.layer, level)) ? "not a number"
      : signed(X.draw.value(grid.spec.layer, level)));
    return [layer.name + " \u00b7 channel " + (hit.cell.channel + 1) + (kind ? " (" + kind + ")" : ""),
      probeText + " \u00b7 step " + meta.steps[t], "value " + value + " at row " + (hit.y + 1) + ", column " + (hit.x + 1)];
  }

  function show(grid, event) {
    var hit = grid.hit(event.clientX, event.clientY);
    if (!hit) { hide(); return; }
    current = {grid: grid, hit: hit, x: event.clientX, y: event.clientY};
    refresh();
  }

  function hide() {
    current = null;
    if (tip) { tip.hidden = true; }
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
    var left = current.x + 14, top = current.y + 14;
    if (left + box.offsetWidth > window.innerWidth - 4) { left = current.x - box.offsetWidth - 14; }
    if (top + box.offsetHeight > window.innerHeight - 4) { top = current.y - box.offsetHeight - 14; }
    box.style.left = Math.max(4, left) + "px";
    box.style.top = Math.max(4, top) + "px";
  }

  // Listen on every grid of the views: hover with a mouse, tap with a finger or pen.
  function bind(views) {
    views.forEach(function (view) {
      view.grids.forEach(function (grid) {
        grid.canvas.addEventListener("pointermove", function (event) {
          if (event.pointerType === "mouse") { show(grid, event); }
        });
        grid.canvas.addEventListener("pointerdown", function (event) { show(grid, event); });
        grid.canvas.addEventListener("pointerleave", function (event) {
          if (event.pointerType === "mouse") { hide(); }
        });
      });
    });
    document.addEventListener("pointerdown", function (event) {
      if (current && event.target !== current.grid.canvas) { hide(); }
    }, true);
    window.addEventListener("scroll", function () { if (current && current.grid) { hide(); } }, {passive: true});
  }

  X.tooltip = {bind: bind, refresh: refresh, hide: hide, describe: describe};
})();
