// A single-page app in plain JS: one document, views swapped by a router on
// history.pushState, links intercepted, the back button handled. Pulso's URL
// rules (`urls` in pulso.toml) see these navigations without any call here.
(function () {
  var views = {
    '/app/': '<h1>Welcome</h1><p>Your projects at a glance.</p>',
    '/app/plans': '<h1>Plans</h1><p>Free, Pro and Team.</p>',
    '/app/account': '<h1>Your account</h1><p id="who">Signed out.</p>' +
      '<button type="button" id="sign-in">Sign in as a Pro user</button>'
  };
  var render = function () {
    var path = location.pathname;
    document.getElementById('view').innerHTML = views[path] || '<h1>Not found</h1>';
    document.querySelectorAll('[data-link]').forEach(function (a) {
      if (a.getAttribute('href') == path) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    var signIn = document.getElementById('sign-in');
    if (signIn) signIn.onclick = function () {
      // Traits feed the surveys' targeting (`when` in pulso.toml).
      pulso('identify', 'user-42', { plan: 'pro', seats: 5 });
      document.getElementById('who').textContent = 'Signed in as user-42 (Pro).';
    };
  };
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('[data-link]');
    if (!a) return;
    e.preventDefault();
    history.pushState(null, '', a.getAttribute('href'));
    render();
  });
  window.addEventListener('popstate', render);
  render();
})();
