// "Events landed" follows the store: every two seconds it reads events.json and lists the events again,
// as text (an event's fields are what a visitor sent, never markup).
(function () {
  var list = document.getElementById('landed');
  var status = document.getElementById('landed-status');

  function item(event) {
    var li = document.createElement('li');
    var time = li.appendChild(document.createElement('time'));
    time.dateTime = event.day + 'T' + event.time + 'Z';
    time.textContent = event.time;
    li.appendChild(document.createElement('span')).className = 'kind';
    li.lastChild.textContent = event.source + ' · ' + event.kind;
    li.appendChild(document.createElement('span')).className = 'details';
    li.lastChild.textContent = event.details;
    return li;
  }

  function refresh() {
    fetch('events.json', {cache: 'no-store'}).then(function (response) {
      return response.json();
    }).then(function (found) {
      list.replaceChildren.apply(list, found.events.map(item));
      status.textContent = 'live, ' + new Date().toLocaleTimeString();
    }).catch(function () {
      status.textContent = 'the collector does not answer; trying again';
    }).then(function () {
      setTimeout(refresh, 2000);
    });
  }

  setTimeout(refresh, 2000);
})();
