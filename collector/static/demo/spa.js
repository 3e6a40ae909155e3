// A router in a few lines: buttons change the URL with pushState (or replaceState) and the view.
document.addEventListener('click', function (e) {
  var route = e.target.getAttribute && e.target.getAttribute('data-route');
  if (!route) return;
  history[e.target.getAttribute('data-replace') ? 'replaceState' : 'pushState']({}, '', route);
  document.getElementById('view').textContent = route;
});
window.addEventListener('popstate', function () {
  document.getElementById('view').textContent = location.pathname;
});
