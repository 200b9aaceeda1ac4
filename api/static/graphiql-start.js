// Starts GraphiQL against this server's endpoint (data-endpoint on #graphiql).
// Requests carry the browser's session cookie (credentials: same-origin); an
// Authorization header, or the X-CSRF-Token that cookie-authenticated mutations
// need, goes into GraphiQL's "Headers" tab. Headers are not stored in the browser.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");

  function fetchWithSession(input, init) {
    return fetch(input, Object.assign({}, init, { credentials: "same-origin" }));
  }

  var fetcher = GraphiQL.createFetcher({ url: endpoint, fetch: fetchWithSession });
  var defaultQuery = [
    "# Kundenportal API. Every type, field and error code is described in the",
    "# documentation explorer (book icon, top left).",
    "#",
    "# Logged in to the portal in this browser? The session cookie is sent along.",
    "# Otherwise set a header in the Headers tab below:",
    '#   {"Authorization": "Bearer <session token>"}',
    "# Mutations authenticated by the cookie also need",
    '#   {"X-CSRF-Token": "<the session\'s CSRF token>"}',
    "",
    "query About {",
    "  apiVersion",
    "}",
    "",
  ].join("\n");

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    })
  );
})();
