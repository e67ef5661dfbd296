// Sakura Living demo shop. The coupon button is broken on purpose: click it a few times
// and the session shows rage clicks on /checkout in the digital pages.
(function () {
  "use strict";
  var add = document.getElementById("add-to-cart");
  if (add) add.addEventListener("click", function () {
    document.getElementById("cart-note").hidden = false;
  });
  var login = document.getElementById("demo-login");
  if (login) login.addEventListener("click", function () {
    if (window.cxloop && window.cxloop.identify) window.cxloop.identify("web-demo-0001");
  });
})();
