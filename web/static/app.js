// Coldstart page behaviour. Everything works without this file; it adds
// in-place quiz feedback, the answer editor, live grading and live reload.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // ---- Inline quizzes -------------------------------------------------
  function quizChoice(form, index) {
    var input = form.querySelector('input[name="choice"][value="' + index + '"]');
    if (!input) return null;
    return input.closest("label") || input.closest("li") || input.parentNode;
  }
  // showQuiz marks what the server says to mark: before the answer is right
  // (or the tries are used up) only the student's own wrong choices, with
  // why they are wrong; afterwards every choice and its explanation.
  function showQuiz(form, res) {
    var fb = form.querySelector(".quiz-feedback");
    $all(".right, .wrong", form).forEach(function (n) { n.classList.remove("right", "wrong"); });
    $all(".explain", form).forEach(function (n) { n.remove(); });
    (res.choices || []).forEach(function (c) {
      var box = quizChoice(form, c.index);
      if (!box) return;
      if (c.correct) box.classList.add("right");
      if (c.wrong) box.classList.add("wrong");
      if (c.explanation) {
        var ex = el("div", "explain");
        ex.innerHTML = c.explanation; // server-rendered, trusted course HTML
        var label = c.correct ? "Right: " : c.wrong ? "Not this one: " : "";
        if (label) ex.insertBefore(el("strong", null, label), ex.firstChild);
        box.appendChild(ex);
      }
    });
    if (fb) {
      fb.innerHTML = "";
      fb.appendChild(el("span", res.correct ? "ok" : "bad", res.message || (res.correct ? "Right!" : "Not quite.")));
      if (res.later) fb.appendChild(el("span", "muted later", " " + res.later));
      if (res.note) fb.appendChild(el("span", "muted", " " + res.note));
    }
  }
  $all("form.quiz").forEach(function (form) {
    if (!form.querySelector('input[name="csrf"]')) {
      var h = el("input"); h.type = "hidden"; h.name = "csrf"; h.value = csrf; form.appendChild(h);
    }
    var tries = 0; // a visitor's tries; a signed-in student's are counted by the server
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var fb = form.querySelector(".quiz-feedback");
      if (!form.querySelector('input[name="choice"]:checked')) {
        if (fb) fb.textContent = "Choose an answer first.";
        return;
      }
      var data = new FormData(form);
      data.set("try", String(++tries));
      fetch(form.action, { method: "POST", body: data, headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
        .then(function (r) {
          if (!r.ok) { if (fb) fb.textContent = r.body.error || "The answer could not be sent."; return; }
          showQuiz(form, r.body);
        })
        .catch(function () { if (fb) fb.textContent = "The answer could not be sent; check your connection."; });
    });
  });
  var state = $("#quiz-state");
  if (state) {
    try {
      var answers = JSON.parse(state.textContent);
      Object.keys(answers).forEach(function (id) {
        var form = document.querySelector('form.quiz[data-quiz="' + CSS.escape(id) + '"]');
        if (!form) return;
        (answers[id].choices || []).forEach(function (i) {
          var input = form.querySelector('input[name="choice"][value="' + i + '"]');
          if (input) input.checked = true;
        });
        var fb = form.querySelector(".quiz-feedback");
        if (fb) fb.textContent = answers[id].correct ? "You answered this one right before." : "Your last answer was not right yet.";
      });
    } catch (e) { /* ignore */ }
  }

  // ---- Answer editor ---------------------------------------------------
  var editor = $("#editor");
  if (editor) {
    var gutter = $(".editor .gutter");
    var status = $("#syntax-status");
    var lang = editor.closest(".editor").getAttribute("data-language");
    var escaped = false;
    var renderGutter = function () {
      var n = editor.value.split("\n").length, out = [];
      for (var i = 1; i <= n; i++) out.push(i);
      gutter.textContent = out.join("\n");
      gutter.scrollTop = editor.scrollTop;
    };
    var check = function () {
      var err = lang === "yaml" ? yamlProblem(editor.value) : jsonProblem(editor.value);
      status.textContent = err ? err : (lang === "yaml" ? "YAML looks well-formed." : "JSON is well-formed.");
      status.className = "syntax " + (err ? "bad" : "ok");
    };
    editor.addEventListener("input", function () { renderGutter(); check(); });
    editor.addEventListener("scroll", function () { gutter.scrollTop = editor.scrollTop; });
    editor.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { escaped = true; return; }
      if (ev.key !== "Tab" || escaped) { if (ev.key !== "Tab") escaped = false; return; }
      ev.preventDefault();
      var v = editor.value, s = editor.selectionStart, e = editor.selectionEnd, ind = "  ";
      var lineStart = v.lastIndexOf("\n", s - 1) + 1;
      if (s === e && !ev.shiftKey) {
        editor.setRangeText(ind, s, e, "end");
      } else {
        var block = v.slice(lineStart, e);
        var changed = ev.shiftKey ? block.replace(/^ {1,2}/gm, "") : block.replace(/^/gm, ind);
        editor.setRangeText(changed, lineStart, e, "select");
      }
      editor.dispatchEvent(new Event("input"));
    });
    editor.addEventListener("blur", function () { escaped = false; });
    renderGutter(); check();
  }
  function lineOf(text, offset) { return text.slice(0, offset).split("\n").length; }
  function jsonProblem(text) {
    if (!text.trim()) return "The answer is empty.";
    try { JSON.parse(text); return ""; } catch (e) {
      var m = /position (\d+)/.exec(e.message), l = /line (\d+)/.exec(e.message);
      var where = l ? " (line " + l[1] + ")" : m ? " (line " + lineOf(text, +m[1]) + ")" : "";
      return "Not valid JSON yet" + where + ": " + e.message.replace(/^JSON\.parse: /, "");
    }
  }
  function yamlProblem(text) {
    if (!text.trim()) return "The answer is empty.";
    var lines = text.split("\n"), stack = [];
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (/^\s*\t/.test(line)) return "Line " + (i + 1) + ": YAML does not allow tabs for indentation; use spaces.";
      var s = line.replace(/#.*$/, "").replace(/"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'/g, "");
      if (/["']/.test(s)) return "Line " + (i + 1) + ": a quote is not closed.";
      for (var j = 0; j < s.length; j++) {
        var ch = s[j];
        if (ch === "[" || ch === "{") stack.push({ ch: ch, line: i + 1 });
        if (ch === "]" || ch === "}") {
          var top = stack.pop();
          if (!top || (top.ch === "[") !== (ch === "]")) return "Line " + (i + 1) + ": '" + ch + "' does not match an opening bracket.";
        }
      }
    }
    if (stack.length) return "Line " + stack[stack.length - 1].line + ": '" + stack[stack.length - 1].ch + "' is never closed.";
    return "";
  }

  // ---- Submitting and following a grading -----------------------------
  var form = $("#submit-form");
  var live = $("#live-status"), area = $("#result-area");
  function tableBody(form) {
    var cells = {};
    $all('input[type="radio"]:checked', form).forEach(function (r) {
      var parts = r.name.split(".");
      if (parts[0] !== "cell" || parts.length !== 3) return;
      (cells[parts[1]] = cells[parts[1]] || {})[parts[2]] = r.value;
    });
    return JSON.stringify({ cells: cells }, null, 2);
  }
  function say(text) { if (live) live.textContent = text; }
  // ellipsis ends a status line once, whatever the grader's words end with.
  function ellipsis(text) { return String(text).replace(/(\.\.\.|…)+\s*$/, "") + "…"; }
  // swapIn replaces the result area (the verdict, the attempts) and moves
  // the new standing into the header badge.
  function swapIn(html) {
    area.innerHTML = html;
    var next = $("#score-next", area), badge = $("#score-badge");
    if (next && badge) badge.innerHTML = next.innerHTML;
    markCells();
  }
  // markCells marks the grid cells the shown verdict failed, as the server
  // does for a page it renders.
  function markCells() {
    var wrong = {};
    $all('#result .check .field a[href^="#cell-"]', area).forEach(function (a) { wrong[a.getAttribute("href").slice(1)] = true; });
    $all("table.grid td[id]").forEach(function (td) {
      var on = !!wrong[td.id], group = td.querySelector('[role="radiogroup"]');
      td.classList.toggle("cell-wrong", on);
      if (group) {
        var label = (group.getAttribute("aria-label") || "").replace(/ \(not right yet\)$/, "");
        group.setAttribute("aria-label", on ? label + " (not right yet)" : label);
      }
    });
  }
  var lostNote = null;
  function connectionLost(lost) {
    if (lost && !lostNote) {
      lostNote = el("p", "banner warn stream-lost", "Connection lost — retrying…");
      lostNote.setAttribute("role", "alert");
      area.parentNode.insertBefore(lostNote, area);
    } else if (!lost && lostNote) {
      lostNote.remove();
      lostNote = null;
    }
  }
  function checkRow(li, c) {
    li.className = "check " + c.status; li.innerHTML = "";
    var h = el("div", "check-head");
    h.appendChild(el("span", "status-icon", c.status === "pass" ? "✓" : c.status === "fail" ? "✗" : c.status === "skip" ? "–" : "!"));
    h.appendChild(el("span", "check-title", c.title)); h.appendChild(el("span", "visually-hidden", ": " + c.status));
    li.appendChild(h);
    if (c.message) li.appendChild(el("p", "message", c.message));
  }
  function follow(eventsURL, resultURL) {
    if (!window.EventSource) { location.reload(); return; }
    var button = $("#submit-button");
    if (button) button.disabled = true;
    var rows = {}, finished = false;
    var list = function () { return $("#live-checks", area); };
    var es = new EventSource(eventsURL);
    // finish shows the verdict from the store. A verdict that cannot be
    // fetched, or a grading still going on after the stream was refused,
    // is followed again shortly, with the page saying it is retrying.
    var finish = function () {
      if (finished) return;
      finished = true;
      es.close();
      var again = function () {
        connectionLost(true);
        setTimeout(function () { follow(eventsURL, resultURL); }, 3000);
      };
      fetch(resultURL, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.text();
      }).then(function (html) {
        swapIn(html);
        if ($("#result[data-follow]", area)) { again(); return; }
        connectionLost(false);
        say("Graded.");
        if (button) button.disabled = false;
        var res = $("#result");
        if (res) { res.focus({ preventScroll: true }); res.scrollIntoView({ block: "start" }); }
      }).catch(again);
    };
    es.onopen = function () { connectionLost(false); };
    es.onmessage = function (ev) {
      connectionLost(false);
      var u; try { u = JSON.parse(ev.data); } catch (e) { return; }
      var ol = list();
      if (u.type === "queued") {
        say(u.position > 0 ? "Queued: " + u.position + " ahead of you…" : "Queued: next in line…");
      } else if (u.type === "running") {
        say("Running: " + ellipsis(u.title || u.checkId || "grader"));
        if (u.checkId && ol && !rows[u.checkId]) {
          var li = el("li", "check running"); var head = el("div", "check-head");
          head.appendChild(el("span", "status-icon", "…")); head.appendChild(el("span", "check-title", u.title || u.checkId));
          li.appendChild(head); ol.appendChild(li); rows[u.checkId] = li;
        }
      } else if (u.type === "progress") {
        say(ellipsis(u.message || "working"));
        var r = rows[u.checkId]; if (r) { var p = r.querySelector(".message") || r.appendChild(el("p", "message")); p.textContent = u.message; }
      } else if (u.type === "check" && u.check) {
        var row = rows[u.check.id];
        if (!row && ol) { row = el("li", "check"); ol.appendChild(row); rows[u.check.id] = row; }
        if (row) checkRow(row, u.check);
      } else if (u.type === "done") {
        say("Verdict: " + (u.verdict === "pass" ? "passed" : u.verdict === "fail" ? "not yet" : "could not be graded") + ".");
        finish();
      }
    };
    es.onerror = function () {
      if (finished) return;
      // CLOSED: the server refused the stream; show the result as it stands.
      // CONNECTING: the browser is trying again by itself; say so.
      if (es.readyState === EventSource.CLOSED) { finish(); return; }
      connectionLost(true);
    };
  }
  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = new FormData(form);
      if (form.getAttribute("data-kind") === "table") {
        $all('input[type="radio"]', form).forEach(function (r) { data.delete(r.name); });
        data.set("body", tableBody(form));
      }
      say("Sending…");
      fetch(form.action, { method: "POST", body: data, headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
        .then(function (r) {
          if (!r.ok) { say(r.body.error || "The answer could not be sent."); return; }
          say("Queued…");
          if (history.replaceState) history.replaceState(null, "", "?s=" + r.body.id + "#result");
          // The new attempt takes the old verdict's place at once.
          return fetch(r.body.result, { credentials: "same-origin" }).then(function (p) { return p.text(); }).then(function (html) {
            swapIn(html);
            // A grading that ended before this fetch is shown as it is:
            // following it would only swap the same verdict in again.
            if ($("#result[data-follow]", area)) { follow(r.body.events, r.body.result); return; }
            say("Graded.");
            var res = $("#result");
            if (res) { res.focus({ preventScroll: true }); res.scrollIntoView({ block: "start" }); }
          });
        })
        .catch(function () { say("The answer could not be sent; check your connection."); });
    });
  }
  var pending = $("#result[data-follow]");
  if (pending && area) follow(pending.getAttribute("data-follow"), pending.getAttribute("data-result"));

  // ---- Confirm a change of role -----------------------------------------
  $all("form.role-form").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      var sel = f.querySelector("select"), label = f.querySelector("label");
      if (!sel) return;
      var who = label ? label.textContent.replace(/^Role of /, "") : "this account";
      if (!window.confirm("Make " + who + " " + (/^[aeiou]/i.test(sel.value) ? "an " : "a ") + sel.value + "?")) ev.preventDefault();
    });
  });

  // ---- Live reload while an author edits the course -------------------
  var watch = document.body.getAttribute("data-watch");
  var key = "coldstart-scroll:" + location.pathname;
  try {
    var saved = sessionStorage.getItem(key);
    if (saved !== null) { sessionStorage.removeItem(key); window.scrollTo(0, +saved); }
  } catch (e) { /* storage may be off */ }
  if (watch && window.EventSource) {
    var rs = new EventSource(watch);
    rs.addEventListener("reload", function () {
      try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) { /* ignore */ }
      location.reload();
    });
  }
})();
