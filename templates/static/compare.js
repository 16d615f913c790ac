// Comparison page (report/compare/): one control over every run's layers. Each run's explore.json gets its own
// data store and drawing (X.createData, X.createDraw from explorer-data.js and explorer-draw.js); the control's
// positions (#compare-positions) say which snapshot of each run every position shows. Moving the control sets
// each run's data-step, redraws its blocks, moves the curves' cursor and (by step) the #step=N fragment.
(function () {
  "use strict";
  var X = window.Explorer;
  var positionsElement = document.getElementById("compare-positions");
  if (!X || !X.supported || !X.createData || !X.createDraw || !positionsElement) { return; }
  var control = JSON.parse(positionsElement.textContent);
  var last = control.values.length - 1;
  var state = {position: last, mode: "fixed", probe: 0, playing: false};
  var runs = [], slider, playButton, status, hashTimer = null;
  var MAX_CELL = 56, GUTTER = 2, SPEED = 10;  // positions per second while playing

  function blockScale(run, layerIndex, t) {
    var meta = run.meta, layer = meta.layers[layerIndex];
    var top = state.mode === "contrast" ? layer.contrast_extents[t] * X.levelUnit(meta, layerIndex, t) : layer.scale;
    return layer.domain[0] >= 0 ? "0 to " + top.toPrecision(2) : "\u00b1" + top.toPrecision(2);
  }

  // One run's column: its probe image and one block per recorded layer (its first channel group, one probe).
  function makeRun(element) {
    var number = +element.getAttribute("data-run");
    var meta = X.parseMeta(document.getElementById("compare-run-" + number + "-meta"));
    var data = X.createData(meta), draw = X.createDraw(meta, data);
    var run = {element: element, index: runs.length, meta: meta, data: data, blocks: [],
      stepText: element.querySelector("[data-compare-run-step]"), held: element.querySelector("[data-compare-held]")};
    run.input = new draw.Grid(element.querySelector("[data-compare-input]"), {layer: -1, rows: 1, cols: 1,
      cells: [{channel: 0, group: 0, slot: 0, probe: 0, row: 0, col: 0}]});
    element.querySelectorAll("[data-compare-layer]").forEach(function (canvas) {
      var layerIndex = meta.layerIndex[canvas.getAttribute("data-compare-layer")];
      var channels = meta.layers[layerIndex].groups[0].channels, columns = channels.length <= 4 ? 2 : 4;
      var cells = channels.map(function (channel, slot) {
        return {channel: channel, group: 0, slot: slot, probe: 0, row: Math.floor(slot / columns), col: slot % columns};
      });
      run.blocks.push({layer: layerIndex, columns: columns, scale: canvas.parentNode.querySelector("[data-compare-scale]"),
        grid: new draw.Grid(canvas, {layer: layerIndex, rows: Math.ceil(channels.length / columns), cols: columns,
          cells: cells})});
    });
    run.grids = [run.input].concat(run.blocks.map(function (block) { return block.grid; }));
    run.grids.forEach(function (grid) { grid.live = true; });
    return run;
  }

  function probeOf(run) { return Math.min(state.probe, run.meta.probe_labels.length - 1); }

  // Every run's cells the same size: what the narrowest column allows, at most MAX_CELL CSS pixels.
  function layout() {
    var cell = MAX_CELL;
    runs.forEach(function (run) {
      run.blocks.forEach(function (block) {
        cell = Math.min(cell, (run.element.clientWidth - GUTTER) / block.columns - GUTTER);
      });
    });
    cell = Math.max(4, cell);
    runs.forEach(function (run) {
      run.input.layout(2 * cell + GUTTER, GUTTER);
      run.blocks.forEach(function (block) { block.grid.layout(cell, GUTTER); });
    });
    alignSlots();
    draw();
  }

  // Give each layer position's slot the largest size it has in any run, so that every run's slots wrap alike.
  function alignSlots() {
    var slots = {}, heads = document.querySelectorAll(".c-run-head");
    document.querySelectorAll("[data-run] [data-compare-slot]").forEach(function (slot) {
      slot.style.minWidth = "";
      slot.style.minHeight = "";
      (slots[slot.getAttribute("data-compare-slot")] = slots[slot.getAttribute("data-compare-slot")] || []).push(slot);
    });
    heads.forEach(function (head) { head.style.minHeight = ""; });
    Object.keys(slots).forEach(function (key) {
      var width = 0, height = 0;
      slots[key].forEach(function (slot) { width = Math.max(width, slot.offsetWidth); });
      slots[key].forEach(function (slot) { slot.style.minWidth = width + "px"; });
      slots[key].forEach(function (slot) { height = Math.max(height, slot.offsetHeight); });
      slots[key].forEach(function (slot) { slot.style.minHeight = height + "px"; });
    });
    var tallest = 0;
    heads.forEach(function (head) { tallest = Math.max(tallest, head.offsetHeight); });
    heads.forEach(function (head) { head.style.minHeight = tallest + "px"; });
  }

  function setStatus(text) {
    if (status) { status.textContent = text; status.hidden = !text; }
  }

  // Load the chunks the chosen probe needs in every run, then draw.
  function load() {
    var wanted = [];
    runs.forEach(function (run) {
      var probe = probeOf(run);
      run.grids.forEach(function (grid) {
        grid.spec.cells.forEach(function (cell) { cell.probe = probe; });
        grid.drawn = null;
      });
      run.blocks.forEach(function (block) { wanted.push(run.data.need(block.layer, probe, 0)); });
    });
    setStatus(status ? status.getAttribute("data-loading") : "");
    Promise.all(wanted).then(function () { setStatus(""); draw(); }, function (error) {
      setStatus((status ? status.getAttribute("data-failed") : "") + error.message);
    });
  }

  // Draw every run at the control's position; a run whose grids all had their data says so in data-drawn-step.
  function draw() {
    runs.forEach(function (run) {
      var t = control.indices[state.position][run.index], complete = true;
      run.grids.forEach(function (grid) { complete = grid.draw(t, state.mode) && complete; });
      run.blocks.forEach(function (block) {
        var text = blockScale(run, block.layer, t);
        if (block.scale && block.scale.textContent !== text) { block.scale.textContent = text; }
      });
      if (complete) { run.element.setAttribute("data-drawn-step", String(run.meta.steps[t])); }
    });
  }

  function setPosition(position) {
    position = Math.max(0, Math.min(last, Math.round(position)));
    state.position = position;
    var label = control.labels[position];
    if (slider) {
      slider.value = String(position);
      slider.setAttribute("aria-valuetext", (slider.getAttribute("data-valuetext") || "{value}").replace("{value}", label));
    }
    document.querySelectorAll("[data-compare-value]").forEach(function (element) { element.textContent = label; });
    runs.forEach(function (run) {
      var t = control.indices[position][run.index], steps = run.meta.steps, step = String(steps[t]);
      run.element.setAttribute("data-step", step);
      if (run.stepText) { run.stepText.textContent = step; }
      if (run.held) {
        run.held.hidden = !(control.align === "step" && control.values[position] > steps[steps.length - 1]);
      }
    });
    moveCursors(control.values[position]);
    if (!state.playing) { scheduleHash(); }
    draw();
  }

  function moveCursors(value) {
    document.querySelectorAll("[data-compare-curve]").forEach(function (svg) {
      var x0 = +svg.getAttribute("data-x0"), x1 = +svg.getAttribute("data-x1");
      var x = (x0 + (x1 - x0) * value / Math.max(1e-9, +svg.getAttribute("data-end"))).toFixed(2);
      svg.querySelectorAll("[data-compare-cursor]").forEach(function (line) {
        line.setAttribute("x1", x);
        line.setAttribute("x2", x);
      });
    });
  }

  // The position whose value is nearest `value` (positions are in increasing order).
  function nearest(value) {
    var best = 0;
    control.values.forEach(function (candidate, index) {
      if (Math.abs(candidate - value) < Math.abs(control.values[best] - value)) { best = index; }
    });
    return best;
  }

  // The last position at or before a step (by step only; else null).
  function positionOfStep(step) {
    if (control.align !== "step") { return null; }
    var found = 0;
    control.values.forEach(function (value, index) { if (value <= step) { found = index; } });
    return found;
  }

  function stepFromHash() {
    var match = /(?:^#|&)step=(\d+)/.exec(location.hash);
    return match ? parseInt(match[1], 10) : null;
  }

  function scheduleHash() {
    if (control.align !== "step") { return; }
    if (hashTimer !== null) { clearTimeout(hashTimer); }
    hashTimer = setTimeout(function () {
      hashTimer = null;
      var wanted = "#step=" + control.labels[state.position];
      if (location.hash !== wanted) { history.replaceState(null, "", wanted); }
    }, 300);
  }

  var playStart = null;
  function frame(now) {
    if (!state.playing) { return; }
    if (playStart === null) { playStart = {time: now, position: state.position}; }
    setPosition(playStart.position + (now - playStart.time) * SPEED / 1000);
    if (state.position >= last) { pause(); return; }
    requestAnimationFrame(frame);
  }

  function setPlayButton() {
    if (!playButton) { return; }
    playButton.textContent = playButton.getAttribute(state.playing ? "data-pause" : "data-play");
    playButton.setAttribute("aria-pressed", state.playing ? "true" : "false");
  }

  function play() {
    if (state.playing) { return; }
    if (state.position >= last) { setPosition(0); }
    state.playing = true;
    playStart = null;
    setPlayButton();
    requestAnimationFrame(frame);
  }

  function pause() {
    if (!state.playing) { return; }
    state.playing = false;
    setPlayButton();
    scheduleHash();
  }

  function bindCurves() {
    document.querySelectorAll("[data-compare-curve]").forEach(function (svg) {
      var dragging = false;
      function jump(event) {
        setPosition(nearest(X.curveShare(svg, event) * +svg.getAttribute("data-end")));
      }
      svg.addEventListener("pointerdown", function (event) {
        dragging = true;
        pause();
        if (svg.setPointerCapture) { svg.setPointerCapture(event.pointerId); }
        jump(event);
      });
      svg.addEventListener("pointermove", function (event) { if (dragging) { jump(event); } });
      ["pointerup", "pointercancel"].forEach(function (type) {
        svg.addEventListener(type, function () { dragging = false; });
      });
    });
  }

  function bindControls() {
    slider = document.getElementById("compare-step");
    playButton = document.querySelector("[data-compare-play]");
    status = document.querySelector("[data-compare-status]");
    if (slider) {
      slider.addEventListener("input", function () { pause(); setPosition(+slider.value); });
      slider.addEventListener("keydown", function (event) {
        if (event.key === " " || event.key === "Spacebar") {
          event.preventDefault();
          if (state.playing) { pause(); } else { play(); }
        }
      });
    }
    if (playButton) {
      playButton.addEventListener("click", function () { if (state.playing) { pause(); } else { play(); } });
    }
    var contrast = document.querySelector("[data-compare-contrast]");
    if (contrast) {
      contrast.addEventListener("change", function () { state.mode = contrast.checked ? "contrast" : "fixed"; draw(); });
    }
    var probe = document.querySelector("[data-compare-probe]");
    if (probe) {
      probe.addEventListener("change", function () { state.probe = +probe.value; load(); });
    }
    window.addEventListener("hashchange", function () {
      var step = stepFromHash();
      if (step !== null) { pause(); setPosition(positionOfStep(step)); }
    });
    bindCurves();
  }

  function start() {
    document.querySelectorAll("[data-compare-ui]").forEach(function (element) { element.hidden = false; });
    document.querySelectorAll("[data-run]").forEach(function (element) { runs.push(makeRun(element)); });
    bindControls();
    var width = window.innerWidth;
    window.addEventListener("resize", function () {
      if (window.innerWidth !== width) { width = window.innerWidth; layout(); }
    });
    var fromHash = stepFromHash(), wanted = fromHash !== null ? positionOfStep(fromHash) : null;
    layout();
    setPosition(wanted !== null ? wanted : last);
    if (hashTimer !== null && fromHash === null) { clearTimeout(hashTimer); hashTimer = null; }
    load();
    document.documentElement.setAttribute("data-compare", "ready");
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
