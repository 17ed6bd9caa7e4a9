/* Quadrant statistics of one model (exporters/figures/quadrants.py): similarity distributions (in-modal,
 * cross-modal matched against the rest), every item's partner margins and ranks in both directions, and
 * hubness (N1 per item). A model selector and the gap toggle switch precomputed states; hovering an item
 * shows it, its partner and the hardest negatives in the panel; hovering a hubness step lists its items.
 * The plotly bundle has no bar trace: histograms are scatter traces with line shape "hv".
 */
(function (F) {
  "use strict";
  var getJSON = F.getJSON, esc = F.esc, h = F.h, fmt = F.fmt, pct = F.pct, readState = F.readState, writeState = F.writeState, select = F.select, checkbox = F.checkbox, itemNode = F.itemNode, Panel = F.Panel, MOD_COLORS = F.MOD_COLORS, LINE_COLORS = F.LINE_COLORS, SMALL_CONFIG = F.SMALL_CONFIG;

  var GREY = "#7f7f7f", RANK_TICKS = [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

  function baseLayout(xtitle, ytitle, height) {
    return {height: height || 260, margin: {l: 55, r: 10, t: 50, b: 45}, hovermode: "closest", dragmode: false,
            xaxis: {title: {text: esc(xtitle)}, zeroline: false}, yaxis: {title: {text: esc(ytitle)}, zeroline: false},
            legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: {size: 11}},
            paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", font: {size: 11}};
  }

  /* counts on bins (edges) as a step line of shares: x = edges, y = share per bin, the last repeated */
  function stepTrace(edges, counts, name, color, dash) {
    var total = counts.reduce(function (a, b) { return a + b; }, 0) || 1;
    var y = counts.map(function (c) { return c / total; });
    y.push(y[y.length - 1]);
    var text = counts.map(function (c, k) { return "[" + fmt(edges[k], 2) + ", " + fmt(edges[k + 1], 2) + "): " + c + " pairs"; });
    text.push(text[text.length - 1]);
    return {type: "scatter", mode: "lines", x: edges, y: y, name: esc(name), line: {shape: "hv", color: color, width: 2, dash: dash || "solid"},
            text: text, hovertemplate: esc(name) + "<br>%{text}<br>share %{y:.1%}<extra></extra>"};
  }

  function mountQuadrants(fig, meta, opts, Plotly) {
    var id = fig.id, mount = fig.querySelector(".fig-mount"), n = meta.n;
    var ma = meta.modalities[0], mb = meta.modalities[1], la = ma.toLowerCase(), lb = mb.toLowerCase();
    var modelIds = meta.models.map(function (m) { return m.id; });
    var st = {model: opts.model && modelIds.indexOf(opts.model) >= 0 ? opts.model : modelIds[0], gap: opts.gap ? 1 : 0};
    var url0 = readState(id);
    if (modelIds.indexOf(url0.model) >= 0) st.model = url0.model;
    if (url0.gap === "0" || url0.gap === "1") st.gap = +url0.gap;

    var bar = h("div", {className: "fx-controls"});
    if (modelIds.length > 1)
      bar.appendChild(select("Model", meta.models.map(function (m) { return [m.id, m.label]; }), st.model, function (v) { st.model = v; update(true); }));
    bar.appendChild(checkbox("Close the modality gap", st.gap, function (v) { st.gap = v ? 1 : 0; update(true); }));
    var metaLine = h("p", {className: "fx-meta", "data-role": "meta"});
    var divs = {inmodal: h("div", {className: "fx-q-inmodal", role: "img", "aria-label": "In-modal similarity distributions"}),
                cross: h("div", {className: "fx-q-cross", role: "img", "aria-label": "Cross-modal similarity distributions, true pairs against the rest"}),
                margins: h("div", {className: "fx-q-margins", role: "group", "aria-label": "Margin of every item's true partner in both directions; hover a point for the items"}),
                ranks: h("div", {className: "fx-q-ranks", role: "group", "aria-label": "Rank of every item's true partner in both directions; hover a point for the items"}),
                hubs: h("div", {className: "fx-q-hubs", role: "group", "aria-label": "Hubness: how many items have each N1; hover a step for its items"})};
    var titled = function (title, div) { return h("div", {}, [h("p", {className: "fx-card-title", text: title}), div]); };
    var grid1 = h("div", {className: "fx-cards"}, [titled("In-modal: pairs of different items", divs.inmodal),
                                                   titled("Cross-modal: true pairs and the rest", divs.cross)]);
    var grid2 = h("div", {className: "fx-cards"}, [titled("Every pair: margin over the hardest negative", divs.margins),
                                                   titled("Every pair: position of the partner (1 = first)", divs.ranks),
                                                   titled("Hubness: how often an item is the nearest", divs.hubs)]);
    mount.replaceChildren(bar, metaLine, grid1, grid2);
    var panel = Panel(mount);
    var HINT = "Hover a point of the margins or ranks plot to see the item, its partner and the hardest negatives; hover a hubness step for its items.";
    panel.show([], HINT);

    var items = null, hooked = false;

    function current() {
      var m = meta.models.filter(function (x) { return x.id === st.model; })[0];
      return {m: m, s: m.states[st.gap ? "closed" : "open"]};
    }

    function showItem(i) {
      var c = current(), it = c.s.items, nodes = [itemNode(items, 0, i, "Item"), itemNode(items, 1, i, "Its partner")];
      var hx = it.x2y_hardest[i], hy = it.y2x_hardest[i];
      if (hx >= 0) nodes.push(itemNode(items, 1, hx, "Hardest other " + lb + " for " + la + " #" + i));
      if (hy >= 0) nodes.push(itemNode(items, 0, hy, "Hardest other " + la + " for " + lb + " #" + i));
      var note = c.m.label + (st.gap ? " (gap closed)" : "") + " — pair #" + i + ": " + la + "→" + lb + " partner rank " + it.x2y_rank[i] +
                 ", margin " + fmt(it.x2y_margin[i], 3) + "; " + lb + "→" + la + " partner rank " + it.y2x_rank[i] + ", margin " + fmt(it.y2x_margin[i], 3) +
                 " (rank 0: retrieved first; a negative margin: another item is closer than the partner)";
      panel.show(nodes, note);
    }

    function showHub(dir, value) {
      var c = current(), occ = c.s.occurrence[dir], mod = dir === "x2y" ? 1 : 0, hits = [];
      occ.forEach(function (v, i) { if (v === value) hits.push(i); });
      var shown = hits.slice(0, 6).map(function (i) { return itemNode(items, mod, i, "N1 = " + value); });
      var who = dir === "x2y" ? lb : la, q = dir === "x2y" ? la : lb;
      panel.show(shown, c.m.label + ": " + hits.length + " " + who + (hits.length === 1 ? " is" : " items are") + " the nearest " + who +
                 " of exactly " + value + " " + q + (value === 1 ? "" : " items") + (hits.length > 6 ? " (the first 6 shown)" : ""));
    }

    function marginTraces(s) {
      var it = s.items, groups = [[], [], []];
      for (var i = 0; i < n; i++) {
        if (it.x2y_margin[i] === null || it.y2x_margin[i] === null) continue;
        var firsts = (it.x2y_rank[i] === 0 ? 1 : 0) + (it.y2x_rank[i] === 0 ? 1 : 0);
        groups[2 - firsts].push(i);
      }
      var names = ["partner first both ways", "first one way", "first neither way"];
      var colors = [LINE_COLORS[2], LINE_COLORS[4], LINE_COLORS[1]], symbols = ["circle", "diamond", "x"];
      return groups.map(function (g, k) {
        return {type: "scatter", mode: "markers", name: names[k], x: g.map(function (i) { return it.x2y_margin[i]; }),
                y: g.map(function (i) { return it.y2x_margin[i]; }), customdata: g,
                marker: {color: colors[k], symbol: symbols[k], size: 7, line: {width: 0.5, color: "#fff"}},
                hovertemplate: "pair #%{customdata}<br>" + esc(la) + "→" + esc(lb) + " margin %{x:.3f}<br>" + esc(lb) + "→" + esc(la) + " margin %{y:.3f}<extra></extra>"};
      });
    }

    function rankTrace(s) {
      var it = s.items, idx = Array.from({length: n}, function (_, i) { return i; });
      return [{type: "scatter", mode: "markers", name: "pairs", showlegend: false,
               x: idx.map(function (i) { return it.x2y_rank[i] + 1; }), y: idx.map(function (i) { return it.y2x_rank[i] + 1; }), customdata: idx,
               marker: {color: MOD_COLORS[0], size: 7, opacity: 0.6, line: {width: 0.5, color: "#fff"}},
               hovertemplate: "pair #%{customdata}<br>" + esc(la) + "→" + esc(lb) + " partner at %{x}<br>" + esc(lb) + "→" + esc(la) + " partner at %{y}<extra></extra>"}];
    }

    function hubTraces(s) {
      return ["x2y", "y2x"].map(function (dir, k) {
        var occ = s.occurrence[dir], mx = Math.max.apply(null, occ), counts = new Array(mx + 1).fill(0);
        occ.forEach(function (v) { counts[v] += 1; });
        var q = s.summary[dir], who = dir === "x2y" ? mb : ma;
        var x = counts.map(function (_, v) { return v; });
        return {type: "scatter", mode: "lines+markers", name: esc(who) + " (skew " + fmt(q.skewness, 2) + ")",
                x: x, y: counts, customdata: x.map(function () { return dir; }), line: {shape: "hvh", color: MOD_COLORS[k === 0 ? 1 : 0], width: 2},
                marker: {size: 6}, hovertemplate: "N1 = %{x}: %{y} " + esc(who.toLowerCase()) + " items<extra></extra>"};
      });
    }

    function hook() {
      if (hooked) return;
      hooked = true;
      [divs.margins, divs.ranks].forEach(function (d) {
        d.on("plotly_hover", function (ev) { showItem(ev.points[0].customdata); });
      });
      divs.hubs.on("plotly_hover", function (ev) { showHub(ev.points[0].customdata, ev.points[0].x); });
    }

    function update(write) {
      var c = current(), s = c.s, e = s.hist.edges, q1 = s.summary.x2y, q2 = s.summary.y2x;
      metaLine.textContent = c.m.label + (st.gap ? " (gap closed)" : "") + " — partner retrieved first: " + la + "→" + lb + " " + pct(q1.r1) +
        ", " + lb + "→" + la + " " + pct(q2.r1) + " · mean true pair " + fmt(s.means.cross_matched, 2) + ", other cross pairs " + fmt(s.means.cross_other, 2) +
        ", unrelated " + la + " " + fmt(s.means.in_x, 2) + ", " + lb + " " + fmt(s.means.in_y, 2);
      var lin = baseLayout("cosine similarity", "share of pairs");
      lin.xaxis.range = [-1, 1];
      var lcr = baseLayout("cosine similarity", "share of pairs");
      lcr.xaxis.range = [-1, 1];
      var lm = baseLayout(la + "→" + lb + " margin", lb + "→" + la + " margin", 320);
      lm.margin.t = 70;   // three legend entries may take three lines on a narrow card
      lm.shapes = [{type: "line", xref: "x", yref: "paper", x0: 0, x1: 0, y0: 0, y1: 1, line: {color: GREY, width: 1, dash: "dot"}},
                   {type: "line", xref: "paper", yref: "y", x0: 0, x1: 1, y0: 0, y1: 0, line: {color: GREY, width: 1, dash: "dot"}}];
      var lr = baseLayout(la + "→" + lb, lb + "→" + la, 300);
      lr.xaxis.type = "log"; lr.yaxis.type = "log";
      // whole positions only (plotly labels 1.2, 1.4, ... on a short log axis)
      lr.xaxis.tickvals = lr.yaxis.tickvals = RANK_TICKS.filter(function (t) { return t <= n; });
      var lh = baseLayout("N1 (nearest of how many items)", "number of items", 300);
      var nmax = Math.max(Math.max.apply(null, s.occurrence.x2y), Math.max.apply(null, s.occurrence.y2x));
      lh.xaxis.dtick = nmax <= 10 ? 1 : null;    // N1 is a count: no ticks between whole numbers
      return Promise.all([
        Plotly.react(divs.inmodal, [stepTrace(e, s.hist.in_x, ma + "–" + ma, MOD_COLORS[0]), stepTrace(e, s.hist.in_y, mb + "–" + mb, MOD_COLORS[1])], lin, SMALL_CONFIG),
        Plotly.react(divs.cross, [stepTrace(e, s.hist.cross_matched, "true pairs", LINE_COLORS[1]), stepTrace(e, s.hist.cross_other, "other pairs", "#000000", "dot")], lcr, SMALL_CONFIG),
        Plotly.react(divs.margins, marginTraces(s), lm, SMALL_CONFIG),
        Plotly.react(divs.ranks, rankTrace(s), lr, SMALL_CONFIG),
        Plotly.react(divs.hubs, hubTraces(s), lh, SMALL_CONFIG)
      ]).then(function () {
        hook();
        if (write) {   // what the panel showed belongs to the previous model or state
          writeState(id, st);
          panel.show([], HINT);
        }
        fig.setAttribute("data-state", st.model + "|" + st.gap);
      });
    }

    return getJSON(meta.items).then(function (it) { items = it; return update(false); });
  }

  F.views.quadrants = mountQuadrants;
})(window.clipFigures);
