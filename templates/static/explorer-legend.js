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
    return mode === "contrast" ? layer.contrast_extents[t] * layer.scale / meta.half_range : layer.scale;
  }

  function sequential(layer) { return layer.domain[0] >= 0; }  // no negative values: white (0) to blue
  function figure3(value) { return String(Number(value.toPrecision(3))); }
  var allTanh = meta.layers.every(function (layer) {
    return layer.kind === "fixed" && layer.domain[0] === -1 && layer.domain[1] === 1;
  });
  var allSequential = meta.layers.every(sequential);

  // The end of a layer's difference scale as a value (from levels: one level is scale / half_range).
  function diffTop(layerIndex, show, t, mode) {
    var levels = X.draw.diffExtent(layerIndex, show, t, mode === "contrast");
    return (levels * meta.layers[layerIndex].scale / meta.half_range).toPrecision(2);
  }

  function lastStep() { return meta.steps[meta.steps.length - 1]; }

  function diffLegend(layerIndex, t, mode, show) {
    var top = diffTop(layerIndex, show, t, mode), at = meta.steps[t];
    var where = mode === "contrast" ? "this layer's largest at step " + at : "this layer's largest over the run " +
      "in the probes drawn so far";
    if (show === "change") {
      if (t === 0) { return "Change since the step before: step 0 has none, so every cell is white."; }
      return "Change since step " + meta.steps[t - 1] + ": blue a rise, red a fall, white none; full colour at " +
        "\u00b1" + top + " (" + where + ").";
    }
    return "Difference from the last step (" + lastStep() + "): blue above its final value, red below, white " +
      "equal; full colour at \u00b1" + top + " (" + where + ").";
  }

  function legendText(layerIndex, t, mode, show) {
    if (show && show !== "value") { return diffLegend(layerIndex, t, mode, show); }
    var layer = meta.layers[layerIndex], scale = layer.scale;
    var basis = layer.kind !== "fixed" && layer.basis ? " (" + layer.basis + "; beyond it, full colour)" : "";
    if (mode !== "contrast") {
      return sequential(layer) ? "Fixed scale: 0 white to " + figure3(layer.domain[1]) + " blue" + basis +
        ", at every step." : "Fixed scale: \u2212" + figure3(scale) + " red, 0 white, +" + figure3(scale) +
        " blue" + basis + ", at every step.";
    }
    var top = extent(layerIndex, t, mode).toPrecision(2);
    return sequential(layer) ? "Contrast scale: full blue at " + top + ", this layer's largest value at step " +
      meta.steps[t] + "; 0 is still white." : "Contrast scale: full colour at \u00b1" + top +
      ", this layer's largest |value| at step " + meta.steps[t] + "; 0 is still white.";
  }

  function setText(element, text) {
    if (element.textContent !== text) { element.textContent = text; }
  }

  function scaleName(t, mode, show) {
    var contrast = mode === "contrast";
    if (show === "change") {
      return "Change since the step before" + (t > 0 ? " (step " + meta.steps[t - 1] + ")" : ": none at step 0") +
        ": blue a rise, red a fall, white none; full colour at each layer's largest change " +
        (contrast ? "at this step" : "over the run in the probes drawn so far") + " (under each block).";
    }
    if (show === "from-final") {
      return "Difference from the last step (" + lastStep() + "): blue above the final value, red below, white " +
        "equal; full colour at each layer's largest difference " +
        (contrast ? "at this step" : "over the run in the probes drawn so far") + " (under each block).";
    }
    return contrast
      ? "Contrast per layer: each layer stretched to its largest |value| at this step (under each block); 0 white."
      : allTanh ? "Fixed scale: \u22121 red, 0 white, +1 blue, the same for every layer and step."
        : "Fixed scale: each layer's own (under each block), the same at every step; 0 white" +
          (allSequential ? ", blue positive." : ", red negative, blue positive; a layer without negative " +
            "values runs from white to blue.");
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
      setText(element, sequential(meta.layers[index]) ? "0 to " + top : "\u00b1" + top);
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
      canvas.setAttribute("aria-label", diff ? "Colour scale: red for a fall, white for no difference, blue for a rise"
        : canvas.getAttribute("data-label"));
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
