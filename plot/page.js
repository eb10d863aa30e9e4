/* The backward page's script (plot/page.js, embedded into every page by
 * plot_backward_page).  It reads the trace the page carries (the JSON block
 * #trace) and draws the legend, the step control and the details of the box
 * clicked.  Plain JavaScript, no library, nothing fetched; it computes no
 * number: every number shown is a string formatted by the C side from the
 * run, with its block's power-of-ten scale. */
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("trace").textContent);
  const T = data.tensors, S = data.steps, N = S.length, ROOT = T.length - 1;

  /* ---- small helpers ---- */
  function el(tag, cls, ...kids) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      e.append(typeof k === "string" ? document.createTextNode(k) : k);
    }
    return e;
  }
  const code = (s) => el("code", null, s);
  const scaleText = (e) => (e ? "\u00d7 1e" + e : "");
  /* A tensor as its box reads: its name, or its shape and op. */
  function label(id) {
    const t = T[id];
    return t.name ? t.name : t.shape + " " + (t.op || t.kind);
  }
  /* A clickable name: selects that tensor. */
  function link(id) {
    const a = el("span", "link", label(id));
    a.addEventListener("click", () => { select(id); reveal([id]); });
    return a;
  }
  function kindText(t) {
    if (t.kind === "parameter") return "parameter (a leaf that requires grad)";
    if (t.kind === "input") return "input (a leaf that needs no gradient)";
    return "made by " + t.op;
  }

  /* Who sent what to whom: the parts each tensor receives, by step. */
  const arrivals = T.map(() => []);
  S.forEach((st, s) => st.sent.forEach((d, i) => arrivals[d.to].push({ step: s, i })));

  /* ---- tables and heatmaps ---- */

  /* rows x cols strings as a table; prow: rows per panel of a 3-d or 4-d
   * tensor, each panel headed by its leading index. */
  function numTable(v, rows, cols, prow) {
    const tb = el("table", "num");
    for (let r = 0; r < rows; r++) {
      if (prow && prow < rows && r % prow === 0) {
        const h = el("tr", null, el("th", null, "[" + r / prow + "]"));
        h.firstChild.colSpan = cols;
        h.firstChild.style.textAlign = "left";
        tb.append(h);
      }
      const tr = el("tr");
      for (let c = 0; c < cols; c++) tr.append(el("td", "v", v[r * cols + c]));
      tb.append(tr);
    }
    return tb;
  }
  /* Colour of x in [-m, m] (diverging) or [0, m] (sequential). */
  function colour(x, m, signed) {
    if (!isFinite(x)) return "#ffffff";
    const f = m > 0 ? Math.min(1, Math.abs(x) / m) : 0;
    const mix = (a, b) => Math.round(a + (b - a) * f);
    if (!signed || x >= 0) {
      return signed ? `rgb(${mix(255, 203)},${mix(255, 24)},${mix(255, 29)})`
                    : `rgb(${mix(255, 8)},${mix(255, 81)},${mix(255, 156)})`;
    }
    return `rgb(${mix(255, 33)},${mix(255, 102)},${mix(255, 172)})`;
  }
  /* v as panels of prow x cols cells (a 3-d or 4-d tensor: one panel per
   * leading index); zero: a set of masked element indices; onRow(r): rows
   * that can be clicked. */
  function heatmap(v, t, opts) {
    opts = opts || {};
    const cols = t.cols, prow = Math.max(1, t.prow), panels = Math.max(1, t.rows / prow);
    const x = v.map(parseFloat), finite = x.filter(isFinite);
    const m = finite.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    const signed = finite.some((a) => a < 0);
    const small = cols <= 8 && prow <= 16;
    const box = el("div", "heats");
    for (let p = 0; p < panels; p++) {
      const tb = el("table", "heat" + (small ? "" : " small"));
      if (panels > 1) tb.append(el("caption", null, "[" + p + "]"));
      for (let i = 0; i < prow; i++) {
        const r = p * prow + i, tr = el("tr", opts.onRow ? "rowpick" : null);
        if (small) tr.append(el("th", null, String(i)));
        for (let j = 0; j < cols; j++) {
          const k = r * cols + j;
          const td = el("td", null, small ? v[k] : "");
          td.title = "[" + r + "," + j + "] " + v[k];
          if (opts.zero && opts.zero.has(k)) td.classList.add("masked");
          else td.style.background = colour(x[k], m, signed);
          if (small && Math.abs(x[k]) > 0.6 * m) td.style.color = "#fff";
          tr.append(td);
        }
        if (opts.onRow) tr.addEventListener("click", () => opts.onRow(r, tr));
        tb.append(tr);
      }
      box.append(tb);
    }
    return box;
  }
  const tableFits = (t) => t.cols <= 8 && t.rows <= 16;

  /* A tensor's values: a table when small, a heatmap otherwise. */
  function valueView(t, block) {
    const wrap = el("div");
    wrap.append(tableFits(t) ? numTable(block.v, t.rows, t.cols, t.prow) : heatmap(block.v, t));
    if (block.scale) wrap.append(el("div", "scale", "values " + scaleText(block.scale)));
    return wrap;
  }

  /* The gradient beside its estimate, the walk-throughs' two columns. */
  function gradView(t) {
    const g = t.grad, wrap = el("div");
    const tb = el("table", "num pair");
    tb.dataset.scale = String(g.scale);
    if (tableFits(t)) {
      const head = el("tr");
      head.append(el("th", null, "autograd"));
      for (let c = 1; c < t.cols; c++) head.append(el("th"));
      if (g.n) {
        head.append(el("th", "gap"), el("th", null, "numeric"));
        for (let c = 1; c < t.cols; c++) head.append(el("th"));
      }
      tb.append(head);
      for (let r = 0; r < t.rows; r++) {
        if (t.prow < t.rows && r % t.prow === 0) {
          const h = el("tr", null, el("th", null, "[" + r / t.prow + "]"));
          h.firstChild.style.textAlign = "left";
          tb.append(h);
        }
        const tr = el("tr");
        for (let c = 0; c < t.cols; c++) tr.append(el("td", "a", g.a[r * t.cols + c]));
        if (g.n) {
          tr.append(el("td", "gap"));
          for (let c = 0; c < t.cols; c++) {
            const k = r * t.cols + c, td = el("td", "n", g.n[k]);
            if (g.n[k] !== g.a[k]) td.title = "autograd " + g.a[k];
            if (g.bad.includes(k)) td.classList.add("diff-bad");
            tr.append(td);
          }
        }
        tb.append(tr);
      }
      wrap.append(tb);
    } else {
      wrap.append(el("div", null, "autograd"), heatmap(g.a, t));
      if (g.n) wrap.append(el("div", null, "numeric"), heatmap(g.n, t));
    }
    wrap.append(el("div", "scale pair-scale", g.scale ? "both " + scaleText(g.scale) : ""));
    if (g.n) {
      wrap.append(el("div", "verdict " + (g.agree ? "ok" : "bad"),
                     g.verdict + " (max |autograd \u2212 numeric| " + g.diff + ")"));
      wrap.append(el("div", "words", "numeric: " + g.how));
    } else if (t.no_numeric) {
      wrap.append(el("div", "words", t.no_numeric));
    }
    return wrap;
  }

  /* before + part = after for one input of one step (numbers or norms). */
  function partView(t, d) {
    if (!d.sent) {
      return el("div", "sums", d.acc ? "norm before " + d.before_norm + ", after " + d.after_norm
                                     : "norm " + d.after_norm);
    }
    const tab = (v, what) => el("div", null, el("div", "scale", what),
                                tableFits(t) ? numTable(v, t.rows, t.cols, t.prow) : heatmap(v, t));
    const box = el("div", "sums");
    if (d.acc) box.append(tab(d.before, "what it had"), el("span", "op", "+"),
                          tab(d.sent, "this step's part"), el("span", "op", "="),
                          tab(d.after, "its gradient now"));
    else box.append(tab(d.sent, "this step's part"));
    const wrap = el("div", null, box);
    if (d.scale) wrap.append(el("div", "scale", scaleText(d.scale)));
    return wrap;
  }

  /* ---- the legend and the limits ---- */
  function legend() {
    const L = document.getElementById("legend");
    const sw = (bg, border, text) => {
      const s = el("span", "sw");
      s.style.background = bg;
      if (border) s.style.border = "3px solid " + border;
      return el("span", null, s, text);
    };
    L.append(sw("#9ecae1", null, "parameter"), sw("#fff", null, "made by an op"),
             sw("#eee", null, "faded: no gradient yet"),
             sw("#fdd49e", null, "part of its gradient has arrived"),
             sw("#a1d99b", null, "its gradient is whole"),
             sw("#e5f5e0", null, "passed on by its op's backward"),
             sw("#fff", "#e6550d", "just received a part"),
             sw("#fff", "#3f007d", "the op whose backward ran"),
             el("span", null, "orange arrows: the gradient just sent, against the arrow"));
    const lim = data.limits, shown = T.filter((t) => !t.whole);
    const f = document.getElementById("limits");
    f.append("This page: " + T.length + " tensors and " + N + " backward steps, loss " +
             data.loss + ".  Limits: a graph of at most " + lim.tensors +
             " tensors; a tensor of at most " + lim.whole + " elements shown whole, and at most " +
             lim.numbers + " numbers in all (past either, a tensor is shown by its norms); at most " +
             lim.nudges + " elements estimated by running the forward again.");
    if (shown.length) f.append("  Shown by norms: " + shown.map((t) => label(T.indexOf(t))).join(", ") + ".");
  }

  /* ---- the graph ---- */
  const boxes = {}, edges = {};
  document.querySelectorAll("#graph g.node").forEach((g) => {
    const title = g.querySelector("title"), id = Number(title.textContent.slice(1));
    boxes[id] = g;
    g.dataset.id = String(id);
    title.textContent = label(id);
    g.addEventListener("click", () => select(id));
  });
  document.querySelectorAll("#graph g.edge").forEach((g) => {
    edges[g.querySelector("title").textContent] = g;
  });
  /* The picture's own heading is hidden (this page explains itself): crop it away. */
  (function crop() {
    const svg = document.querySelector("#graph svg"), g = svg && svg.querySelector("g.graph");
    if (!g || !g.transform.baseVal.numberOfItems) return;
    const m = g.transform.baseVal.consolidate().matrix;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    g.querySelectorAll("g.node, g.edge").forEach((e) => {
      const b = e.getBBox();
      x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y);
      x1 = Math.max(x1, b.x + b.width); y1 = Math.max(y1, b.y + b.height);
    });
    if (!isFinite(x0)) return;
    const pad = 6, w = x1 - x0 + 2 * pad, h = y1 - y0 + 2 * pad;
    svg.setAttribute("viewBox", `${x0 + m.e - pad} ${y0 + m.f - pad} ${w} ${h}`);
    /* Drawn at its size (points), or smaller to fit the pane's width, and its
     * height too when that keeps 70% of the size; a taller graph scrolls. */
    const pane = document.getElementById("graph");
    const wide = (pane.clientWidth - 16) / (w * 4 / 3), tall = (pane.clientHeight - 16) / (h * 4 / 3);
    const scale = Math.min(1, wide, Math.max(0.7, tall));
    svg.setAttribute("width", w * scale + "pt");
    svg.setAttribute("height", h * scale + "pt");
  })();

  /* The boxes of the step shown, scrolled into the graph's pane if they are not in it. */
  function reveal(ids) {
    const pane = document.getElementById("graph"), p = pane.getBoundingClientRect();
    for (const id of ids) {
      const g = boxes[id];
      if (!g) continue;
      const r = g.getBoundingClientRect();
      if (r.top < p.top || r.bottom > p.bottom || r.left < p.left || r.right > p.right) {
        pane.scrollTop += r.top - p.top - p.height / 2 + r.height / 2;
        pane.scrollLeft += r.left - p.left - p.width / 2 + r.width / 2;
        return;
      }
    }
  }

  /* ---- stepping ---- */
  let k = 0, selected = null;

  /* A tensor's state once k steps have run. */
  function stateOf(id) {
    const t = T[id];
    if (id === ROOT) return t.step >= 0 && t.step < k ? "used" : "ready";
    const arr = arrivals[id], got = arr.filter((a) => a.step < k).length;
    if (!arr.length) return "none";
    if (!got) return "waiting";
    if (got < arr.length) return "partial";
    return t.step >= 0 && t.step < k ? "used" : "ready";
  }

  function paint() {
    const st = k ? S[k - 1] : null;
    const arrived = new Set(st ? st.sent.map((d) => d.to) : [ROOT]);
    for (const id in boxes) {
      const g = boxes[id], n = Number(id);
      g.setAttribute("class", "node st-" + stateOf(n) + (arrived.has(n) ? " arrived" : "") +
                     (st && st.t === n ? " running" : "") + (selected === n ? " selected" : ""));
    }
    for (const name in edges) edges[name].setAttribute("class", "edge");
    if (st) st.sent.forEach((d) => {
      const e = edges["t" + d.to + "->t" + st.t];
      if (e) e.setAttribute("class", "edge flow");
    });
    return st ? [st.t, ...st.sent.map((d) => d.to)] : [ROOT];
  }

  const stepper = document.getElementById("stepper");
  const buttons = {};
  const stepLabel = el("span", null);
  stepLabel.id = "step-label";
  const stepText = el("div");
  stepText.id = "step-text";
  (function controls() {
    const bar = el("div", "controls");
    for (const [id, text, to] of [["first", "\u00ab Start", () => 0], ["prev", "\u25c0 Back", () => k - 1],
                                  ["next", "Step \u25b6", () => k + 1], ["last", "End \u00bb", () => N]]) {
      const b = el("button", null, text);
      b.id = id;
      b.addEventListener("click", () => go(to()));
      buttons[id] = b;
      bar.append(b);
    }
    bar.append(stepLabel);
    stepper.append(bar, stepText);
  })();

  function go(to) {
    k = Math.max(0, Math.min(N, to));
    buttons.first.disabled = buttons.prev.disabled = k === 0;
    buttons.next.disabled = buttons.last.disabled = k === N;
    stepLabel.textContent = "Step " + k + " of " + N;
    describeStep();
    reveal(paint());       /* the details of the box clicked do not change with the step */
  }

  function describeStep() {
    stepText.replaceChildren();
    if (!k) {
      stepText.append(el("p", null, "The start: the engine seeds the gradient of ", link(ROOT),
                         " with d " + label(ROOT) + " / d " + label(ROOT) +
                         " = 1.  No other tensor has a gradient yet.  Each step runs one op's " +
                         "backward, in the order the engine walks the graph: an op runs once " +
                         "every consumer of its output has sent its part."));
      return;
    }
    const st = S[k - 1], y = T[st.t];
    stepText.append(el("p", null, y.op + "'s backward runs on the gradient of ", link(st.t),
                       ", now whole (norm " + y.grad_norm + "):"),
                    el("div", "formula", "forward ", code(y.forward)),
                    el("div", "formula", "backward ", code(y.backward)),
                    el("div", "words", y.words));
    if (!st.sent.length) stepText.append(el("p", "hint", "None of its inputs needs a gradient."));
    for (const d of st.sent) {
      const x = T[d.to], arr = arrivals[d.to];
      const pos = arr.findIndex((a) => a.step === k - 1);
      const left = arr.length - pos - 1;
      let what;
      if (d.acc && pos > 0) {
        const prev = arr[pos - 1].step;
        what = "adds to what it had from step " + (prev + 1) + " (" + T[S[prev].t].op + " of " +
               label(S[prev].t) + "): before + this part = now";
      } else if (d.acc) {
        what = "adds to the gradient it held before this backward";
      } else {
        what = "its first part";
      }
      const part = el("div", "part" + (d.acc ? " acc" : ""),
                      el("div", null, "\u2192 ", link(d.to), ": " + what + "; " +
                         (left ? left + " more part" + (left > 1 ? "s" : "") + " to come"
                               : "its gradient is whole now") + "."));
      if (x.note && x.note.formula) part.append(el("div", "formula", code(x.note.formula)));
      part.append(partView(x, d));
      stepText.append(part);
    }
  }

  /* ---- the details of one tensor ---- */
  const detail = document.getElementById("detail");

  function select(id) {
    selected = id;
    const t = T[id];
    detail.replaceChildren();
    detail.dataset.id = String(id);
    detail.append(el("h2", null, t.name || "(no name)"),
                  el("p", "sub", t.shape + " \u00b7 " + kindText(t)));
    if (t.op) {
      const ins = el("div", null, "inputs: ");
      t.inputs.forEach((i, n) => { if (n) ins.append(", "); ins.append(i >= 0 ? link(i) : "none"); });
      detail.append(el("div", "formula", "forward ", code(t.forward)), ins);
    }
    detail.append(el("h3", null, "Forward value"));
    detail.append(t.value ? valueView(t, t.value) : el("p", null, "norm " + t.value_norm +
                  " (" + t.numel + " elements: shown by its norm)"));
    if (t.softmax) softmaxView(id);
    detail.append(el("h3", null, "Gradient d " + label(ROOT) + " / d " + label(id)));
    if (t.grad) detail.append(gradView(t));
    else if (t.grad_norm !== null) detail.append(el("p", null, "norm " + t.grad_norm + " (shown by its norm)"));
    else detail.append(el("p", null, "none: nothing on the way to the loss needs it."));
    if (t.note) {
      const n = el("div", "note");
      if (t.note.formula) n.append(el("div", "formula", code(t.note.formula)));
      if (t.note.why) n.append(el("div", "words", t.note.why));
      detail.append(n);
    }
    madeFrom(id);
    if (t.op) {
      detail.append(el("h3", null, "What its op's backward does with it"),
                    el("div", "formula", code(t.backward)), el("div", "words", t.words));
      if (t.step >= 0) {
        const to = S[t.step].sent.map((d) => d.to);
        const p = el("p", null, "It ran at step " + (t.step + 1) + (to.length ? ", sending parts to " : "."));
        to.forEach((i, n) => { if (n) p.append(", "); p.append(link(i)); });
        detail.append(p);
      }
    }
    paint();
    /* The details in view: under a tall step box they would open out of sight. */
    const side = document.getElementById("side"), s = side.getBoundingClientRect();
    const top = detail.getBoundingClientRect().top;
    if (top < s.top || top > s.top + s.height / 3) side.scrollTop += top - s.top;
  }

  /* The parts its gradient was built from: one per consumer. */
  function madeFrom(id) {
    const t = T[id], arr = arrivals[id];
    detail.append(el("h3", null, "How its gradient was made"));
    if (id === ROOT) {
      detail.append(el("p", null, "It is the loss: the backward starts from d loss / d loss = 1."));
      return;
    }
    if (!arr.length) {
      detail.append(el("p", null, t.kind === "input" ? "It is an input that needs no gradient."
                                                      : "No gradient reached it."));
      return;
    }
    detail.append(el("p", null, arr.length > 1
      ? "It was used " + arr.length + " times: each consumer's backward sent a part, and the parts add."
      : "Its one consumer's backward sent it whole."));
    for (const a of arr) {
      const st = S[a.step], d = st.sent[a.i], y = T[st.t];
      const box = el("div", "part" + (d.acc ? " acc" : ""),
                     el("div", null, "step " + (a.step + 1) + ": " + y.op + " of ", link(st.t),
                        " (from its gradient, norm " + y.grad_norm + "): ", code(y.backward)));
      box.append(partView(t, d));
      detail.append(box);
    }
  }

  /* A softmax's weights as a heatmap (masked places hatched); a row's
   * Jacobian product on click. */
  function softmaxView(id) {
    const t = T[id], sm = t.softmax, zero = new Set(sm.zero);
    const explain = el("div", "explain");
    detail.append(el("h3", null, "The weights, row by row" + (zero.size ? " (hatched: masked, weight 0)" : "")),
                  el("p", "hint", "Click a row for its softmax Jacobian product, with that row's numbers."));
    const pick = (r, tr) => {
      detail.querySelectorAll("tr.picked").forEach((e) => e.classList.remove("picked"));
      tr.classList.add("picked");
      explainRow(id, r, explain);
    };
    const map = heatmap(t.value.v, t, {zero, onRow: pick});
    detail.append(map, explain);
    const r = telling(t.rows, t.cols, zero);
    pick(r, map.querySelectorAll("tr.rowpick")[r]);
  }

  /* The row explained first: one with a masked place and two weights that
   * share the gradient, else one with two weights (a causal mask's row 0
   * has one weight, 1, and sends back nothing: a poor first example). */
  function telling(rows, cols, zero) {
    let plain = -1;
    for (let r = 0; r < rows; r++) {
      let masked = 0;
      for (let j = 0; j < cols; j++) masked += zero.has(r * cols + j) ? 1 : 0;
      if (cols - masked < 2) continue;
      if (masked) return r;
      if (plain < 0) plain = r;
    }
    return Math.max(plain, 0);
  }

  function explainRow(id, r, box) {
    const t = T[id], sm = t.softmax, c = t.cols, row = (v) => v.slice(r * c, (r + 1) * c);
    const line = (what, v, scale) => {
      const tr = el("tr", null, el("th", null, what));
      v.forEach((s) => tr.append(el("td", null, s)));
      tr.append(el("th", null, scaleText(scale)));
      return tr;
    };
    const masked = row([...Array(t.numel).keys()]).filter((k) => sm.zero.includes(k));
    /* tensor_causal_softmax (nn's attention) masks, scales and softmaxes in one op: what it
     * sends back to the scores is also divided by the scale d it applied. */
    const fused = t.forward.includes("/ d");
    box.replaceChildren(
      el("div", null, "Row " + r + " of ", link(id), ": the weights w sum to 1; the gradient " +
         "arriving is dw.  Softmax's Jacobian on this row is J = diag(w) \u2212 w w\u1d40, " +
         "J[j][k] = w_j (\u03b4_jk \u2212 w_k); the backward computes J dw without building J: " +
         "s = \u03a3_k w_k dw_k, then w_j (dw_j \u2212 s)" +
         (fused ? ", divided by the scale d this op applied in its forward (it masks, scales " +
                  "and softmaxes in one)." : ".")),
      el("table", "num", line("w", row(t.value.v), t.value.scale),
         line("dw", row(t.grad.a), t.grad.scale),
         line("dw \u2212 s", row(sm.dms), sm.gscale),
         line("w (dw \u2212 s)", row(sm.prod), sm.pscale),
         line("sent to " + label(sm.input) + (fused ? " (\u00f7 d)" : ""), row(sm.ds), sm.pscale)),
      el("div", null, "s = " + sm.s[r] + (sm.gscale ? " " + scaleText(sm.gscale) : "") +
         ": the row's weighted mean of dw, subtracted so that the gradient of the scores sums " +
         "to 0 along the row (adding a constant to every score changes no weight)."));
    if (masked.length)
      box.append(el("div", null, masked.length + " masked place" + (masked.length > 1 ? "s" : "") +
                    " (weight 0): w_j = 0 makes w_j (dw_j \u2212 s) = 0, so no gradient reaches a " +
                    "future token's score."));
    if (sm.jac) {
      const J = sm.jac.v.slice(r * c * c, (r + 1) * c * c);
      box.append(el("div", null, "J for this row" + (sm.jac.scale ? " (" + scaleText(sm.jac.scale) + ")" : "") + ":"),
                 numTable(J, c, c));
    }
  }

  legend();
  go(0);
  detail.append(el("p", "hint", "Click a box in the graph to see its value and gradient."));
  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") go(k + 1);
    else if (e.key === "ArrowLeft") go(k - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(N);
    else return;
    e.preventDefault();
  });
})();
