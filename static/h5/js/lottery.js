/* 抽奖: tap → POST the draw → the grid or wheel spins while the server draws → it stops on
   the cell of the prize the server returned → a dialog shows the prize. The animation never
   decides anything: it only runs until the answer says where to stop.
   Each tap gets an idempotency key; a retry after a network error sends the same key, so the
   server returns the first draw instead of drawing (and charging) again. */
(function () {
  "use strict";

  var root = document.querySelector("[data-lottery]");
  if (!root) { return; }
  var button = root.querySelector("[data-draw]");
  var refusalBox = root.querySelector("[data-refusal]");
  var texts = root.querySelector("[data-text-won]");
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  var cellCount = parseInt(root.getAttribute("data-cells"), 10) || 1;
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var pendingKey = null; // the key of a draw whose answer never came: reused on the next tap
  var busy = false;

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    // Pages served over plain http (no secure context) have no randomUUID
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // --- The board: a grid (a light runs round the cells) or a wheel (the disc turns) -------
  function gridBoard() {
    var cells = Array.prototype.slice.call(root.querySelectorAll("[data-cell]"));
    var position = -1;
    var timer = null;
    var target = null;
    var stepsLeft = null;
    var done = null;

    function light(index) {
      cells.forEach(function (cell) { cell.classList.remove("h5-lt-cell_on"); });
      cells[index].classList.add("h5-lt-cell_on");
    }
    function step() {
      position = (position + 1) % cells.length;
      light(position);
      var delay = 70;
      if (stepsLeft !== null) {
        stepsLeft -= 1;
        if (stepsLeft <= 0) { timer = null; done(); return; }
        if (stepsLeft < 10) { delay = 70 + (10 - stepsLeft) * 35; }
      }
      timer = setTimeout(step, delay);
    }
    return {
      start: function () {
        target = null; stepsLeft = null;
        if (!timer) { timer = setTimeout(step, 0); }
      },
      stopAt: function (index, callback) {
        target = index;
        done = callback;
        if (reduced) {
          clearTimeout(timer); timer = null; position = index; light(index); callback(); return;
        }
        // at least one more round, then on to the target cell
        stepsLeft = cells.length + ((target - position + cells.length) % cells.length);
        if (!timer) { timer = setTimeout(step, 0); }
      },
      reset: function () {
        clearTimeout(timer); timer = null; stepsLeft = null;
        cells.forEach(function (cell) { cell.classList.remove("h5-lt-cell_on"); });
      }
    };
  }

  function wheelBoard() {
    var disc = root.querySelector("[data-wheel]");
    var angle = 0;
    var frame = null;
    var sweep = 360 / cellCount;

    function spin() {
      angle += 12;
      disc.style.transform = "rotate(" + angle + "deg)";
      frame = window.requestAnimationFrame(spin);
    }
    return {
      start: function () {
        disc.style.transition = "none";
        if (!frame) { frame = window.requestAnimationFrame(spin); }
      },
      stopAt: function (index, callback) {
        window.cancelAnimationFrame(frame); frame = null;
        // the pointer is at the top: cell i's middle is at (i + ½) × sweep clockwise
        var wanted = (360 - (index + 0.5) * sweep) % 360;
        var now = ((angle % 360) + 360) % 360;
        var turn = ((wanted - now) + 360) % 360;
        angle += (reduced ? 0 : 3 * 360) + turn;
        var finished = false;
        var finish = function () {
          if (finished) { return; }
          finished = true;
          callback();
        };
        if (reduced) {
          disc.style.transition = "none";
          disc.style.transform = "rotate(" + angle + "deg)";
          finish();
          return;
        }
        // flush the spinning angle before the eased turn, so the transition starts from it
        disc.getBoundingClientRect();
        disc.style.transition = "transform 3.2s cubic-bezier(.15,.8,.25,1)";
        disc.style.transform = "rotate(" + angle + "deg)";
        disc.addEventListener("transitionend", finish, {once: true});
        setTimeout(finish, 3600); // in case transitionend never fires (hidden tab)
      },
      reset: function () {
        window.cancelAnimationFrame(frame); frame = null;
      }
    };
  }

  var board = root.getAttribute("data-style") === "grid" ? gridBoard() : wheelBoard();

  // --- The dialog --------------------------------------------------------------------------
  var dialog = root.querySelector("[data-dialog]");
  function showDialog(title, prize, message, pickup) {
    dialog.querySelector("[data-dialog-title]").textContent = title;
    var prizeLine = dialog.querySelector("[data-dialog-prize]");
    prizeLine.textContent = prize || "";
    prizeLine.hidden = !prize;
    dialog.querySelector("[data-dialog-message]").textContent = message || "";
    var box = dialog.querySelector("[data-dialog-pickup]");
    box.hidden = !pickup;
    if (pickup) {
      dialog.querySelector("[data-dialog-code]").textContent = pickup.code;
      dialog.querySelector("[data-dialog-until]").textContent =
        pickup.until ? texts.getAttribute("data-text-until") + " " + pickup.until : "";
      dialog.querySelector("[data-dialog-rules]").textContent = pickup.rules || "";
    }
    dialog.hidden = false;
    dialog.querySelector(".weui-dialog").focus();
  }
  dialog.querySelector("[data-dialog-close]").addEventListener("click", function () {
    dialog.hidden = true;
  });
  dialog.querySelector(".weui-mask").addEventListener("click", function () {
    dialog.hidden = true;
  });

  function refuse(reason) {
    button.disabled = true;
    refusalBox.textContent = reason;
    refusalBox.hidden = false;
  }

  function updateFigures(data) {
    root.querySelector("[data-balance]").textContent = data.balance;
    if (data.draws_left !== null && data.draws_left !== undefined) {
      root.querySelector("[data-draws-left]").textContent = data.draws_left;
    }
    Object.keys(data.totals || {}).forEach(function (name) {
      var cell = root.querySelector('[data-total="' + name + '"]');
      if (cell) { cell.textContent = data.totals[name]; }
    });
    Object.keys(data.stock || {}).forEach(function (prizeId) {
      var row = root.querySelector('[data-odds-row="' + prizeId + '"] [data-stock]');
      var left = data.stock[prizeId];
      if (row && left !== null) { row.textContent = row.textContent.replace(/\d+/, left); }
    });
  }

  // --- The draw ----------------------------------------------------------------------------
  function send(key, attempt) {
    return fetch(root.getAttribute("data-draw-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrf,
        "X-Idempotency-Key": key,
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: "key=" + encodeURIComponent(key)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) {
        // a proxy's error page or a CSRF refusal: no draw was answered
        if (response.status >= 500 && attempt < 2) { return send(key, attempt + 1); }
        return {ok: false, data: {error: root.getAttribute("data-msg-network"), code: "http"}};
      }
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }, function () {
      if (attempt < 2) {
        return new Promise(function (resolve) { setTimeout(resolve, 800 * (attempt + 1)); })
          .then(function () { return send(key, attempt + 1); });
      }
      throw new Error("network");
    });
  }

  button.addEventListener("click", function () {
    if (busy || button.disabled) { return; }
    busy = true;
    button.disabled = true;
    root.removeAttribute("data-stopped");
    var key = pendingKey || newKey();
    pendingKey = key;
    board.start();
    send(key, 0).then(function (answer) {
      pendingKey = null;
      var data = answer.data;
      if (!answer.ok) {
        board.reset();
        busy = false;
        button.disabled = false;
        showDialog(texts.getAttribute("data-text-error"), "", data.error);
        if (data.code && data.code !== "http" && data.code !== "bad_key") { refuse(data.error); }
        return;
      }
      board.stopAt(data.index, function () {
        busy = false;
        root.setAttribute("data-stopped", String(data.index));
        updateFigures(data);
        button.disabled = false;
        if (data.refusal) { refuse(data.refusal); }
        showDialog(
          texts.getAttribute(data.won ? "data-text-won" : "data-text-lost"),
          data.won ? data.prize_name : "",
          data.message,
          data.pickup_code
            ? {code: data.pickup_code, until: data.claim_until, rules: data.claim_rules}
            : null
        );
      });
    }).catch(function () {
      // no answer at all: keep the key, so the next tap asks for this same draw again
      board.reset();
      busy = false;
      button.disabled = false;
      showDialog(texts.getAttribute("data-text-error"), "", root.getAttribute("data-msg-network"));
    });
  });

  // --- The winners ticker: loop the list when it is longer than its window ----------------
  var ticker = root.querySelector(".h5-lt-ticker__list_scroll");
  if (ticker) {
    var rows = ticker.children.length;
    Array.prototype.slice.call(ticker.children).forEach(function (item) {
      var copy = item.cloneNode(true);
      copy.setAttribute("aria-hidden", "true");
      copy.removeAttribute("data-winner");
      ticker.appendChild(copy);
    });
    ticker.style.animationDuration = (rows * 2.5) + "s";
  }
})();
