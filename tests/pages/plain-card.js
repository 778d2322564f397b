// The benchmark's reference: the card's first screen (question, 0-10 scale,
// end labels, close button) in plain JS, the same markup in a shadow root with
// the same stylesheet, from the same configuration request. No follow-ups, no
// outbox, no locales: what a hand-written card would need at least.
window.plainCard = function (collector, site, css) {
  return fetch(collector + '/v1/sites/' + site + '/config').then(function (r) { return r.json() }).then(function (c) {
    var survey = c.surveys.filter(function (s) { return s.steps.indexOf('checkout_done') >= 0 })[0];
    var texts = survey.texts.en;
    var host = document.createElement('plain-survey');
    var root = host.attachShadow({ mode: 'open' });
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
    var card = document.createElement('div');
    card.className = 'card';
    card.setAttribute('role', 'dialog');
    card.setAttribute('aria-label', texts.question);
    var question = document.createElement('p');
    question.className = 'question';
    question.id = 'q';
    question.textContent = texts.question;
    var scale = document.createElement('div');
    scale.className = 'scale';
    scale.setAttribute('role', 'radiogroup');
    scale.setAttribute('aria-labelledby', 'q');
    for (var n = 0; n <= 10; n++) {
      var label = document.createElement('label');
      label.className = 'score';
      var input = document.createElement('input');
      input.type = 'radio';
      input.name = 'score';
      input.value = n;
      var span = document.createElement('span');
      span.textContent = n;
      label.append(input, span);
      scale.append(label);
    }
    var ends = document.createElement('div');
    ends.className = 'ends';
    ends.innerHTML = '<span>Not at all likely</span><span>Extremely likely</span>';
    var close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.setAttribute('aria-label', 'Close');
    close.textContent = '×';
    close.onclick = function () { host.remove() };
    card.append(close, question, scale, ends);
    root.append(card);
    document.body.append(host);
  });
};
