/*! cxloop digital body language tracker. Apache-2.0. Wire format: docs/digital-signals.md
 * Records behaviour only: never field values, never page text. */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  if (!me || w.__cxloopTracker) return;
  w.__cxloopTracker = 1;

  var SITE = me.getAttribute("data-site-key") || "";
  var END = me.getAttribute("data-endpoint") || new URL("/collect", me.src).href;
  var NEED_CONSENT = me.hasAttribute("data-require-consent");
  var KEEP_QUERY = me.getAttribute("data-keep-query") === "true";
  var FLUSH_MS = 3000, IDLE_MS = 1800000, MOVE_MS = 50, SCROLL_MS = 250, RESIZE_MS = 250;
  var MUT_MS = 1000, INPUT_MS = 1000, MAX_BUF = 200, MAX_PEND = 10;
  var K_SESS = "cxl_s", K_CUST = "cxl_c", K_CONSENT = "cxl_consent";
  var INTERACTIVE = "a[href],button,summary,[role=button],[role=link],[role=tab],"
    + "[role=menuitem],[role=checkbox],[role=switch],[onclick]";
  var INPUTS = "input,select,textarea,option,label";

  var on = false, buf = [], pend = [], S = null, cust = null, lastUrl = null, orient = null;
  var moveAt = 0, scrollAt = 0, scrollT = 0, resizeT = 0, mutT = 0, watching = false;
  var fieldEl = null, fieldInputAt = 0;

  function store(kind) {
    try { return w[kind]; } catch (e) { return null; }
  }
  var ss = store("sessionStorage"), ls = store("localStorage");
  function get(st, k) {
    try { return st ? st.getItem(k) : null; } catch (e) { return null; }
  }
  function put(st, k, v) {
    try { if (st) v === null ? st.removeItem(k) : st.setItem(k, v); } catch (e) { /* full */ }
  }

  function rid() {
    var a = new Uint8Array(16), s = "", i;
    w.crypto.getRandomValues(a);
    for (i = 0; i < 16; i++) s += (a[i] + 256).toString(16).slice(1);
    return s;
  }

  // Query strings often carry e-mails and tokens, so they are dropped unless the site opts in.
  function clean(u) {
    if (!u) return "";
    try {
      var x = new URL(u, location.href);
      if (!KEEP_QUERY) x.search = "";
      return x.href.slice(0, 2048);
    } catch (e) { return ""; }
  }
  function here() { return clean(location.href); }

  function esc(s) { return w.CSS && CSS.escape ? CSS.escape(s) : s.replace(/[^\w-]/g, "\\$&"); }
  function sel(el) {
    var parts = [], n, t, p, i, sib, same;
    for (n = 0; el && el.nodeType === 1 && n < 5; n++) {
      t = el.tagName.toLowerCase();
      // Generated ids (React ":r1:", "ember123") change between builds; skip them.
      if (el.id && !/\d{3,}|:/.test(el.id)) { parts.unshift(t + "#" + esc(el.id)); break; }
      p = t;
      if (el.classList && el.classList.length) {
        p += "." + Array.prototype.slice.call(el.classList, 0, 2).map(esc).join(".");
      }
      i = 1; same = false;
      for (sib = el.previousElementSibling; sib; sib = sib.previousElementSibling) {
        if (sib.tagName === el.tagName) i++;
      }
      for (sib = el.nextElementSibling; sib && !same; sib = sib.nextElementSibling) {
        same = sib.tagName === el.tagName;
      }
      if (i > 1 || same) p += ":nth-of-type(" + i + ")";
      parts.unshift(p);
      if (t === "body") break;
      el = el.parentElement;
    }
    return parts.join(">").slice(0, 500);
  }

  function loadSession() {
    try { S = JSON.parse(get(ss, K_SESS) || "null"); } catch (e) { S = null; }
    if (!S || typeof S.id !== "string" || typeof S.seq !== "number") S = null;
  }
  function saveSession() { if (on && S) put(ss, K_SESS, JSON.stringify(S)); }

  function pageFields(nav) {
    var de = d.documentElement;
    return {
      nav: nav, ref: clean(lastUrl || d.referrer), vw: w.innerWidth, vh: w.innerHeight,
      dh: Math.max(de.scrollHeight, d.body ? d.body.scrollHeight : 0)
    };
  }

  function rec(type, o) {
    if (!on) return;
    var now = Date.now();
    if (!S || now - S.last > IDLE_MS) {
      // A new session must start on a page view so detectors know where the user is.
      flush(false);
      S = { id: rid(), seq: 0, last: now };
      if (type !== "pageview") push("pageview", pageFields("resume"), now);
      push(type, o || {}, now);
      saveSession();
    } else push(type, o || {}, now);
    if (buf.length >= MAX_BUF) flush(false);
  }
  function push(type, o, now) {
    o.type = type; o.ts = now; o.seq = S.seq++; o.url = here();
    S.last = now;
    buf.push(o);
  }

  function pageview(nav) {
    var u = here();
    if (u === lastUrl && nav !== "load" && nav !== "reload" && nav !== "back_forward") return;
    rec("pageview", pageFields(nav));
    lastUrl = u;
    orient = w.innerWidth >= w.innerHeight ? "landscape" : "portrait";
  }

  function flush(beacon) {
    if (buf.length && S) {
      pend.push(JSON.stringify({
        v: 1, site_key: SITE, session_id: S.id, batch_id: rid(), customer_id: cust,
        sent_at: Date.now(), events: buf
      }));
      buf = [];
      saveSession();
    }
    var out = pend;
    pend = [];
    out.forEach(function (body) { send(body, beacon); });
  }
  // text/plain keeps the POST a CORS "simple request": no preflight, and sendBeacon-compatible.
  function send(body, beacon) {
    if (beacon && navigator.sendBeacon && navigator.sendBeacon(END, body)) return;
    if (!w.fetch) return;
    try {
      fetch(END, {
        method: "POST", body: body, keepalive: true, mode: "no-cors", credentials: "omit",
        headers: { "Content-Type": "text/plain" }
      }).catch(function () { retry(body); });
    } catch (e) { retry(body); }
  }
  // A resend keeps its batch_id, so the collector can drop the duplicate if both arrive.
  function retry(body) { if (pend.length < MAX_PEND) pend.push(body); }

  function start() {
    if (on) return;
    on = true;
    loadSession();
    cust = cust || get(ls, K_CUST);
    if (cust) put(ls, K_CUST, cust);
    var nav = "load", nt = w.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation")[0] : null;
    if (nt && (nt.type === "reload" || nt.type === "back_forward")) nav = nt.type;
    pageview(nav);
  }
  function stop() {
    on = false; buf = []; pend = []; S = null; cust = null;
    put(ss, K_SESS, null); put(ls, K_CUST, null);
  }

  function opt(cap) { return { capture: cap, passive: true }; }
  function listen(target, name, fn, cap) { target.addEventListener(name, fn, opt(!!cap)); }

  listen(d, "click", function (e) {
    var t = e.target && e.target.nodeType === 1 ? e.target : null;
    if (!on || !t) return;
    var el = t.closest(INTERACTIVE) || t, kind = "other";
    if (t.closest(INPUTS) || t.isContentEditable) kind = "input";
    else if (el !== t || el.matches(INTERACTIVE) || getComputedStyle(t).cursor === "pointer") {
      kind = "clickable";
    }
    rec("click", {
      x: Math.round(e.pageX), y: Math.round(e.pageY), sel: sel(el),
      tag: el.tagName.toLowerCase().slice(0, 32), kind: kind,
      pt: e.pointerType === "mouse" || e.pointerType === "touch" || e.pointerType === "pen"
        ? e.pointerType : ""
    });
    watchMutations();
  }, true);

  // Whether the page reacted to a click is a yes/no signal; what changed is never read.
  var mo = w.MutationObserver ? new MutationObserver(function () {
    if (!watching) return;
    stopWatching();
    rec("mutation");
  }) : null;
  function watchMutations() {
    if (!mo) return;
    stopWatching();
    watching = true;
    mo.observe(d.documentElement, { childList: true, subtree: true, attributes: true,
      characterData: true });
    mutT = setTimeout(stopWatching, MUT_MS);
  }
  function stopWatching() { watching = false; clearTimeout(mutT); mo.disconnect(); }

  listen(d, "mousemove", function (e) {
    var now = Date.now();
    if (!on || now - moveAt < MOVE_MS) return;
    moveAt = now;
    rec("move", { x: Math.round(e.pageX), y: Math.round(e.pageY) });
  });

  function recScroll() {
    scrollAt = Date.now(); scrollT = 0;
    var de = d.documentElement;
    rec("scroll", { y: Math.round(w.scrollY), vh: w.innerHeight,
      dh: Math.max(de.scrollHeight, d.body ? d.body.scrollHeight : 0) });
  }
  listen(w, "scroll", function () {
    var wait = SCROLL_MS - (Date.now() - scrollAt);
    if (!on || scrollT) return;
    if (wait <= 0) recScroll(); else scrollT = setTimeout(recScroll, wait);
  });

  function onResize() {
    resizeT = 0;
    var vw = w.innerWidth, vh = w.innerHeight, o = vw >= vh ? "landscape" : "portrait";
    rec("resize", { w: vw, h: vh });
    if (orient && o !== orient) rec("orientation", { o: o, w: vw, h: vh });
    orient = o;
  }
  function resized() { clearTimeout(resizeT); resizeT = setTimeout(onResize, RESIZE_MS); }
  listen(w, "resize", resized);
  if (w.screen && screen.orientation) listen(screen.orientation, "change", resized);

  listen(d, "visibilitychange", function () {
    rec("visibility", { state: d.visibilityState === "hidden" ? "hidden" : "visible" });
    // Mobile browsers often skip pagehide; hidden is the last reliable moment to send.
    if (d.visibilityState === "hidden") flush(true);
  });
  listen(w, "focus", function () { rec("focus", { state: "focus" }); });
  listen(w, "blur", function () { rec("focus", { state: "blur" }); });

  listen(w, "error", function (e) {
    if (!e || !("message" in e)) return;
    var err = e.error, name = err && err.name ? String(err.name) : "Error";
    rec("error", { name: name.slice(0, 64), src: clean(e.filename), line: e.lineno || 0,
      col: e.colno || 0 });
  });
  listen(w, "unhandledrejection", function (e) {
    var r = e && e.reason, name = r && r.name ? String(r.name) : "UnhandledRejection";
    rec("error", { name: name.slice(0, 64), src: "", line: 0, col: 0 });
  });

  function field(t) {
    if (!t || t.nodeType !== 1) return null;
    return t.matches("input,select,textarea") || t.isContentEditable ? t : null;
  }
  function fieldRec(type, t) {
    rec(type, { sel: sel(t), form: t.form ? sel(t.form) : "",
      kind: String(t.type || t.tagName.toLowerCase()).slice(0, 32) });
  }
  listen(d, "focusin", function (e) {
    var t = field(e.target);
    if (!on || !t) return;
    fieldEl = t; fieldInputAt = 0;
    fieldRec("field_focus", t);
  }, true);
  listen(d, "focusout", function (e) {
    var t = field(e.target);
    if (!on || !t) return;
    if (t === fieldEl) fieldEl = null;
    fieldRec("field_blur", t);
  }, true);
  // The first input after focus is exact (field hesitation); later ones are throttled.
  listen(d, "input", function (e) {
    var t = field(e.target), now = Date.now();
    if (!on || !t) return;
    if (t === fieldEl && fieldInputAt && now - fieldInputAt < INPUT_MS) return;
    fieldEl = t; fieldInputAt = now;
    fieldRec("field_input", t);
  }, true);
  listen(d, "submit", function (e) {
    if (on && e.target && e.target.nodeType === 1) rec("submit", { form: sel(e.target) });
  }, true);

  ["pushState", "replaceState"].forEach(function (m) {
    var orig = history[m];
    history[m] = function () {
      var r = orig.apply(this, arguments);
      pageview(m === "pushState" ? "push" : "replace");
      return r;
    };
  });
  listen(w, "popstate", function () { pageview("pop"); });
  listen(w, "hashchange", function () { pageview("pop"); });

  listen(w, "pagehide", function () {
    rec("pagehide");
    saveSession();
    flush(true);
  });
  // A page restored from the back/forward cache resumes with stale memory: reload the session.
  listen(w, "pageshow", function (e) {
    if (!e.persisted || !on) return;
    loadSession();
    pageview("back_forward");
  });

  setInterval(function () { if (on) flush(false); }, FLUSH_MS);

  var api = {
    identify: function (id) {
      cust = id === null || id === undefined ? null : String(id).slice(0, 128) || null;
      if (on) put(ls, K_CUST, cust);
    },
    consent: function (yes) {
      put(ls, K_CONSENT, yes ? "1" : "0");
      if (yes) start(); else stop();
    },
    flush: function () { flush(false); }
  };
  // Calls queued before the async script loaded, e.g. window.cxloop = [["identify", "c-1"]].
  var queued = w.cxloop;
  w.cxloop = api;
  if (!NEED_CONSENT || get(ls, K_CONSENT) === "1") start();
  if (queued && queued.length) {
    Array.prototype.forEach.call(queued, function (c) {
      if (c && api[c[0]]) api[c[0]].apply(api, Array.prototype.slice.call(c, 1));
    });
  }
})(window, document);
