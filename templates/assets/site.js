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

  // The widget preview on /widget fits its height, as the embed code does on other sites.
  var preview = document.querySelector('iframe[data-fits-widget]');
  if (preview) {
    window.addEventListener('message', function (e) {
      if (e.origin === window.location.origin && e.data && e.data.type === 'reader-coop:widget-height') preview.style.height = e.data.height + 'px';
    });
  }

})();
