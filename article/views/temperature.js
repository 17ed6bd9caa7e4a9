/* Temperature (exporters/figures/temperature.py): (a) the loss landscape along the gap vector at the
 * logit scale a slider picks, one curve per model, each model's own scale marked on the slider's scale
 * row (a button per own scale sets the slider to it); (b) when the build has a temperature series, the
 * modality gap and R@k of each run against the temperature 1/scale on a log axis.
 * All numbers are precomputed; this view only picks which curve to draw.
 */
(function (F) {
  "use strict";
  var esc = F.esc, h = F.h, fmt = F.fmt, LINE_COLORS = F.LINE_COLORS, NOSELECT_CONFIG = F.NOSELECT_CONFIG,
      SMALL_CONFIG = F.SMALL_CONFIG, MODEBAR = F.MODEBAR;
  var uid = 0;

  function scaleText(v) { return Number(v).toPrecision(4).replace(/\.?0+$/, ""); }

  function landscapeTraces(meta, i) {
    var traces = [];
    meta.models.forEach(function (m, k) {
      var col = LINE_COLORS[k % LINE_COLORS.length], own = m.own_index === i;
      var name = esc(m.label) + (own ? " (own scale)" : "");
      traces.push({type: "scatter", mode: "lines", x: m.distances, y: m.losses[i], name: name, legendgroup: "m" + k,
                   line: {color: col, width: own ? 3.5 : 2},
                   hovertemplate: name + "<br>distance %{x:.3f}<br>loss %{y:.3f}<extra></extra>"});
      traces.push({type: "scatter", mode: "markers", x: [m.original_distance, m.closed_distance],
                   y: [m.original_loss[i], m.closed_loss[i]], legendgroup: "m" + k, showlegend: false,
                   marker: {color: col, size: 11, symbol: ["circle", "diamond"], line: {color: "#fff", width: 1}},
                   text: ["as trained", "gap closed"],
                   hovertemplate: name + ", %{text}<br>distance %{x:.3f}<br>loss %{y:.3f}<extra></extra>"});
    });
    return traces;
  }

  function landscapeLayout(meta, i) {
    var owners = meta.models.filter(function (m) { return m.own_index === i; }).map(function (m) { return m.label; });
    var title = "logit scale " + scaleText(meta.scales[i]) + " (temperature " + fmt(1 / meta.scales[i], 4) + ")" +
                (owners.length ? ": the own scale of " + owners.join(", ") : "");
    return {height: 400, margin: {l: 60, r: 10, t: 36, b: 50}, modebar: MODEBAR,
            title: {text: esc(title), font: {size: 13}, x: 0.01, xanchor: "left"},
            xaxis: {title: {text: "signed modality distance"}, zeroline: true},
            yaxis: {title: {text: "loss (symmetric InfoNCE)"}},
            legend: {orientation: "h", y: -0.2}, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
  }

  /* The scale row under the slider: every scale, evenly spaced like the slider's steps; the own scale
   * of a model carries a marker (.fx-temp-own) naming the models whose scale it is. */
  function scaleRow(meta) {
    var row = h("div", {className: "fx-temp-scales", "aria-hidden": "true",
                        style: "display:flex;justify-content:space-between;font-size:.75rem;margin:0 .2em"});
    meta.scales.forEach(function (s, i) {
      var owners = meta.models.filter(function (m) { return m.own_index === i; });
      var cell = h("span", {className: "fx-temp-scale", "data-index": String(i),
                            style: "display:flex;flex-direction:column;align-items:center;min-width:0"},
                   [h("span", {text: scaleText(s)})]);
      if (owners.length) {
        cell.appendChild(h("span", {className: "fx-temp-own", "data-models": owners.map(function (m) { return m.id; }).join(" "),
                                    title: "own scale of " + owners.map(function (m) { return m.label; }).join(", "),
                                    text: "▲ own", style: "color:#8f3600;font-weight:600"}));
      }
      row.appendChild(cell);
    });
    return row;
  }

  function seriesPlots(host, s, Plotly) {
    var a = s.modalities[0], b = s.modalities[1];
    var fixed = s.runs.filter(function (r) { return r.mode !== "learned"; });
    var learned = s.runs.filter(function (r) { return r.mode === "learned"; });
    var t = function (rs) { return rs.map(function (r) { return r.temperature; }); };
    var hover = function (rs) {
      return rs.map(function (r) {
        return esc(r.label) + "<br>" + r.mode + " inverse temperature " + scaleText(r.scale) + " (τ " + fmt(r.temperature, 4) + ")" +
               "<br>R@1 " + esc(a) + "→" + esc(b) + " " + fmt(r.recall["x2y@1"], 3) + ", " + esc(b) + "→" + esc(a) + " " + fmt(r.recall["y2x@1"], 3);
      });
    };
    var xaxis = {type: "log", title: {text: "temperature τ = 1/scale (log)"}};
    var base = {height: 320, margin: {l: 60, r: 10, t: 30, b: 50}, xaxis: xaxis, legend: {orientation: "h", y: -0.3},
                paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};
    var gapTraces = [
      {type: "scatter", mode: "lines+markers", x: t(fixed), y: fixed.map(function (r) { return r.gap; }), name: "fixed, " + s.n + " pairs",
       line: {color: LINE_COLORS[0], width: 2}, marker: {size: 9}, text: hover(fixed), hovertemplate: "%{text}<br>gap %{y:.3f}<extra></extra>"}];
    if (fixed.length && fixed.every(function (r) { return r.eval_gap !== null; })) {
      gapTraces.push({type: "scatter", mode: "lines+markers", x: t(fixed), y: fixed.map(function (r) { return r.eval_gap; }),
                      name: "fixed, " + (fixed[0].eval_pairs || "") + " pairs (training record)",
                      line: {color: LINE_COLORS[5], width: 2, dash: "dash"}, marker: {size: 7, symbol: "square"},
                      text: hover(fixed), hovertemplate: "%{text}<br>gap %{y:.3f} (training record)<extra></extra>"});
    }
    if (learned.length) {
      gapTraces.push({type: "scatter", mode: "markers", x: t(learned), y: learned.map(function (r) { return r.gap; }), name: "learned (where it ended)",
                      marker: {color: LINE_COLORS[1], size: 13, symbol: "diamond", line: {color: "#fff", width: 1}},
                      text: hover(learned), hovertemplate: "%{text}<br>gap %{y:.3f}<extra></extra>"});
    }
    var rTraces = [];
    ["1", "5", "10"].forEach(function (k, j) {
      rTraces.push({type: "scatter", mode: "lines+markers", x: t(fixed), y: fixed.map(function (r) { return r.recall_mean[k]; }),
                    name: "R@" + k, legendgroup: "r" + k, line: {color: LINE_COLORS[[0, 2, 3][j]], width: 2}, marker: {size: 8},
                    text: hover(fixed), hovertemplate: "%{text}<br>R@" + k + " (mean of both directions) %{y:.3f}<extra></extra>"});
      if (learned.length) {
        rTraces.push({type: "scatter", mode: "markers", x: t(learned), y: learned.map(function (r) { return r.recall_mean[k]; }),
                      name: "R@" + k + ", learned", legendgroup: "r" + k, showlegend: j === 0,
                      marker: {color: LINE_COLORS[[0, 2, 3][j]], size: 12, symbol: "diamond", line: {color: "#fff", width: 1}},
                      text: hover(learned), hovertemplate: "%{text}<br>R@" + k + " (mean of both directions) %{y:.3f}<extra></extra>"});
      }
    });
    var gapDiv = h("div", {className: "fx-temp-gap"}), rDiv = h("div", {className: "fx-temp-recall"});
    host.appendChild(h("div", {className: "fx-temp-panels", style: "display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:.75em"}, [
      h("div", {className: "fx-card", role: "group", "aria-label": "modality gap against temperature"}, [
        h("p", {className: "fx-card-title", text: "Modality gap against temperature"}), gapDiv]),
      h("div", {className: "fx-card", role: "group", "aria-label": "retrieval against temperature"}, [
        h("p", {className: "fx-card-title", text: "R@k against temperature (" + s.n + " pairs)"}), rDiv])]));
    return Promise.all([
      Plotly.react(gapDiv, gapTraces, Object.assign({}, base, {yaxis: {title: {text: "modality gap ‖mean " + esc(a) + " − mean " + esc(b) + "‖"}}}), SMALL_CONFIG),
      Plotly.react(rDiv, rTraces, Object.assign({}, base, {yaxis: {title: {text: "recall, mean of both directions"}, range: [0, 1.02]}}), SMALL_CONFIG)]);
  }

  function mountTemperature(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount"), n = meta.scales.length;
    var start = meta.models.map(function (m) { return m.own_index; }).filter(function (i) { return i !== null; })[0];
    if (start === undefined) start = Math.max(0, meta.scales.indexOf(30));
    var id = "fx-temp-" + (++uid), outId = id + "-out";
    var slider = h("input", {type: "range", id: id, min: "0", max: String(n - 1), step: "1", value: String(start),
                             "aria-describedby": outId, style: "width:100%"});
    var out = h("output", {id: outId, "for": id, className: "fx-meta"});
    var div = h("div", {className: "fx-temp-landscape"});
    var own = meta.models.filter(function (m) { return m.own_index !== null; });
    var jumps = h("div", {className: "fx-temp-jumps", style: "display:flex;flex-wrap:wrap;gap:.4em;align-items:center;margin:.3em 0"},
                  [h("span", {className: "fx-meta", text: own.length ? "Go to a model's own scale:" : "No model of this section has its own logit scale."})]);
    var box = h("div", {className: "fx-temp-ctl", style: "max-width:40em"}, [
      h("label", {"for": id, text: "Logit scale (inverse temperature)"}), slider, scaleRow(meta), out, jumps]);
    mount.replaceChildren(box, div);
    var current = -1;
    function show(i) {
      i = Math.max(0, Math.min(n - 1, i));
      if (String(slider.value) !== String(i)) slider.value = String(i);
      var owners = meta.models.filter(function (m) { return m.own_index === i; }).map(function (m) { return m.label; });
      out.textContent = "logit scale " + scaleText(meta.scales[i]) + ", temperature " + fmt(1 / meta.scales[i], 4) +
                        (owners.length ? " (own scale of " + owners.join(", ") + ")" : "");
      slider.setAttribute("aria-valuetext", out.textContent);
      current = i;
      return Plotly.react(div, landscapeTraces(meta, i), landscapeLayout(meta, i), NOSELECT_CONFIG).then(function () {
        if (current === i) fig.setAttribute("data-state", "scale:" + scaleText(meta.scales[i]));
      });
    }
    own.forEach(function (m) {
      jumps.appendChild(h("button", {type: "button", className: "fx-temp-jump", "data-model": m.id,
                                     style: "font:inherit;font-size:.75rem;padding:.15em .6em;color:#303fa1;background:#fff;" +
                                            "border:1px solid #303fa1;border-radius:.2em;cursor:pointer",
                                     text: m.label + ": " + scaleText(m.logit_scale),
                                     onclick: function () { show(m.own_index); }}));
    });
    slider.addEventListener("input", function () { show(Number(slider.value)); });
    var done = [show(start)];
    if (meta.series && opts.series !== false) {
      var sHost = h("div", {className: "fx-temp-series"});
      mount.appendChild(sHost);
      done.push(seriesPlots(sHost, meta.series, Plotly));
    }
    return Promise.all(done);
  }

  F.views.temperature = mountTemperature;
})(window.clipFigures);
