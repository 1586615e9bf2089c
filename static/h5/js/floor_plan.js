// A brand's page: scroll each plan sideways so the highlighted shop is in the middle.
(function () {
  document.querySelectorAll("[data-plan-scroll]").forEach(function (box) {
    var shop = box.querySelector(".fp-shop_on rect");
    if (!shop) return;
    var boxRect = box.getBoundingClientRect();
    var shopRect = shop.getBoundingClientRect();
    var centre = shopRect.left - boxRect.left + box.scrollLeft + shopRect.width / 2;
    box.scrollLeft = Math.max(0, centre - box.clientWidth / 2);
  });
})();
