/* Honest projections (exporters/figures/honesty.py): per model and projection, the gap the picture draws
 * against the gap in the full space (each over its space's mean distance between points; the diagonal is
 * a faithful picture), and the kNN recall of the picture, with its chance level. A checkbox switches to the
 * explorer's closed-gap state. Hovering a marker writes its numbers into the panel.
 */
(function (F) {
  "use strict";
  var esc = F.esc, h = F.h, fmt = F.fmt, LINE_COLORS = F.LINE_COLORS, SMALL_CONFIG = F.SMALL_CONFIG;
  var SYMBOLS = ["circle", "square", "diamond", "triangle-up"];

  function mountHonesty(fig, meta, opts, Plotly) {
    var mount = fig.querySelector(".fig-mount");
    var st = {state: meta.states[0]};
    var saved = F.readState(fig.id);
    if (saved.state && meta.states.indexOf(saved.state) >= 0) st.state = saved.state;
    var bar = h("div", {className: "fx-controls"});
    if (meta.states.length > 1) {
      bar.appendChild(F.checkbox("Close the modality gap (as in the explorer)", st.state === "closed", function (on) {
        st.state = on ? "closed" : "open"; update(true);
      }));
    }
    var left = h("div", {className: "fx-honesty-gap"}), right = h("div", {className: "fx-honesty-knn"});
    var grid = h("div", {className: "fx-honesty-grid", style: "display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:0.5rem"}, [left, right]);
    mount.replaceChildren(bar, grid);
    var panel = F.Panel(mount);
    panel.show([h("p", {className: "fx-hint", text: "Hover a marker to read its numbers here."})]);
    var labels = meta.models.map(function (m) { return m.label; });

    function values(mi, p) { return meta.models[mi].states[st.state][p]; }

    function describePoint(mi, p) {
      var v = values(mi, p), m = meta.models[mi];
      return [h("p", {className: "fx-honesty-readout", "data-model": m.id, "data-method": p,
                      text: m.label + ", " + meta.method_labels[p] + " (" + meta.state_labels[st.state] + "): gap / mean distance " +
                            fmt(v.full_ratio, 3) + " in the full space, " + fmt(v.plot_ratio, 3) + " in the picture (exaggeration " +
                            fmt(v.exaggeration) + "); kNN recall " + fmt(v.knn_recall) + " (k = " + meta.k + ", chance " + fmt(meta.chance) + ")."})];
    }

    function traces() {
      var gap = [], knn = [], hi = 0;
      meta.projections.forEach(function (p, j) {
        var col = LINE_COLORS[j % LINE_COLORS.length], sym = SYMBOLS[j % SYMBOLS.length], name = esc(meta.method_labels[p]);
        var xs = [], ys = [], rs = [], idx = [];
        meta.models.forEach(function (m, i) {
          var v = m.states[st.state][p];
          xs.push(v.full_ratio); ys.push(v.plot_ratio); rs.push(v.knn_recall); idx.push(i);
          hi = Math.max(hi, v.full_ratio || 0, v.plot_ratio || 0);
        });
        var text = labels.map(esc);
        gap.push({type: "scatter", mode: "markers", x: xs, y: ys, name: name, legendgroup: name, customdata: idx, text: text,
                  marker: {color: col, symbol: sym, size: 11, line: {color: "#fff", width: 1}},
                  hovertemplate: "%{text}<br>" + name + "<br>full space %{x:.3f}<br>picture %{y:.3f}<extra></extra>"});
        knn.push({type: "scatter", mode: "markers", x: rs, y: text, name: name, legendgroup: name, showlegend: false, customdata: idx,
                  marker: {color: col, symbol: sym, size: 11, line: {color: "#fff", width: 1}},
                  hovertemplate: "%{y}<br>" + name + "<br>kNN recall %{x:.2f}<extra></extra>"});
      });
      var top = Math.max(0.1, hi) * 1.08;
      gap.unshift({type: "scatter", mode: "lines", x: [0, top], y: [0, top], name: "faithful (picture = full space)",
                   line: {color: "#777", dash: "dot", width: 1}, hoverinfo: "skip"});
      return {gap: gap, knn: knn, top: top};
    }

    function base(extra) {
      var l = {height: 360, margin: {l: 60, r: 10, t: 30, b: 50}, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
               dragmode: false, hovermode: "closest"};
      Object.keys(extra).forEach(function (k) { l[k] = extra[k]; });
      return l;
    }

    function hook(div, which, offset) {
      div.on("plotly_hover", function (ev) {
        var pt = ev.points && ev.points[0];
        if (!pt || pt.customdata === undefined) return;
        var p = meta.projections[pt.curveNumber - offset];
        if (p === undefined) return;
        last = [pt.customdata, p];
        panel.show(describePoint(pt.customdata, p));
        fig.setAttribute("data-hover", which + ":" + meta.models[pt.customdata].id + ":" + p);
      });
    }

    var hooked = false, last = null;   // the marker last hovered: its numbers follow the state
    function update(write) {
      var t = traces();
      var a = Plotly.react(left, t.gap, base({
        title: {text: "Gap: picture against full space", font: {size: 13}},
        xaxis: {title: {text: "full space: gap / mean distance"}, range: [0, t.top], zeroline: false},
        yaxis: {title: {text: "picture: gap / mean distance"}, range: [0, t.top], zeroline: false},
        legend: {orientation: "h", y: -0.25}}), SMALL_CONFIG);
      var b = Plotly.react(right, t.knn, base({
        title: {text: "Neighbours kept (kNN recall, k = " + meta.k + ")", font: {size: 13}},
        xaxis: {title: {text: "kNN recall (dotted: chance)"}, range: [0, 1.02], zeroline: false},
        yaxis: {automargin: true, type: "category", autorange: "reversed"}, showlegend: false,
        shapes: [{type: "line", xref: "x", yref: "paper", x0: meta.chance, x1: meta.chance, y0: 0, y1: 1,
                  line: {color: "#777", dash: "dot", width: 1}}]}), SMALL_CONFIG);
      return Promise.all([a, b]).then(function () {
        if (!hooked) { hook(left, "gap", 1); hook(right, "knn", 0); hooked = true; }
        if (last) panel.show(describePoint(last[0], last[1]));
        if (write) F.writeState(fig.id, {state: st.state});
        fig.setAttribute("data-state", st.state);
      });
    }
    return update(false);
  }

  F.views.honesty = mountHonesty;
})(window.clipFigures);
