// The floor-plan editor: a click on the plan writes its plan coordinates into the add-marker
// form's x and y (typed by hand without JavaScript) and shows a pin there.
(function () {
  var plan = document.querySelector("[data-plan]");
  var form = document.querySelector("[data-form=add-marker]");
  if (!plan || !form) return;
  var aspect = parseInt(plan.getAttribute("data-aspect"), 10) || 600;
  var pin = plan.querySelector("[data-pin]");
  var x = form.querySelector("[data-coord=x]");
  var y = form.querySelector("[data-coord=y]");
  plan.addEventListener("click", function (event) {
    var box = plan.getBoundingClientRect();
    var px = Math.round(((event.clientX - box.left) / box.width) * 1000);
    var py = Math.round(((event.clientY - box.top) / box.height) * aspect);
    x.value = Math.min(1000, Math.max(0, px));
    y.value = Math.min(aspect, Math.max(0, py));
    pin.hidden = false;
    pin.style.left = (x.value / 10) + "%";
    pin.style.top = (y.value / aspect * 100) + "%";
    var label = form.querySelector("input[type=text]");
    if (label) label.focus();
  });
})();
