/* 发送优惠券: show only the fields of the chosen audience (all of them show without JS). */
(function () {
  var form = document.getElementById("coupon-send");
  if (!form) return;
  function update() {
    var chosen = form.querySelector("input[name=audience]:checked");
    var value = chosen ? chosen.value : "cards";
    form.querySelectorAll("[data-audience]").forEach(function (box) {
      box.hidden = box.getAttribute("data-audience") !== value;
    });
  }
  form.addEventListener("change", update);
  update();
})();
