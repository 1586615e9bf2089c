/* 品牌活动 form: the text's character counter, and only the chosen store's brands in the
   brand select. The form works without it; the server checks both. */
(function () {
  "use strict";
  var form = document.querySelector("[data-activity-form]");
  if (!form) return;

  var body = form.querySelector("textarea[name=body]");
  var counter = form.querySelector("[data-counter]");
  if (body && counter) {
    var max = parseInt(body.getAttribute("data-count"), 10) || 0;
    var count = function () {
      counter.textContent = body.value.length;
      counter.parentNode.classList.toggle("act-counter_over", max > 0 && body.value.length > max);
    };
    body.addEventListener("input", count);
    count();
  }

  var store = form.querySelector("select[name=store]");
  var brand = form.querySelector("select[name=brand]");
  if (store && brand) {
    var filter = function () {
      Array.prototype.forEach.call(brand.options, function (option) {
        var stores = option.getAttribute("data-stores");
        var here = !stores || !store.value || stores.split(" ").indexOf(store.value) >= 0;
        option.hidden = !here;
        option.disabled = !here;
        if (!here && option.selected) brand.value = "";
      });
    };
    store.addEventListener("change", filter);
    filter();
  }
})();
