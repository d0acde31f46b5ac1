// The site's only script. Every page works without it; it adds conveniences.
(function () {
  'use strict';
  // An error summary takes the focus, so a screen reader announces it (autofocus does this too, where honoured).
  var summary = document.querySelector('.error-summary');
  if (summary && document.activeElement !== summary) summary.focus();

  // Fields that apply to one choice only (data-show-when="name=value"): hidden for the other choices.
  var conditional = document.querySelectorAll('[data-show-when]');
  function refresh() {
    conditional.forEach(function (el) {
      var rule = el.getAttribute('data-show-when').split('=');
      var chosen = document.querySelector('input[name="' + rule[0] + '"]:checked');
      el.hidden = !!chosen && chosen.value !== rule[1];
    });
  }
  if (conditional.length > 0) {
    document.addEventListener('change', refresh);
    refresh();
  }

  // A suggested amount (a radio button) fills in the amount box; typing another amount clears the choice.
  var amount = document.querySelector('input[data-amount-box]');
  if (amount) {
    document.querySelectorAll('input[name="suggested"]').forEach(function (radio) {
      radio.addEventListener('change', function () {
        if (radio.checked) amount.value = radio.value;
      });
    });
    amount.addEventListener('input', function () {
      document.querySelectorAll('input[name="suggested"]').forEach(function (radio) {
        radio.checked = radio.value === amount.value.trim();
      });
    });
  }

  // A payment still processing (Bacs Direct Debit): the page asks again until it has an answer.
  var pending = document.querySelector('[data-refresh-after]');
  if (pending) {
    setTimeout(function () {
      window.location.reload();
    }, Number(pending.getAttribute('data-refresh-after')) * 1000);
  }
})();
