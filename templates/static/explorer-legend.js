// Explorer legends: each layer's words for its colour scale (fixed for the run, or stretched per step under
// the contrast mode), the value under each compact block, and the colour bar. A layer with no negative
// values (ReLU, sigmoid) runs from white at 0 to blue; a signed one from red through white to blue.
// The difference modes ("change" since the snapshot before, "from-final") are always red-white-blue, symmetric
// about no difference, and end at the largest |difference| of the layer's loaded data (X.draw.diffExtent).
(function () {
  "use strict";
  var X = window.Explorer = window.Explorer || {};
  if (!X.meta || !X.draw) { return; }
  var meta = X.meta;

  // A layer's scale: fixed for the run, or (contrast) its largest |value| at the snapshot shown.
  function extent(layerIndex, t, mode) {
    var layer = meta.layers[layerIndex];
    return mode === "contrast" ? layer.contrast_extents[t] * X.levelUnit(meta, layerIndex, t) : layer.scale;
  }

  function sequential(layer) { return layer.domain[0] >= 0; }  // no negative values: white (0) to blue
  function figure3(value) { return String(Number(value.toPrecision(3))); }
  var allTanh = meta.layers.every(function (layer) {
    return layer.kind === "fixed" && layer.domain[0] === -1 && layer.domain[1] === 1;
  });
  var allSequential = meta.layers.every(sequential);

  // The end of a layer's difference scale as a value (in units of X.draw.diffUnit).
  function diffTop(layerIndex, show, t, mode) {
    return (X.draw.diffExtent(layerIndex, show, t, mode === "contrast") * X.draw.diffUnit(layerIndex)).toPrecision(2);
  }

  function lastStep() { return meta.steps[meta.steps.length - 1]; }

  // A layer's words for a difference mode: since the snapshot before ("change") or from the last ("from-final"),
  // its scale's end the layer's largest at this step (contrast) or over the run so far.
  function diffLegend(layerIndex, t, mode, show) {
    var values = {top: diffTop(layerIndex, show, t, mode), step: meta.steps[t], last: lastStep()};
    var contrast = mode === "contrast";
    if (show === "change") {
      if (t === 0) { return X.say("layerChangeNone"); }
      values.before = meta.steps[t - 1];
      return X.say(contrast ? "layerChangeAt" : "layerChangeRun", values);
    }
    return X.say(contrast ? "layerFinalAt" : "layerFinalRun", values);
  }

  function legendText(layerIndex, t, mode, show) {
    if (show && show !== "value") { return diffLegend(layerIndex, t, mode, show); }
    var layer = meta.layers[layerIndex], plain = sequential(layer);
    if (mode !== "contrast") {
      var basis = layer.kind !== "fixed" && layer.basis ? layer.basis : "";
      var values = {top: figure3(plain ? layer.domain[1] : layer.scale), basis: basis};
      return X.say(plain ? (basis ? "layerFixedSequentialBasis" : "layerFixedSequential")
        : basis ? "layerFixedSignedBasis" : "layerFixedSigned", values);
    }
    return X.say(plain ? "layerContrastSequential" : "layerContrastSigned",
      {top: extent(layerIndex, t, mode).toPrecision(2), step: meta.steps[t]});
  }

  function setText(element, text) {
    if (element.textContent !== text) { element.textContent = text; }
  }

  // The words beside the colour bar: what the colours show, for every layer.
  function scaleName(t, mode, show) {
    var contrast = mode === "contrast";
    if (show === "change") {
      if (t === 0) { return X.say(contrast ? "scaleChangeNoneAt" : "scaleChangeNoneRun"); }
      return X.say(contrast ? "scaleChangeAt" : "scaleChangeRun", {before: meta.steps[t - 1]});
    }
    if (show === "from-final") { return X.say(contrast ? "scaleFinalAt" : "scaleFinalRun", {last: lastStep()}); }
    return contrast ? X.say("scaleContrast") : allTanh ? X.say("scaleFixedTanh")
      : X.say(allSequential ? "scaleFixedSequential" : "scaleFixedMixed");
  }

  // Write every legend on the page for snapshot t (only those whose words change are touched).
  function writeLegends(t, mode, show) {
    var diff = show && show !== "value";
    document.querySelectorAll("[data-explorer-legend]").forEach(function (element) {
      setText(element, legendText(meta.layerIndex[element.getAttribute("data-explorer-legend")], t, mode, show));
    });
    document.querySelectorAll("[data-explorer-scale]").forEach(function (element) {
      var index = meta.layerIndex[element.getAttribute("data-explorer-scale")];
      if (diff) { setText(element, "\u00b1" + diffTop(index, show, t, mode)); return; }
      var top = extent(index, t, mode).toPrecision(2);
      setText(element, sequential(meta.layers[index]) ? X.say("blockSequential", {top: top}) : "\u00b1" + top);
    });
    document.querySelectorAll("[data-explorer-scale-name]").forEach(function (element) {
      setText(element, scaleName(t, mode, show));
    });
    if (diff !== colorbarSigned) { drawColorbar(diff); }
  }

  // The colour bar: the whole red-white-blue table, or its white-to-blue half when no layer is signed
  // (and the values, not differences, are shown).
  var colorbarSigned = null;
  function drawColorbar(diff) {
    colorbarSigned = !!diff;
    document.querySelectorAll("[data-explorer-colorbar]").forEach(function (canvas) {
      var first = allSequential && !diff ? meta.center_index : 0, size = meta.table_size - first;
      if (!canvas.hasAttribute("data-label")) { canvas.setAttribute("data-label", canvas.getAttribute("aria-label")); }
      canvas.setAttribute("aria-label", diff ? X.say("colorbarDifference") : canvas.getAttribute("data-label"));
      var context = canvas.getContext("2d");
      canvas.width = size;
      canvas.height = 1;
      var image = context.createImageData(size, 1), pixels = new Uint32Array(image.data.buffer);
      for (var i = 0; i < size; i++) { pixels[i] = X.draw.palette[first + i]; }
      context.putImageData(image, 0, 0);
    });
  }

  X.legend = {write: writeLegends, colorbar: drawColorbar, text: legendText};
})();
