// Explorer control: the one training-step state every view follows. The labelled range input (arrows,
// Home/End and Page keys are the browser's own; space plays), play/pause, speed, the fixed/contrast
// toggle, jump buttons, the curves' cursor (click or drag a curve to jump) and the #step=N fragment.
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  if (!X.meta) { return; }
  var steps = X.meta.steps, last = steps.length - 1;
  var listeners = [];
  var state = {index: last, mode: "fixed", playing: false};
  var slider, playButton, speedSelect, contrastBox, hashTimer = null;
  X.stats = {samples: [], frames: [], pendingSince: null, flush: false};

  // Return the snapshot index of the last snapshot at or before a step number.
  function indexOfStep(step) {
    var low = 0, high = last;
    if (step <= steps[0]) { return 0; }
    while (low < high) {
      var middle = (low + high + 1) >> 1;
      if (steps[middle] <= step) { low = middle; } else { high = middle - 1; }
    }
    return low;
  }

  function notify() { listeners.forEach(function (listener) { listener(state); }); }

  // Move every view to snapshot `index`; `started` is when the reader's input happened (for timing).
  function setIndex(index, started) {
    index = Math.max(0, Math.min(last, Math.round(index)));
    if (X.stats.pendingSince === null) { X.stats.pendingSince = started || performance.now(); }
    if (index === state.index) { notify(); return; }
    state.index = index;
    var step = steps[index];
    if (slider) {
      slider.value = String(index);
      slider.setAttribute("aria-valuetext", "step " + step + " of " + steps[last]);
    }
    document.querySelectorAll("[data-explorer-stepnum]").forEach(function (element) {
      element.textContent = String(step);
    });
    moveCursors(step);
    if (!state.playing) { scheduleHash(); }
    notify();
  }

  function scheduleHash() {
    // At most one history entry change per 300 ms: browsers throttle floods of replaceState.
    if (hashTimer !== null) { clearTimeout(hashTimer); }
    hashTimer = setTimeout(function () {
      hashTimer = null;
      var wanted = "#step=" + steps[state.index];
      if (location.hash !== wanted) { history.replaceState(null, "", wanted); }
    }, 300);
  }

  function stepFromHash() {
    var match = /(?:^#|&)step=(\d+)/.exec(location.hash);
    return match ? parseInt(match[1], 10) : null;
  }

  function moveCursors(step) {
    document.querySelectorAll("[data-explorer-curve]").forEach(function (svg) {
      var x0 = +svg.getAttribute("data-x0"), x1 = +svg.getAttribute("data-x1");
      var x = x0 + (x1 - x0) * step / Math.max(1, +svg.getAttribute("data-last"));
      svg.querySelectorAll("[data-explorer-cursor]").forEach(function (line) {
        line.setAttribute("x1", x.toFixed(2));
        line.setAttribute("x2", x.toFixed(2));
      });
    });
    var readout = document.querySelector("[data-explorer-readout]");
    var metrics = X.meta.curves;
    if (readout && metrics) {
      var at = step - 1;  // train_loss[i] is step i + 1
      readout.textContent = step === 0 ? "Step 0: before the first training step." :
        "Step " + step + ": batch loss " + metrics.train_loss[at].toFixed(3) + ", batch accuracy " +
        Math.round(100 * metrics.train_accuracy[at]) + "%.";
    }
  }

  // Jump to the step under a pointer on a curve.
  function stepAtPointer(svg, event) {
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    var local = point.matrixTransform(svg.getScreenCTM().inverse());
    var x0 = +svg.getAttribute("data-x0"), x1 = +svg.getAttribute("data-x1");
    var share = Math.max(0, Math.min(1, (local.x - x0) / (x1 - x0)));
    return Math.round(share * +svg.getAttribute("data-last"));
  }

  function bindCurves() {
    document.querySelectorAll("[data-explorer-curve]").forEach(function (svg) {
      var dragging = false;
      svg.addEventListener("pointerdown", function (event) {
        dragging = true;
        pause();
        if (svg.setPointerCapture) { svg.setPointerCapture(event.pointerId); }
        setIndex(indexOfStep(stepAtPointer(svg, event)), event.timeStamp);
      });
      svg.addEventListener("pointermove", function (event) {
        if (dragging) { setIndex(indexOfStep(stepAtPointer(svg, event)), event.timeStamp); }
      });
      ["pointerup", "pointercancel"].forEach(function (type) {
        svg.addEventListener(type, function () { dragging = false; });
      });
    });
  }

  var playStart = null;
  function frame(now) {
    if (!state.playing) { return; }
    if (playStart === null) { playStart = {time: now, step: steps[state.index]}; }
    var speed = speedSelect ? +speedSelect.value : 10;
    var step = playStart.step + (now - playStart.time) * speed / 1000;
    setIndex(indexOfStep(step), now);
    if (state.index >= last) { pause(); return; }
    requestAnimationFrame(frame);
  }

  function play() {
    if (state.playing) { return; }
    if (state.index >= last) { setIndex(0); }
    state.playing = true;
    playStart = null;
    if (playButton) { playButton.textContent = "Pause"; playButton.setAttribute("aria-pressed", "true"); }
    requestAnimationFrame(frame);
  }

  function pause() {
    if (!state.playing) { return; }
    state.playing = false;
    if (playButton) { playButton.textContent = "Play"; playButton.setAttribute("aria-pressed", "false"); }
    scheduleHash();
  }

  function bindControls() {
    slider = document.getElementById("explorer-step");
    playButton = document.querySelector("[data-explorer-play]");
    speedSelect = document.querySelector("[data-explorer-speed]");
    contrastBox = document.querySelector("[data-explorer-contrast]");
    if (slider) {
      slider.addEventListener("input", function (event) {
        pause();
        setIndex(+slider.value, event.timeStamp);
      });
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
    if (speedSelect) {
      // Nothing ever moves by itself; with reduced motion asked for, Play also starts at the slowest speed.
      if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
        speedSelect.selectedIndex = 0;
      }
      speedSelect.addEventListener("change", function () { playStart = null; });
    }
    if (contrastBox) {
      contrastBox.addEventListener("change", function () {
        state.mode = contrastBox.checked ? "contrast" : "fixed";
        notify();
      });
    }
    document.querySelectorAll("[data-explorer-goto]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        pause();
        setIndex(indexOfStep(+button.getAttribute("data-explorer-goto")), event.timeStamp);
      });
    });
    window.addEventListener("hashchange", function () {
      var step = stepFromHash();
      if (step !== null && steps[state.index] !== step) { pause(); setIndex(indexOfStep(step)); }
    });
    bindCurves();
  }

  // Start at the step the fragment names, else at `initialStep`; wire the controls.
  function start(initialStep) {
    bindControls();
    var fromHash = stepFromHash();
    var wanted = indexOfStep(fromHash !== null ? fromHash : initialStep);
    state.index = -1;
    setIndex(wanted);
    X.stats.pendingSince = null;
    if (hashTimer !== null && fromHash === null) { clearTimeout(hashTimer); hashTimer = null; }
  }

  X.control = {
    start: start, state: state, setIndex: setIndex, indexOfStep: indexOfStep, play: play, pause: pause,
    onChange: function (listener) { listeners.push(listener); }
  };
})();
