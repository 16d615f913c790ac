// A channel's story: a click (or Enter/Space) on a layer view's row label opens the page's #explorer-story panel
// (templates/partials/explorer_story.html.j2) for that channel: its trajectory over training (r with its own final
// map, and its spread, on the explorer curves' step axis, a line at the step shown that follows the step bar), its
// fitted filter with the fit r, and the image patches that drive it most. The numbers come from assets/story.js
// (report/figures/channel_story.py), loaded as a classic script on the first click (file:// allows those), so
// nothing of it weighs on the first view. The panel is a non-modal dialog: the step bar stays usable; Escape or
// Close shuts it and gives the focus back to the row label. The words are the page's (X.say).
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  if (!X.meta) { return; }
  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 480, LEFT = 52, RIGHT = 10;  // as report/page/explorer_curves.py's panels, when the page has none
  var R_PANEL = [20, 82], SPREAD_PANEL = [112, 160], HEIGHT = 186;
  var panel = null, opener = null, current = null, loading = null;

  function element(selector) { return panel.querySelector(selector); }

  function node(name, attributes, text) {
    var made = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { made.setAttribute(key, String(attributes[key])); });
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  // Load story.js once; resolve with its data.
  function load() {
    if (loading) { return loading; }
    if (X.storyData) { loading = Promise.resolve(X.storyData); return loading; }  // inline: the one-file report
    var src = X.meta.base + panel.getAttribute("data-story-file");
    loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () {
        if (X.storyData) { resolve(X.storyData); } else { reject(new Error(src)); }
      };
      script.onerror = function () { reject(new Error(X.say("couldNotLoad", {file: src}))); };
      document.head.appendChild(script);
    });
    loading.catch(function () { loading = null; });  // a later click tries again
    return loading;
  }

  // The step axis: the curves' own mapping (their x0, x1 and last step), so that the chart lines up with them.
  function axis() {
    var curve = document.querySelector("[data-explorer-curve]");
    var last = X.meta.steps[X.meta.steps.length - 1];
    if (!curve) { return {x0: LEFT, x1: WIDTH - RIGHT, last: last}; }
    return {x0: +curve.getAttribute("data-x0"), x1: +curve.getAttribute("data-x1"),
            last: +curve.getAttribute("data-last")};
  }

  function xOf(step, at) { return at.x0 + (at.x1 - at.x0) * step / Math.max(1, at.last); }

  function format(value) {
    if (value === null) { return "–"; }
    return value !== 0 && Math.abs(value) < 0.001 ? value.toExponential(1) : String(+value.toPrecision(3));
  }

  // 1000 -> "1,000", as the page writes counts.
  function grouped(count) { return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }

  // One polyline per run of finite values (a constant map's undefined r leaves a gap, not a made-up value).
  function lines(svg, steps, values, y, className, at) {
    var run = [];
    function flush() {
      if (run.length > 1) { svg.appendChild(node("polyline", {"class": className, points: run.join(" ")})); }
      if (run.length === 1) {
        var xy = run[0].split(",");
        svg.appendChild(node("circle", {"class": className + "-dot", cx: xy[0], cy: xy[1], r: 2}));
      }
      run = [];
    }
    values.forEach(function (value, index) {
      if (value === null) { flush(); return; }
      run.push(xOf(steps[index], at).toFixed(1) + "," + y(value).toFixed(1));
    });
    flush();
  }

  function ticks(last) {
    var spacings = [10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 1e9], spacing = 1e9;
    for (var i = 0; i < spacings.length; i++) { if (last / spacings[i] <= 6) { spacing = spacings[i]; break; } }
    var out = [];
    for (var step = 0; step <= last; step += spacing) { out.push(step); }
    return out;
  }

  function finite(values) { return values.filter(function (value) { return value !== null; }); }

  // Draw the r and spread panels of one channel; the step cursor is placed by moveMarker.
  function drawChart(data, layer, channel) {
    var svg = element("[data-story-chart]"), at = axis(), steps = data.steps;
    var facts = data.layers[layer], top = facts.top[channel];
    // story.js holds thousandths (of 1 for r, of the channel's largest spread for its spread)
    var r = facts.r[channel].map(function (value) { return value === null ? null : value / 1000; });
    var spread = facts.spread[channel].map(function (value) { return value === null ? null : top * value / 1000; });
    var title = svg.querySelector("title");
    Array.from(svg.childNodes).forEach(function (child) { if (child !== title) { svg.removeChild(child); } });
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + HEIGHT);
    var low = Math.min.apply(null, finite(r).concat([0])) < 0 ? -1 : 0;
    var high = top > 0 ? top : 1;
    function yR(value) { return R_PANEL[1] - (R_PANEL[1] - R_PANEL[0]) * (value - low) / (1 - low); }
    function yS(value) { return SPREAD_PANEL[1] - (SPREAD_PANEL[1] - SPREAD_PANEL[0]) * value / high; }
    var right = at.x1;
    [[yR, low < 0 ? [-1, 0, 1] : [0, 0.5, 1]], [yS, top > 0 ? [0, top] : [0]]].forEach(function (pair) {
      pair[1].forEach(function (value) {
        var y = pair[0](value).toFixed(1);
        svg.appendChild(node("line", {"class": "x-grid", x1: at.x0, x2: right, y1: y, y2: y}));
        svg.appendChild(node("text", {"class": "x-tick", x: at.x0 - 5, y: y, "text-anchor": "end",
                                      "dominant-baseline": "middle"}, format(value)));
      });
    });
    svg.appendChild(node("text", {"class": "x-panel-title", x: at.x0, y: R_PANEL[0] - 7}, X.say("storyRAxis")));
    svg.appendChild(node("text", {"class": "x-panel-title", x: at.x0, y: SPREAD_PANEL[0] - 7},
                         X.say("storySpreadAxis")));
    ticks(at.last).forEach(function (step) {
      svg.appendChild(node("text", {"class": "x-tick", x: xOf(step, at).toFixed(1), y: SPREAD_PANEL[1] + 16,
                                    "text-anchor": "middle"}, String(step)));
    });
    lines(svg, steps, r, yR, "xs-r", at);
    lines(svg, steps, spread, yS, "xs-spread", at);
    svg.appendChild(node("line", {"class": "x-cursor", "data-story-cursor": "", y1: R_PANEL[0] - 4,
                                  y2: SPREAD_PANEL[1]}));
    var values = finite(r), spreads = finite(spread);
    current.titleValues = {channel: channel + 1,
      first: format(values.length ? values[0] : null), last: format(values.length ? values[values.length - 1] : null),
      low: format(spreads.length ? Math.min.apply(null, spreads) : null),
      high: format(spreads.length ? Math.max.apply(null, spreads) : null)};
  }

  // Move the chart's line to the step the explorer shows.
  function moveMarker() {
    if (!current || !current.titleValues || !X.control) { return; }
    var step = X.meta.steps[X.control.state.index], at = axis();
    var cursor = panel.querySelector("[data-story-cursor]");
    if (cursor) {
      var x = xOf(step, at).toFixed(2);
      cursor.setAttribute("x1", x);
      cursor.setAttribute("x2", x);
    }
    var values = Object.assign({step: step}, current.titleValues);
    element("[data-story-chart] title").textContent = X.say("storyChartTitle", values);
  }

  function showFilter(data, layer, channel) {
    var fit = data.layers[layer].channels[channel].filter, box = element("[data-story-filter-box]");
    var words = [], image;
    if (fit) {
      image = imageIn(box, "xs-filter", "data-story-filter");
      image.src = X.meta.base + fit.src;
      image.alt = X.say("storyFilterAlt", {channel: channel + 1, size: fit.size});
      image.hidden = false;
      words.push(X.say(fit.in_sample ? "storyFilterInSample" : "storyFilter", {size: fit.size, r: fit.r.toFixed(2)}));
      if (!(fit.r >= data.filterMin)) { words.push(X.say("storyFilterPoor", {min: data.filterMin})); }
    } else {
      image = box.querySelector("[data-story-filter]");
      if (image) { box.removeChild(image); }
      words.push(X.say("storyFilterNone"));
    }
    element("[data-story-filter-text]").textContent = words.join(" ");
  }

  // Show the channel's row of the layer's patch strip: the image scaled to the box's width, shifted up.
  function showPatches(data, layer, channel) {
    var patches = data.layers[layer].patches, box = element("[data-story-patches]");
    var text = element("[data-story-patches-text]");
    if (!patches) {
      box.hidden = true;
      text.textContent = X.say("storyPatchesNone");
      return;
    }
    var pitch = patches.cell + patches.gutter, width = patches.count * pitch - patches.gutter;
    box.style.aspectRatio = width + " / " + patches.cell;
    var image = imageIn(box, "xs-patches-image", "data-story-patches-image");
    image.style.marginTop = (-100 * channel * pitch / width).toFixed(4) + "%";
    image.src = X.meta.base + patches.src;
    image.alt = X.say("storyPatchesAlt", {channel: channel + 1, count: patches.count});
    box.hidden = false;
    text.textContent = X.say(data.source === "analysis" ? "storyPatches" : "storyPatchesProbes", {
      count: patches.count, images: grouped(data.images), step: X.meta.steps[X.meta.steps.length - 1], size: patches.cell});
  }

  function show(data, row) {
    var layer = current.layer, channel = current.channel, facts = data.layers[layer];
    var status = element("[data-story-status]");
    if (!facts || !facts.r[channel]) { return; }
    status.hidden = true;
    var share = facts.channels[channel].share, title = row.getAttribute("title") || "";
    element("[data-story-kind]").textContent = share !== null && data.resamples > 0 ?
      X.say("storyKindShare", {title: title, share: Math.round(100 * share), resamples: data.resamples,
                               images: grouped(data.images)}) :
      X.say("storyKindProbes", {title: title, images: data.images});
    drawChart(data, layer, channel);
    element("[data-story-trajectory]").textContent = X.say(
      data.source === "analysis" ? "storyTrajectory" : "storyTrajectoryProbes",
      {points: data.steps.length, images: grouped(data.images)});
    showFilter(data, layer, channel);
    showPatches(data, layer, channel);
    element("[data-story-body]").hidden = false;
    moveMarker();
  }

  function open(row, button) {
    var layer = row.closest("[data-explorer-layer]").getAttribute("data-explorer-layer");
    var channel = +row.getAttribute("data-channel");
    opener = button;
    current = {layer: layer, channel: channel};
    panel.setAttribute("data-layer", layer);
    panel.setAttribute("data-channel", String(channel + 1));
    element("[data-story-title]").textContent = X.say("tipChannel", {layer: layer, channel: channel + 1});
    element("[data-story-kind]").textContent = row.getAttribute("title") || "";
    element("[data-story-body]").hidden = true;
    var status = element("[data-story-status]");
    status.textContent = X.say("storyLoading");
    status.hidden = false;
    if (!panel.open) { panel.show(); }
    element("[data-story-title]").focus();
    var asked = current;
    load().then(function (data) {
      if (current === asked) { show(data, row); }
    }, function (error) {
      if (current === asked) { status.textContent = X.say("storyLoadFailed", {reason: error.message}); }
    });
  }

  function close() {
    if (!panel.open) { return; }
    panel.close();
    current = null;
    if (opener && document.contains(opener) && opener.offsetParent !== null) { opener.focus(); }
  }

  // The panel's image in `box`, made when first given a source: an <img> without one is not valid HTML, and a
  // page checker (or a reader's tool) would find it broken before the panel is ever opened.
  function imageIn(box, className, attribute) {
    var image = box.querySelector("[" + attribute + "]");
    if (!image) {
      image = document.createElement("img");
      image.className = className;
      image.setAttribute(attribute, "");
      image.alt = "";
      box.appendChild(image);
    }
    return image;
  }

  // Turn each row label into a button (without the script the labels stay plain text: there is no panel).
  function bindRows() {
    document.querySelectorAll("[data-explorer-layer] .xl-rows li").forEach(function (row) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "xl-open";
      button.setAttribute("aria-haspopup", "dialog");
      button.setAttribute("aria-controls", panel.id);
      while (row.firstChild) { button.appendChild(row.firstChild); }
      row.appendChild(button);
      button.addEventListener("click", function () { open(row, button); });
    });
  }

  function start() {
    panel = document.getElementById("explorer-story");
    if (!panel || typeof panel.show !== "function") { return; }
    bindRows();
    element("[data-story-close]").addEventListener("click", close);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && panel.open) { event.preventDefault(); close(); }
    });
    if (X.control) { X.control.onChange(moveMarker); }
    X.story = {open: function (layer, channel) {
      var row = document.getElementById(layer + "-ch" + channel);
      if (row) { row.querySelector(".xl-open").click(); }
    }, close: close, panel: panel};
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
