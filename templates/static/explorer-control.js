// Explorer control: the one training-step state every view follows. The labelled range input (arrows,
// Home/End and Page keys are the browser's own; space plays), play/pause, speed, the fixed/contrast
// toggle, what the colours show (state.show: "value", "change" since the snapshot before, or "from-final"),
// jump buttons, the curves' cursor (click or drag a curve to jump) and the #step=N fragment.
// The moment: when the compact view first comes into sight, the explorer plays once over the steps the root's
// data-autoplay-from/to name, then stops; not with reduced motion, a #step=N link, or Explorer.noAutoplay set
// before the scripts run, and any key or pointer press stops it at once. The root's data-autoplay says where
// it stands (pending, playing, done, stopped, off) and its data-step which step is shown.
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  if (!X.meta) { return; }
  var steps = X.meta.steps, last = steps.length - 1;
  var listeners = [];
  var state = {index: last, mode: "fixed", show: "value", playing: false};
  var slider, playButton, speedSelect, contrastBox, hashTimer = null, root = null;
  var auto = {state: "off", until: null, speed: null, stoppedAt: -1e9};
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
      slider.setAttribute("aria-valuetext", X.say("stepOf", {step: step, last: steps[last]}));
    }
    document.querySelectorAll("[data-explorer-stepnum]").forEach(function (element) {
      element.textContent = String(step);
    });
    if (root) { root.setAttribute("data-step", String(step)); }
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
      readout.textContent = step === 0 ? X.say("readoutStart") : X.say("readout", {step: step,
        loss: metrics.train_loss[at].toFixed(3), accuracy: Math.round(100 * metrics.train_accuracy[at])});
    }
  }

  // Jump to the step under a pointer on a curve.
  function stepAtPointer(svg, event) {
    return Math.round(X.curveShare(svg, event) * +svg.getAttribute("data-last"));
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
    var speed = auto.speed || (speedSelect ? +speedSelect.value : 10);
    var step = playStart.step + (now - playStart.time) * speed / 1000;
    if (auto.until !== null) { step = Math.min(step, steps[auto.until]); }
    setIndex(indexOfStep(step), now);
    if (auto.until !== null && state.index >= auto.until) { endAutoplay("done"); return; }
    if (state.index >= last) { pause(); return; }
    requestAnimationFrame(frame);
  }

  function setAutoplay(value) {
    auto.state = value;
    if (root) { root.setAttribute("data-autoplay", value); }
  }

  // Stop the moment's play where it is (no fragment written: the reader did not choose this step).
  function endAutoplay(how) {
    if (auto.state === "playing") {
      state.playing = false;
      auto.until = null;
      auto.speed = null;
      if (playButton) { playButton.textContent = X.say("play"); playButton.setAttribute("aria-pressed", "false"); }
    }
    if (auto.state === "playing" || auto.state === "pending") { setAutoplay(how); }
  }

  // Play the moment once: from data-autoplay-from to data-autoplay-to in about three seconds.
  function beginAutoplay() {
    if (auto.state !== "pending") { return; }
    var from = indexOfStep(+root.getAttribute("data-autoplay-from"));
    var to = indexOfStep(+root.getAttribute("data-autoplay-to"));
    if (to <= from) { setAutoplay("done"); return; }
    setAutoplay("playing");
    auto.until = to;
    auto.speed = Math.max(1, (steps[to] - steps[from]) / 3);
    state.playing = true;
    playStart = null;
    if (playButton) { playButton.textContent = X.say("pause"); playButton.setAttribute("aria-pressed", "true"); }
    setIndex(from);
    requestAnimationFrame(frame);
  }

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  // Arm the moment's play for when the compact view first comes into sight, unless it should not move.
  function armAutoplay(fromHash) {
    if (!root || !root.hasAttribute("data-autoplay-from")) { return; }
    if (X.noAutoplay || fromHash !== null || reducedMotion() || typeof IntersectionObserver !== "function") {
      setAutoplay("off");
      return;
    }
    setAutoplay("pending");
    var target = root.querySelector(".x-blocks") || root;
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting && entry.intersectionRatio >= 0.5) {
          observer.disconnect();
          var ready = X.views && X.views.compactReady ? X.views.compactReady() : Promise.resolve();
          ready.then(beginAutoplay, function () { endAutoplay("stopped"); });
        }
      });
      if (auto.state !== "pending") { observer.disconnect(); }
    }, {threshold: [0, 0.5, 1]});
    observer.observe(target);
    // Any key or pointer press stops the play at once; one on the explorer's own controls before it starts
    // (the reader took the step in hand) means it never starts.
    function input(event) {
      if (auto.state === "playing") {  // the press that stops it (on Pause, or space) does not also play
        auto.stoppedAt = performance.now();
        endAutoplay("stopped");
        return;
      }
      var inside = event.target && event.target.closest &&
        event.target.closest("[data-explorer-stepbar], #explorer, [data-explorer-layer]");
      if (auto.state === "pending" && inside) { endAutoplay("stopped"); }
    }
    document.addEventListener("keydown", input, true);
    document.addEventListener("pointerdown", input, true);
    if (slider) { slider.addEventListener("input", function () { endAutoplay("stopped"); }, true); }
  }

  // What the colours show: the value, its change since the snapshot before, or its difference from the last.
  function setShow(show) {
    state.show = show;
    document.querySelectorAll("[data-explorer-stepbar] [data-mode]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-mode") === show));
    });
    if (root) { root.setAttribute("data-mode", show); }
    notify();
  }

  // Whether a Play press belongs to the input that just stopped the moment's play (it showed "Pause").
  function stoppedJustNow() {
    var recent = performance.now() - auto.stoppedAt < 1000;
    auto.stoppedAt = -1e9;
    return recent;
  }

  function play() {
    if (state.playing) { return; }
    if (state.index >= last) { setIndex(0); }
    state.playing = true;
    playStart = null;
    if (playButton) { playButton.textContent = X.say("pause"); playButton.setAttribute("aria-pressed", "true"); }
    requestAnimationFrame(frame);
  }

  function pause() {
    if (auto.state === "playing") { endAutoplay("stopped"); }
    if (!state.playing) { return; }
    state.playing = false;
    if (playButton) { playButton.textContent = X.say("play"); playButton.setAttribute("aria-pressed", "false"); }
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
          if (state.playing) { pause(); } else if (!stoppedJustNow()) { play(); }
        }
      });
    }
    if (playButton) {
      playButton.addEventListener("click", function () {
        if (state.playing) { pause(); } else if (!stoppedJustNow()) { play(); }
      });
    }
    if (speedSelect) {
      // With reduced motion asked for, nothing moves by itself (no moment played) and Play starts slowest.
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
    document.querySelectorAll("[data-explorer-stepbar] [data-mode]").forEach(function (button) {
      button.addEventListener("click", function () { setShow(button.getAttribute("data-mode")); });
    });
    var more = document.querySelector("[data-explorer-more]"), bar = document.querySelector("[data-explorer-stepbar]");
    if (more && bar) {  // a narrow screen: the bar's second line (speed, colours, contrast) folds away
      more.addEventListener("click", function () {
        var open = more.getAttribute("aria-expanded") !== "true";
        more.setAttribute("aria-expanded", String(open));
        if (open) { bar.setAttribute("data-open", ""); } else { bar.removeAttribute("data-open"); }
        document.documentElement.style.setProperty("--x-stepbar", bar.offsetHeight + "px");
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

  // Start at the step the fragment names, else at `initialStep`; wire the controls; arm the moment's play.
  function start(initialStep) {
    root = document.getElementById("explorer");
    bindControls();
    var fromHash = stepFromHash();
    var wanted = indexOfStep(fromHash !== null ? fromHash : initialStep);
    state.index = -1;
    setIndex(wanted);
    X.stats.pendingSince = null;
    if (hashTimer !== null && fromHash === null) { clearTimeout(hashTimer); hashTimer = null; }
    if (root) { root.setAttribute("data-mode", state.show); }
    armAutoplay(fromHash);
  }

  X.control = {
    start: start, state: state, setIndex: setIndex, indexOfStep: indexOfStep, play: play, pause: pause,
    setShow: setShow, autoplay: function () { return auto.state; },
    stopAutoplay: function () { endAutoplay("stopped"); },
    onChange: function (listener) { listeners.push(listener); }
  };
})();
