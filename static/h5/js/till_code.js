// Replace the till code with a fresh one from the server every `data-refresh` seconds.
(function () {
  var box = document.getElementById("till-code");
  if (!box) { return; }
  var seconds = parseInt(box.getAttribute("data-refresh"), 10) || 60;
  function refresh() {
    fetch(box.getAttribute("data-url"), {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        ["barcode_svg", "qr_svg"].forEach(function (part) {
          var element = box.querySelector("[data-part=" + part + "]");
          if (element) { element.innerHTML = data[part]; }  // 简化版 shows no barcode
        });
        var digits = box.querySelector("[data-part=code]");
        digits.textContent = data.code;
        digits.setAttribute("data-code", data.code);
      })
      .catch(function () { /* keep the current code; the next tick tries again */ });
  }
  setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { refresh(); }
  });
})();
