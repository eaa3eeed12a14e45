// The console's one script. The pages read fully without it; with it,
// times are shown in the reader's time zone, identifiers can be copied,
// the home page's throughput is live, a file dropped on the search page
// is looked up by its digest, and every fact that carries a check is
// checked here, in the browser, by the verify package compiled to
// WebAssembly (verify.wasm).
"use strict";

(function () {
  const fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });

  function localTime(t) {
    const d = new Date(t.getAttribute("datetime"));
    if (isNaN(d)) return;
    t.title = t.textContent; // the UTC form
    t.textContent = fmt.format(d);
  }

  function timeElement(iso) {
    const t = document.createElement("time");
    t.setAttribute("datetime", iso);
    t.textContent = iso;
    localTime(t);
    return t;
  }

  function copyButtons() {
    for (const b of document.querySelectorAll("button.copy")) {
      b.hidden = false;
      b.setAttribute("aria-label", "Copy " + b.dataset.copy);
      b.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(b.dataset.copy);
          b.textContent = "Copied";
        } catch (e) {
          b.textContent = "Copy failed";
        }
        setTimeout(() => { b.textContent = "Copy"; }, 2000);
      });
    }
  }

  // The verifier, loaded once.
  let verifier = null;
  function loadVerifier() {
    if (!verifier) {
      verifier = new Promise((resolve, reject) => {
        globalThis.agoraVerifyReady = () => resolve(globalThis.agoraVerify);
        const go = new Go();
        WebAssembly.instantiateStreaming(fetch("/assets/verify.wasm"), go.importObject)
          .then((r) => go.run(r.instance))
          .catch(reject);
      });
    }
    return verifier;
  }

  // trust returns what the browser trusts: a network's validator set, or
  // else the ledger's key, as the node stated it on the reader's first
  // visit to this ledger (kept in localStorage), and whether the node now
  // states another.
  function pinned(slot, served) {
    let kept = null;
    try { kept = localStorage.getItem(slot); } catch (e) { /* storage off */ }
    if (!kept && served) {
      try { localStorage.setItem(slot, served); } catch (e) { /* storage off */ }
      kept = served;
    }
    return { kept: kept, changed: !!(kept && served && kept !== served) };
  }

  function trust() {
    const meta = (name) => document.querySelector('meta[name="' + name + '"]').content;
    const chain = meta("agora-chain");
    const vs = pinned("agora-validators:" + chain, meta("agora-validators"));
    if (vs.kept) {
      // A set governance changed since is no alarm: the set kept still
      // vouches for checkpoints while more than two thirds of its power
      // signs them, as a light client follows a network.
      return { json: JSON.stringify({ validators: JSON.parse(vs.kept) }), changed: false, what: "validator set" };
    }
    const key = pinned("agora-log-key:" + chain, meta("agora-log-key"));
    return { json: key.kept ? JSON.stringify({ log_key: key.kept }) : null, changed: key.changed, what: "key" };
  }

  function say(box, cls, parts) {
    box.classList.remove("busy", "ok", "bad");
    box.classList.add(cls);
    const p = document.createElement("p");
    for (const part of parts) p.append(part);
    box.replaceChildren(p);
  }

  function strong(s) {
    const e = document.createElement("strong");
    e.textContent = s;
    return e;
  }

  function fail(box, what, why) {
    say(box, "bad", [strong("✗ The check failed. "),
      "Your browser could not confirm " + what + ": " + why + ". " +
      "This means that this node, or something between it and you, shows something the ledger's signed checkpoint does not say. " +
      "Do not rely on it; ask another node."]);
    box.dataset.result = "failed";
  }

  // changed marks a check whose fact the ledger changed after the page
  // was made: the proof is of a later block, where it reads otherwise.
  // That is no failure, and nothing checked: checks reloads the page once.
  function changed(box, what, made, now) {
    say(box, "busy", [strong("⟳ Changed since this page was made. "),
      what[0].toUpperCase() + what.slice(1) + " changed after block " + made.toLocaleString("en") +
      ", when this page was made; the ledger is at block " + now.toLocaleString("en") +
      " now. Reload the page to see it as it is now, and check it."]);
    box.dataset.changed = "yes";
  }

  async function runCheck(box, v, t) {
    const what = box.dataset.what;
    if (!t.json) return fail(box, what, "this node states no key to check against");
    if (t.changed) return fail(box, what, "the ledger's " + t.what + " is not the one your browser saw on your first visit");
    let trustJSON = t.json;
    if (box.dataset.witnesses) {
      const tr = JSON.parse(trustJSON);
      tr.witnesses = box.dataset.witnesses.split(" ");
      trustJSON = JSON.stringify(tr);
    }
    const kind = box.dataset.kind;
    const path = box.dataset.path;
    const url = kind === "checkpoint" ? path : path + (path.includes("?") ? "&" : "?") + "proof=1";
    let body;
    try {
      body = await (await fetch(url)).text();
    } catch (e) {
      return fail(box, what, "the proof could not be fetched");
    }
    let r;
    if (kind === "answer") {
      r = JSON.parse(v.answer(path, body, trustJSON, Date.now()));
      if (r.ok && (r.digest || "") !== box.dataset.digest) {
        const made = Number(document.querySelector('meta[name="agora-height"]').content);
        if (r.height > made) return changed(box, what, made, r.height);
        return fail(box, what, "the page shows something other than what is proven");
      }
    } else if (kind === "tx") {
      // The digest is what the page shows of the transaction (a
      // wire.TxClaim), which the verifier checks against the proof.
      r = JSON.parse(v.tx(body, trustJSON, box.dataset.digest, Date.now()));
    } else {
      r = JSON.parse(v.checkpoint(body, trustJSON, Date.now()));
    }
    if (!r.ok) {
      if (r.stale) return fail(box, what, "the newest checkpoint this node shows is more than ten minutes old, so the page may show the past");
      return fail(box, what, r.error);
    }
    const link = document.createElement("a");
    link.href = "/glossary#checked-in-your-browser";
    link.textContent = "Checked in your browser";
    const block = "block " + r.height.toLocaleString("en");
    const fact = kind === "checkpoint" ? "It is the ledger's checkpoint at " + block
      : kind === "tx" ? "It is in the ledger's log as of " + block
      : "It is in the ledger's state at " + block;
    const parts = [strong("✓ "), link, ": " + what + ". " + fact + ", " + (r.signers || "signed")];
    if (r.time) parts.push(", made ", timeElement(r.time));
    parts.push(".");
    say(box, "ok", parts);
    box.dataset.result = "checked";
  }

  async function checks() {
    const boxes = document.querySelectorAll(".check");
    if (!boxes.length) return;
    for (const b of boxes) {
      say(b, "busy", [strong("Checking… "), "your browser is checking " + b.dataset.what + "."]);
    }
    let v;
    try {
      v = await loadVerifier();
    } catch (e) {
      for (const b of boxes) fail(b, b.dataset.what, "the verifier did not load");
      return;
    }
    const t = trust();
    for (const b of boxes) {
      try {
        await runCheck(b, v, t);
      } catch (e) {
        fail(b, b.dataset.what, String(e));
      }
    }
    // A page made just before the ledger changed what it shows is made
    // again, once; if it changes again meanwhile, the reader is told.
    const slot = "agora-reloaded:" + location.href;
    const stale = [...boxes].filter((b) => b.dataset.changed);
    let reloaded = false;
    try { reloaded = sessionStorage.getItem(slot) !== null; } catch (e) { reloaded = true; }
    if (stale.length && !reloaded) {
      try { sessionStorage.setItem(slot, "1"); } catch (e) { /* storage off */ }
      location.reload();
      return;
    }
    try { sessionStorage.removeItem(slot); } catch (e) { /* storage off */ }
    for (const b of stale) b.dataset.result = "changed";
  }

  // The home page's throughput: transactions committed per second, from
  // the log's growth between two looks at the node.
  function throughput() {
    const out = document.getElementById("throughput");
    if (!out) return;
    let size = Number(out.dataset.logSize);
    let at = Date.now();
    setInterval(async () => {
      try {
        const info = await (await fetch("/v1/node/info")).json();
        const now = Date.now();
        const rate = (info.log_size - size) / ((now - at) / 1000);
        size = info.log_size;
        at = now;
        out.dataset.logSize = size;
        out.textContent = rate.toFixed(1) + " transactions a second";
      } catch (e) { /* the next look may answer */ }
    }, 3000);
  }

  // The search page's file box: the file's SHA-256, computed here, is
  // searched for; the file is not sent.
  function dropZone() {
    const zone = document.getElementById("drop");
    if (!zone) return;
    const input = document.getElementById("file");
    input.hidden = false;
    for (const e of zone.querySelectorAll(".nojs")) e.hidden = true;
    async function lookUp(file) {
      const v = await loadVerifier();
      const bytes = new Uint8Array(await file.arrayBuffer());
      location.href = "/search?q=" + v.sha256(bytes);
    }
    input.addEventListener("change", () => { if (input.files.length) lookUp(input.files[0]); });
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      if (e.dataTransfer.files.length) lookUp(e.dataTransfer.files[0]);
    });
  }

  function start() {
    for (const t of document.querySelectorAll("time[datetime]")) localTime(t);
    copyButtons();
    throughput();
    dropZone();
    checks();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
