/* Neighbours in the full-dimensional space (exporters/figures/neighbours.py): a 2-D layout of one model's
 * items; clicking a point (or choosing an item with the controls, or a neighbour in a list) lists its k
 * nearest items of both modalities, of its own and of the other, scored, with the true partner marked,
 * and draws lines from it to its nearest items in the layout. The gap toggle switches to the lists and
 * layout of the closed gap. Each model's lists are one JSON file, fetched when the model is chosen,
 * stored compactly (exporters/figures/neighbours.py, encode_lists) and unpacked here once (unpack).
 */
(function (F) {
  "use strict";
  var getJSON = F.getJSON, esc = F.esc, h = F.h, fmt = F.fmt, pct = F.pct, url = F.url, readState = F.readState, writeState = F.writeState, select = F.select, checkbox = F.checkbox, itemNode = F.itemNode, MOD_COLORS = F.MOD_COLORS, NOSELECT_CONFIG = F.NOSELECT_CONFIG, MODEBAR = F.MODEBAR;

  var uid = 0, HEIGHT = 480;

  /* a labelled number input (F has select/checkbox/textInput only; this one is local to the view) */
  function numberInput(label, value, max, onchange) {
    var nid = "fx-nb-num-" + (++uid);
    var c = h("input", {type: "number", id: nid, min: "0", max: String(max), step: "1", value: String(value), style: "width:4.5em;font:inherit;border:1px solid #767676;border-radius:2px;padding:.1em .3em"});
    c.addEventListener("change", function () {
      var v = Math.round(Number(c.value));
      if (!isFinite(v)) v = 0;
      v = Math.max(0, Math.min(max, v));
      c.value = String(v);
      onchange(v);
    });
    return {el: h("span", {className: "fx-ctl"}, [h("label", {"for": nid, text: label}), c]), input: c};
  }

  /* scores in thousandths, the first then the drops down the row -> 3-decimal scores */
  function scores(rows) {
    return rows.map(function (r) {
      var c = 0;
      return r.map(function (d, j) { c = j ? c - d : d; return c / 1000; });
    });
  }
  /* the file's {q: {field: {state: rows}}} -> {state: {proj, lists: {q: {in, in_s, cross, cross_s, joint,
   * joint_m, joint_s}}}}: the joint list is the in-modal and the cross-modal lists merged in the order its
   * modalities (joint_m) give (as decode_lists does in Python) */
  function unpack(data) {
    if (data.states) return data;
    var states = {};
    Object.keys(data.proj).forEach(function (st) {
      var lists = {};
      ["x", "y"].forEach(function (q, qi) {
        var f = data.lists[q], d = {"in": f["in"][st], in_s: scores(f.in_s[st]), cross: f.cross[st], cross_s: scores(f.cross_s[st]),
                                    joint_m: f.joint_m[st], joint: [], joint_s: []};
        d.joint_m.forEach(function (mods, i) {
          var at = [0, 0], row = [], sc = [];
          mods.forEach(function (m) {
            var own = m === qi, r = at[m]++;
            row.push(own ? d["in"][i][r] : d.cross[i][r]);
            sc.push(own ? d.in_s[i][r] : d.cross_s[i][r]);
          });
          d.joint.push(row);
          d.joint_s.push(sc);
        });
        lists[q] = d;
      });
      states[st] = {proj: data.proj[st], lists: lists};
    });
    data.states = states;
    return data;
  }

  function mountNeighbours(fig, meta, opts, Plotly) {
    var id = fig.id, mount = fig.querySelector(".fig-mount"), n = meta.n, k = meta.k;
    var mods = meta.modalities, lower = mods.map(function (m) { return m.toLowerCase(); });
    var modelIds = meta.models.map(function (m) { return m.id; });
    // default query: an item of the second modality (a caption, for image-caption data), the prose's case
    var st = {model: opts.model && modelIds.indexOf(opts.model) >= 0 ? opts.model : modelIds[0],
              proj: meta.projections.indexOf("PCA") >= 0 ? "PCA" : meta.projections[0], gap: opts.gap ? 1 : 0, mod: 1, item: 0};
    var url0 = readState(id);
    if (modelIds.indexOf(url0.model) >= 0) st.model = url0.model;
    if (meta.projections.indexOf(url0.proj) >= 0) st.proj = url0.proj;
    if (url0.gap === "0" || url0.gap === "1") st.gap = +url0.gap;
    if (url0.mod === "0" || url0.mod === "1") st.mod = +url0.mod;
    if (/^\d+$/.test(url0.item || "") && +url0.item < n) st.item = +url0.item;

    var bar = h("div", {className: "fx-controls"});
    if (modelIds.length > 1)
      bar.appendChild(select("Model", meta.models.map(function (m) { return [m.id, m.label]; }), st.model, function (v) { st.model = v; update(); }));
    if (meta.projections.length > 1)
      bar.appendChild(select("Layout", meta.projections.map(function (p) { return [p, p === "TSNE" ? "t-SNE" : p]; }), st.proj, function (v) { st.proj = v; update(); }));
    bar.appendChild(checkbox("Close the modality gap", st.gap, function (v) { st.gap = v ? 1 : 0; update(); }));
    var modSel = select("Item of", mods.map(function (m, j) { return [String(j), m]; }), String(st.mod), function (v) { st.mod = +v; update(); });
    bar.appendChild(modSel);
    var num = numberInput("number", st.item, n - 1, function (v) { st.item = v; update(); });
    bar.appendChild(num.el);

    var metaLine = h("p", {className: "fx-meta", "data-role": "meta"});
    var scat = h("div", {className: "fx-nb-scatter", role: "group", style: "align-self:start",
                         "aria-label": "2-D layout of the items; click a point to list its nearest items in the full space"});
    // the lists scroll within the layout's height, so the layout stays beside them (its buttons take the focus)
    var lists = h("div", {className: "fx-nb-lists", "aria-live": "polite", "data-role": "neighbours",
                          style: "max-height:" + HEIGHT + "px;overflow-y:auto;font-size:.75rem;padding-right:.3em;text-align:left"});
    mount.replaceChildren(bar, metaLine, h("div", {className: "fx-grid"}, [scat, lists]));

    var items = null, hooked = false;

    function model() { return meta.models.filter(function (m) { return m.id === st.model; })[0]; }

    /* one compact entry of a list: score, modality and number, a small thumbnail or the text; a button
     * that makes this item the query */
    function entry(mod, i, score, partner) {
      var m = items.modalities[mod], v = m.items[i];
      var what = [h("span", {className: "fx-nb-score", text: fmt(score, 3)}), " ",
                  h("strong", {text: m.label + " #" + i}), partner ? h("span", {className: "fx-nb-badge", text: " ★ true partner"}) : null];
      var body = null;
      if (m.kind === "image") body = h("img", {src: url(v), alt: "", width: "40", height: "40", loading: "lazy", style: "vertical-align:middle;margin:0 .3em"});
      else if (m.kind === "text") body = h("span", {className: "fx-caption", text: " " + v});
      else if (m.kind === "molecule") body = h("code", {text: " " + v});
      var btn = h("button", {type: "button", className: "fx-nb-go", "aria-label": "List the neighbours of " + m.label + " #" + i,
                             style: "background:none;border:0;padding:0;margin:0;text-align:left;font:inherit;color:inherit;cursor:pointer", onclick: function () { st.mod = mod; st.item = i; update(); }}, what.concat([body]));
      return h("li", {className: partner ? "fx-nb-entry fx-nb-partner" : "fx-nb-entry", "data-modality": String(mod), "data-index": String(i),
                      style: partner ? "background:rgba(213,94,0,0.12)" : null}, [btn]);
    }

    function listBlock(title, rows) {
      return h("div", {className: "fx-nb-block"}, [h("p", {className: "fx-card-title", text: title}), h("ol", {style: "margin:.2em 0 .6em 1.2em;padding:0"}, rows)]);
    }

    function draw(data) {
      var S = data.states[st.gap ? "closed" : "open"], P = S.proj[st.proj], q = st.mod, o = 1 - q, i = st.item;
      var L = S.lists[q === 0 ? "x" : "y"];
      var px = function (mod, j) { return P.x[mod * n + j]; }, py = function (mod, j) { return P.y[mod * n + j]; };
      var traces = [0, 1].map(function (mod) {
        var idx = Array.from({length: n}, function (_, j) { return j; });
        return {type: "scatter", mode: "markers", name: esc(mods[mod]), x: idx.map(function (j) { return px(mod, j); }),
                y: idx.map(function (j) { return py(mod, j); }), customdata: idx.map(function (j) { return [mod, j]; }),
                marker: {color: MOD_COLORS[mod], size: 7, opacity: 0.55},
                hovertemplate: esc(mods[mod]) + " #%{customdata[1]}: click for its neighbours<extra></extra>"};
      });
      var jm = L.joint_m[i], ji = L.joint[i];
      var lx = [], ly = [], nx = [], ny = [], nd = [];
      ji.forEach(function (j, r) { lx.push(px(q, i), px(jm[r], j), null); ly.push(py(q, i), py(jm[r], j), null); nx.push(px(jm[r], j)); ny.push(py(jm[r], j)); nd.push([jm[r], j]); });
      traces.push({type: "scatter", mode: "lines", x: lx, y: ly, hoverinfo: "skip", showlegend: false, line: {color: "#555", width: 1}});
      traces.push({type: "scatter", mode: "markers", name: k + " nearest in the full space", x: nx, y: ny, customdata: nd,
                   marker: {size: 12, color: "rgba(0,0,0,0)", line: {color: "#000", width: 2}},
                   hovertemplate: "a nearest item: click for its neighbours<extra></extra>"});
      traces.push({type: "scatter", mode: "markers", name: "true partner", x: [px(o, i)], y: [py(o, i)], customdata: [[o, i]],
                   marker: {size: 16, symbol: "star", color: "#D55E00", line: {color: "#000", width: 1}},
                   hovertemplate: "the true partner<extra></extra>"});
      traces.push({type: "scatter", mode: "markers", name: "chosen item", x: [px(q, i)], y: [py(q, i)], customdata: [[q, i]],
                   marker: {size: 16, symbol: "circle-open", color: "#000", line: {width: 3}}, hovertemplate: "the chosen item<extra></extra>"});
      var lay = {height: HEIGHT, margin: {l: 10, r: 10, t: 10, b: 10}, hovermode: "closest", dragmode: "zoom", modebar: MODEBAR,
                 xaxis: {showticklabels: false, zeroline: false, showgrid: false}, yaxis: {showticklabels: false, zeroline: false, showgrid: false},
                 legend: {orientation: "h", x: 0, y: -0.02, yanchor: "top", font: {size: 11}},
                 paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"};

      var joint = ji.map(function (j, r) { return entry(jm[r], j, L.joint_s[i][r], jm[r] === o && j === i); });
      var own = L["in"][i].map(function (j, r) { return entry(q, j, L.in_s[i][r], false); });
      var cross = L.cross[i].map(function (j, r) { return entry(o, j, L.cross_s[i][r], j === i); });
      var nSame = jm.filter(function (v) { return v === q; }).length;
      var gapWord = st.gap ? "gap closed" : "gap open";
      lists.replaceChildren(
        itemNode(items, q, i, "Chosen"),
        h("p", {className: "fx-note", text: nSame + " of its " + ji.length + " nearest items are " + lower[q] + " items (" + gapWord + ")."}),
        listBlock("Nearest of both modalities", joint),
        listBlock("Nearest " + lower[q] + " items", own),
        listBlock("Nearest " + lower[o] + " items", cross));
      var s = model().summary[st.gap ? "closed" : "open"];
      metaLine.textContent = data.label + " (" + gapWord + ") — share of an item's " + k + " nearest items that are of its own modality, on average: " +
        lower[1] + " " + pct(s.same_y) + ", " + lower[0] + " " + pct(s.same_x) + " (a perfect mix: " + pct(meta.chance) +
        "); items whose partner is among them: " + lower[1] + " " + pct(s.partner_y) + ", " + lower[0] + " " + pct(s.partner_x) + ".";
      return Plotly.react(scat, traces, lay, NOSELECT_CONFIG);
    }

    function update(initial) {
      modSel.querySelector("select").value = String(st.mod);
      num.input.value = String(st.item);
      var m = model();
      return getJSON(m.src).then(function (data) { return draw(unpack(data)); }).then(function () {
        if (!hooked) {
          hooked = true;
          scat.on("plotly_click", function (ev) {
            var cd = ev.points[0].customdata;
            if (!cd) return;
            st.mod = cd[0]; st.item = cd[1];
            update();
          });
        }
        if (initial !== true) writeState(id, st);
        fig.setAttribute("data-state", [st.model, st.proj, st.gap, st.mod, st.item].join("|"));
      });
    }

    return getJSON(meta.items).then(function (it) { items = it; return update(true); });
  }

  F.views.neighbours = mountNeighbours;
})(window.clipFigures);
