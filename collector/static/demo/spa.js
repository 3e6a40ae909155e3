// A router in a few lines: buttons change the URL with pushState (or replaceState) and the view.
document.addEventListener('click', function (e) {
  var route = e.target.getAttribute && e.target.getAttribute('data-route');
  if (!route) return;
  history[e.target.getAttribute('data-replace') ? 'replaceState' : 'pushState']({}, '', route);
  document.getElementById('view').textContent = route;
});
function show() {
  // The shop's home is /demo/spa.html; every other path is a route, also when the page is loaded on it.
  document.getElementById('view').textContent = /\/spa\.html$/.test(location.pathname) ? 'Home' : location.pathname;
}
window.addEventListener('popstate', show);
show();
