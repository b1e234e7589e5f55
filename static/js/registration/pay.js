// The card form: Stripe.js's Card Element, and confirmCardPayment on Pay.
// The server confirms the seat only after reading the payment back from Stripe (return page).
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) { return; }
  var button = document.getElementById("pay-button");
  var errors = document.getElementById("card-errors");
  var label = button.dataset.label || button.textContent;
  var FAILED = "The payment did not go through. Check the card details, or try another card.";

  function showError(message) { errors.textContent = message; errors.hidden = false; }
  function clearError() { errors.textContent = ""; errors.hidden = true; }
  function ready() { button.disabled = false; button.textContent = label; }

  if (typeof window.Stripe !== "function") {
    showError("The card form could not load. Check your internet connection and reload this page.");
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  // Stripe passes {complete, error, …}; some implementations pass nothing at all.
  card.on("change", function (e) {
    if (e && e.error) { showError(e.error.message); } else { clearError(); }
  });

  var holdEnded = false;
  document.addEventListener("hold-ended", function () {
    holdEnded = true;
    button.disabled = true;
  });

  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || holdEnded) { return; }
    busy = true;
    button.disabled = true;
    button.textContent = "Paying…";
    clearError();
    stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        var intent = result && result.paymentIntent;
        if (intent && (intent.status === "succeeded" || intent.status === "processing")) {
          window.location.assign(form.dataset.returnUrl + "?payment_intent=" + encodeURIComponent(intent.id));
          return;
        }
        showError((result && result.error && result.error.message) || FAILED);
        busy = false;
        if (!holdEnded) { ready(); }
      }, function () {
        showError(FAILED);
        busy = false;
        if (!holdEnded) { ready(); }
      });
  });
  ready();
})();
